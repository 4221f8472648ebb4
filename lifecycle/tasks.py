"""Celery tasks of the lifecycle engine: thin, idempotent, retried with backoff.

acks_late + task_reject_on_worker_lost (crm/settings.py): a worker that dies mid-run
leaves the message unacknowledged, Redis redelivers it after the visibility timeout
and the run resumes where the database says it stopped (lifecycle.pipeline).
"""
from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError, InterfaceError
from django.utils import timezone

from .models import ScanRun
from .pipeline import nightly_run_for, scan_lifecycle
from .retention import escalate_overdue_tasks

RETRY = {"bind": True, "acks_late": True, "autoretry_for": (DatabaseError, InterfaceError),
         "retry_backoff": 5, "retry_backoff_max": 600, "retry_jitter": True,
         "max_retries": 5}


def _summary(run: ScanRun) -> dict[str, Any]:
    return {"run": run.pk, "scanned": run.scanned, "scored": run.scored, "moved": run.moved,
            "moved_into_risk": run.moved_into_risk, "moved_out_of_risk": run.moved_out_of_risk,
            "tasks_created": run.tasks_created, "errors": len(run.errors or [])}


def _share(run: ScanRun, *, chunk_size: int, workers: int | None) -> ScanRun:
    """Run `run` here as worker 0 and hand workers 1..n-1 to the queue (same run).

    Each helper is a task of its own, so a dead helper is redelivered like any other;
    whoever is last out finishes the run (lifecycle.pipeline).
    """
    workers = settings.LIFECYCLE_SCAN_WORKERS if workers is None else max(workers, 1)
    for i in range(1, workers):
        scan_lifecycle_task.apply_async(kwargs={"run_id": run.pk, "chunk_size": chunk_size,
                                                "worker": i, "workers": workers})
    return scan_lifecycle(run=run, chunk_size=chunk_size, worker=0, workers=workers)


@shared_task(**RETRY)
def scan_lifecycle_task(self: Any, run_id: int | None = None, branch_id: int | None = None,
                        chunk_size: int | None = None, worker: int | None = None,
                        workers: int | None = None) -> dict[str, Any]:
    """Run (or resume) the full job on a given run (API, admin) or a new one.

    Safe to retry or redeliver: accounts already scored in the run are skipped. With
    `worker` given this is one helper of a shared run; otherwise it shares the run out.
    """
    run = ScanRun.objects.filter(pk=run_id).first() if run_id else None
    if run is None:
        run = ScanRun.objects.create(branch_id=branch_id, source=ScanRun.Source.SCHEDULE)
    chunk_size = chunk_size or settings.LIFECYCLE_CHUNK_SIZE
    if worker is not None:
        return _summary(scan_lifecycle(run=run, chunk_size=chunk_size, worker=worker,
                                       workers=workers or 1))
    return _summary(_share(run, chunk_size=chunk_size, workers=workers))


@shared_task(**RETRY)
def nightly_lifecycle_task(self: Any, chunk_size: int | None = None,
                           workers: int | None = None) -> dict[str, Any]:
    """The beat schedule's entry point: today's one run, created once, resumed if needed.

    Fired twice (two beats, a redelivery) it joins the same run (unique key), so the
    night's work is done once.
    """
    run = nightly_run_for(timezone.localdate())
    return _summary(_share(run, chunk_size=chunk_size or settings.LIFECYCLE_CHUNK_SIZE,
                           workers=workers))


@shared_task(**RETRY)
def escalate_overdue_tasks_task(self: Any) -> int:
    """Hand overdue retention tasks to the branch manager (also part of the nightly run)."""
    return escalate_overdue_tasks()

"""Celery tasks of the lifecycle engine: thin, idempotent, retried with backoff.

acks_late + task_reject_on_worker_lost (crm/settings.py): a worker that dies mid-run
leaves the message unacknowledged, Redis redelivers it after the visibility timeout
and the run resumes where the database says it stopped (lifecycle.pipeline).
"""
from __future__ import annotations

from typing import Any

from celery import shared_task
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


@shared_task(**RETRY)
def scan_lifecycle_task(self: Any, run_id: int | None = None, branch_id: int | None = None,
                        chunk_size: int = 500) -> dict[str, Any]:
    """Run (or resume) the full job on a given run (API, admin) or a new one.

    Safe to retry or redeliver: accounts already scored in the run are skipped.
    """
    run = ScanRun.objects.filter(pk=run_id).first() if run_id else None
    if run is None:
        run = ScanRun.objects.create(branch_id=branch_id, source=ScanRun.Source.SCHEDULE)
    return _summary(scan_lifecycle(run=run, chunk_size=chunk_size))


@shared_task(**RETRY)
def nightly_lifecycle_task(self: Any, chunk_size: int = 500) -> dict[str, Any]:
    """The beat schedule's entry point: today's one run, created once, resumed if needed.

    Fired twice (two beats, a redelivery) it joins the same run (unique key), so the
    night's work is done once.
    """
    run = nightly_run_for(timezone.localdate())
    return _summary(scan_lifecycle(run=run, chunk_size=chunk_size))


@shared_task(**RETRY)
def escalate_overdue_tasks_task(self: Any) -> int:
    """Hand overdue retention tasks to the branch manager (also part of the nightly run)."""
    return escalate_overdue_tasks()

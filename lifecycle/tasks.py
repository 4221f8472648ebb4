"""Celery tasks of the lifecycle engine: thin, idempotent, retried with backoff."""
from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import DatabaseError

from .models import ScanRun
from .services import scan_lifecycle


@shared_task(bind=True, acks_late=True, autoretry_for=(DatabaseError,), retry_backoff=True,
             max_retries=3)
def scan_lifecycle_task(self: Any, run_id: int | None = None, branch_id: int | None = None,
                        chunk_size: int = 500) -> dict[str, Any]:
    """Run the lifecycle scan (the same code as `manage.py scan_lifecycle`).

    Safe to retry or redeliver: the rules read facts, so a repeated run moves nothing
    that an earlier attempt already moved.
    """
    run = ScanRun.objects.filter(pk=run_id).first() if run_id else None
    if run is None:
        run = ScanRun.objects.create(branch_id=branch_id, source=ScanRun.Source.SCHEDULE)
    run = scan_lifecycle(run=run, chunk_size=chunk_size)
    return {"run": run.pk, "scanned": run.scanned, "moved": run.moved,
            "errors": len(run.errors)}

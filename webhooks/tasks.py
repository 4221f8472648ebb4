"""Celery side of webhooks: send a batch, retry the failures with exponential backoff."""
from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import DatabaseError, InterfaceError
from django.utils import timezone

from . import services


@shared_task(bind=True, acks_late=True, autoretry_for=(DatabaseError, InterfaceError),
             retry_backoff=5, retry_backoff_max=600, max_retries=50)
def deliver_task(self: Any, delivery_ids: list[int]) -> dict[str, int]:
    """POST the batch; re-schedule itself for the deliveries that failed and may retry.

    Returns counts for the pass that ended the task (a retried task reports its own).

    The attempt count lives on each delivery row (WEBHOOKS_MAX_ATTEMPTS), so a redelivered
    or duplicated message cannot send a delivered event again or retry past the limit;
    Celery's own max_retries is only a safety net above it.
    """
    ids = list(delivery_ids)
    result = services.deliver(ids)
    while result.retry and self.request.is_eager:
        # Eager mode (quickstart, unit tests) has no broker to wait on and would propagate
        # Celery's Retry out of .delay(): retry in place, as students.tasks does.
        result = services.deliver(result.retry)
    if result.retry:
        wait = 0.0
        if result.next_at is not None:
            wait = max(0.0, (result.next_at - timezone.now()).total_seconds())
        # Same task, only the failed ids; countdown = the planned backoff.
        raise self.retry(args=[result.retry], countdown=wait)
    return {"delivered": len(result.delivered), "failed": len(result.failed)}


@shared_task
def resend_stale_task() -> int:
    """Every few minutes (beat): deliveries whose retry message was lost are queued again."""
    return services.resend_stale()

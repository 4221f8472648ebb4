"""Housekeeping tasks of the core app (scheduled in django_celery_beat by migration)."""
from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def purge_idempotency_keys_task() -> int:
    """Nightly: forget Idempotency-Key answers older than IDEMPOTENCY_KEY_RETENTION_DAYS."""
    from crm.api.idempotency import purge_expired_keys

    return purge_expired_keys()

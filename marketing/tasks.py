"""Celery tasks of the marketing app: thin, idempotent, retried with backoff."""
from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import DatabaseError

from .services import prospects_sync, referral_rewards_refresh, release_idle_leads


@shared_task(bind=True, acks_late=True, autoretry_for=(DatabaseError,), retry_backoff=True,
             max_retries=3)
def release_idle_leads_task(self: Any) -> int:
    """Nightly: idle private leads go back to the public pool. Running it twice releases
    nothing more (each release is a conditional update)."""
    return release_idle_leads()


@shared_task(bind=True, acks_late=True, autoretry_for=(DatabaseError,), retry_backoff=True,
             max_retries=3)
def sync_prospects_task(self: Any, branch_id: int | None = None) -> dict[str, int]:
    """Hourly: prospect rows for new families, stages from attendance and contracts,
    referral rewards earned. Every step reads facts, so a rerun changes nothing."""
    result = prospects_sync(branch_id=branch_id)
    result["rewards_earned"] = referral_rewards_refresh()
    return result

"""Celery tasks: thin wrappers that take ids and call services (STYLE.md: tasks call services)."""
from __future__ import annotations

from celery import shared_task
from django.conf import settings

from crm.messaging import MessagingError


def _backoff(retries: int) -> int:
    """Seconds before retry n (0-based): 30 s, 60 s, 120 s ... capped at an hour."""
    base = getattr(settings, "MESSAGING_RETRY_BACKOFF", 30)
    return int(min(base * (2 ** retries), 3600))


@shared_task(bind=True, max_retries=None, acks_late=True)
def send_message_task(self, log_id: int) -> str:
    """Send one logged message; a backend error is retried with exponential backoff."""
    from students.services.notices import message_fail, message_send

    limit = getattr(settings, "MESSAGING_MAX_RETRIES", 5)
    retries = self.request.retries or 0
    while True:
        try:
            return message_send(log_id=log_id)
        except MessagingError as exc:
            if retries >= limit:
                message_fail(log_id=log_id, error=f"gave up after {limit + 1} attempts: {exc}")
                return "failed"
            if self.request.is_eager:
                # Eager mode (quickstart, unit tests) propagates Celery's Retry exception out
                # of .delay(); retry in place instead, without waiting.
                retries += 1
                continue
            raise self.retry(exc=exc, countdown=_backoff(retries)) from exc


@shared_task(acks_late=True)
def expire_hours_task() -> int:
    """Nightly (02:30 Asia/Shanghai, scheduled by migration in django_celery_beat)."""
    from students.services import contracts_expire

    return contracts_expire()


@shared_task(acks_late=True)
def expiry_reminder_task() -> int:
    """Daily (09:00 Asia/Shanghai, scheduled by migration): renewal reminders to the
    deciding guardians of contracts about to expire; idempotent per contract."""
    from students.services.reminders import expiry_reminders_send

    return expiry_reminders_send()

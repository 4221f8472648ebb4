"""Idempotency keys are purged after the retention period by a task the beat schedule runs."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from crm.models import IdempotencyKey
from crm.tasks import purge_idempotency_keys_task
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def key(user, name: str, age: dt.timedelta) -> IdempotencyKey:
    row = IdempotencyKey.objects.create(user=user, key=name, endpoint="/api/v1/x/",
                                        request_hash="h", status_code=201)
    IdempotencyKey.objects.filter(pk=row.pk).update(created_at=timezone.now() - age)
    return row


def test_keys_older_than_the_retention_are_deleted_and_recent_ones_kept(settings):
    settings.IDEMPOTENCY_KEY_RETENTION_DAYS = 7
    user = UserFactory()
    key(user, "old", dt.timedelta(days=7, minutes=1))
    key(user, "recent", dt.timedelta(days=6, hours=23))

    assert purge_idempotency_keys_task.delay().get() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["recent"]


def test_the_purge_and_the_webhook_sweeper_are_in_the_beat_schedule():
    purge = PeriodicTask.objects.get(task="crm.tasks.purge_idempotency_keys_task")
    assert (purge.enabled, purge.crontab.hour, purge.crontab.minute) == (True, "3", "15")
    sweep = PeriodicTask.objects.get(task="webhooks.tasks.resend_stale_task")
    assert (sweep.interval.every, sweep.interval.period) == (10, "minutes")

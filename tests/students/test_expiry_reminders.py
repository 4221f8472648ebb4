"""The renewal reminder before expiry: to the deciding guardians, once per contract."""
import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from crm import messaging
from students.models import MessageLog
from students.tasks import expiry_reminder_task
from tests.students.factories_extra import enrolled, guardian, klass, policy

pytestmark = pytest.mark.django_db


def test_the_decider_hears_once_before_expiry(branch_a, django_capture_on_commit_callbacks):
    policy(branch_a, expiring_within_days=14)
    today = timezone.localdate()
    soon = enrolled(klass(branch_a), valid_until=today + dt.timedelta(days=10))
    later = enrolled(klass(branch_a), valid_until=today + dt.timedelta(days=60))
    decider = guardian(soon.student, decides=True)
    guardian(soon.student, primary=False, decides=False)  # neither: not written to
    guardian(later.student, decides=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert expiry_reminder_task.delay().get() == 1
    assert expiry_reminder_task.delay().get() == 0  # rerun: nothing new
    logs = list(MessageLog.objects.filter(template_code="expiry_soon"))
    assert [log.parent_id for log in logs] == [decider.parent_id]
    assert soon.contract_no in logs[0].text and "40" in logs[0].text
    assert len(messaging.outbox) == 1


def test_a_renewed_or_used_up_contract_is_not_reminded(branch_a):
    today = timezone.localdate()
    group = klass(branch_a)
    old = enrolled(group, valid_until=today + dt.timedelta(days=5))
    enrolled(group, student=old.student, valid_until=today + dt.timedelta(days=200))
    guardian(old.student, decides=True)
    empty = enrolled(group, hours="1", valid_until=today + dt.timedelta(days=5))
    empty.ledger.create(kind="consumed", hours=Decimal("-1"), occurred_at=timezone.now())
    assert expiry_reminder_task.delay().get() == 0


def test_the_reminder_is_scheduled_daily_in_beat():
    task = PeriodicTask.objects.get(task="students.tasks.expiry_reminder_task")
    assert task.enabled and task.crontab.hour == "9"

"""The nightly expiry job: hours past validity + grace expire once, visibly to the family."""
import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from crm import messaging
from students.models import Contract, LedgerEntry, MessageLog
from students.selectors import contract_balances
from students.tasks import expire_hours_task
from tests.students.factories_extra import enrolled, guardian, klass, policy

pytestmark = pytest.mark.django_db


def test_expiry_writes_the_remaining_balance_and_closes_the_contract(branch_a,
                                                                     django_capture_on_commit_callbacks):
    today = timezone.localdate()
    c = enrolled(klass(branch_a), gifted="3", valid_until=today - dt.timedelta(days=1))
    guardian(c.student, primary=True, decides=True)
    alive = enrolled(klass(branch_a))
    with django_capture_on_commit_callbacks(execute=True):
        assert expire_hours_task.delay().get() == 1
    c.refresh_from_db()
    assert (c.status, c.ended_on) == ("expired", c.valid_until)
    assert LedgerEntry.objects.get(kind="expired").hours == Decimal("-43.00")
    assert contract_balances().get(pk=c.pk).balance == 0
    assert Contract.objects.get(pk=alive.pk).status == "active"
    assert MessageLog.objects.get().template_code == "hours_expired"
    assert "43 unused lesson hours" in messaging.outbox[0].text


def test_running_the_expiry_job_twice_writes_nothing_new(branch_a):
    today = timezone.localdate()
    enrolled(klass(branch_a), valid_until=today - dt.timedelta(days=3))
    assert expire_hours_task.delay().get() == 1
    assert expire_hours_task.delay().get() == 0
    assert LedgerEntry.objects.filter(kind="expired").count() == 1


def test_grace_days_are_branch_policy(branch_a, branch_b):
    policy(branch_a, expiry_grace_days=7)
    today = timezone.localdate()
    in_grace = enrolled(klass(branch_a), valid_until=today - dt.timedelta(days=3))
    no_grace = enrolled(klass(branch_b), valid_until=today - dt.timedelta(days=3))
    expire_hours_task.delay().get()
    assert Contract.objects.get(pk=in_grace.pk).status == "active"
    assert Contract.objects.get(pk=no_grace.pk).status == "expired"


def test_the_job_works_through_more_contracts_than_one_chunk(branch_a):
    from students.services import contracts_expire

    today = timezone.localdate()
    group = klass(branch_a)
    for _ in range(7):
        enrolled(group, valid_until=today - dt.timedelta(days=1))
    assert contracts_expire(chunk_size=3) == 7
    assert LedgerEntry.objects.filter(kind="expired").count() == 7


def test_the_nightly_schedule_is_registered_in_celery_beat():
    task = PeriodicTask.objects.get(task="students.tasks.expire_hours_task")
    assert (task.crontab.hour, task.crontab.minute) == ("2", "30")
    assert str(task.crontab.timezone) == "Asia/Shanghai"

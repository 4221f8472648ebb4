"""Renewal warnings (续费预警) and renewal-rate figures."""
import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from students.models import Contract
from students.selectors import renewal_rates, renewal_warnings
from students.services import roll_call_take
from tests.factories import ContractFactory, StudentFactory
from tests.students.factories_extra import enrolled, klass, lesson, policy

pytestmark = pytest.mark.django_db
D = Decimal


def test_low_balance_and_expiring_students_are_flagged_with_reasons(branch_a, manager_a):
    today = timezone.localdate()
    group = klass(branch_a)
    low = enrolled(group, hours="4")
    soon = enrolled(group, valid_until=today + dt.timedelta(days=10))
    both = enrolled(group, hours="3", valid_until=today + dt.timedelta(days=5))
    enrolled(group)  # fine: 40 h, a year left
    rows = {r.pk: r for r in renewal_warnings(manager_a, today=today)}
    assert {pk: r.reason_codes for pk, r in rows.items()} == {
        low.student_id: "low_balance", soon.student_id: "expiring",
        both.student_id: "low_balance,expiring"}
    assert rows[low.student_id].hours_left == D("4")
    assert rows[soon.student_id].valid_until == today + dt.timedelta(days=10)


def test_weeks_left_follow_the_recent_consumption_rate(branch_a, manager_a):
    policy(branch_a, low_balance_hours=D("10"))
    group = klass(branch_a)
    c = enrolled(group, hours="12")
    today = timezone.localdate()
    for week in range(1, 5):  # 4 lessons of 2 h in the last 8 weeks: 1 h/week
        roll_call_take(session=lesson(group, day=today - dt.timedelta(weeks=week)),
                       all_present=True, actor=manager_a)
    row = renewal_warnings(manager_a, today=today).get(pk=c.student_id)
    assert row.hours_left == D("4")
    assert row.recent_weekly_hours == pytest.approx(1.0)
    assert row.weeks_left == pytest.approx(4.0)


def test_renewal_warnings_are_scoped_and_set_based(branch_a, branch_b, manager_a,
                                                  counselor_a):
    mine = enrolled(klass(branch_a), hours="2")
    mine.student.counselor = counselor_a
    mine.student.save()
    enrolled(klass(branch_a), hours="2", student=StudentFactory(branch=branch_a,
                                                                 counselor=manager_a))
    enrolled(klass(branch_b), hours="2")
    assert [r.pk for r in renewal_warnings(counselor_a)] == [mine.student_id]
    assert renewal_warnings(manager_a).count() == 2
    with CaptureQueriesContext(connection) as ctx:
        list(renewal_warnings(manager_a))
    assert len(ctx.captured_queries) <= 2  # policies + the rows


def test_renewal_rate_counts_renewals_against_completions_per_month(branch_a, head_office):
    nov = dt.date(2026, 11, 1)
    s1, s2, s3 = (StudentFactory(branch=branch_a) for _ in range(3))
    ContractFactory(student=s1, is_renewal=True, signed_on=dt.date(2026, 11, 3))
    ContractFactory(student=s2, status=Contract.Status.COMPLETED, ended_on=dt.date(2026, 11, 9))
    ContractFactory(student=s3, status=Contract.Status.EXPIRED, ended_on=dt.date(2026, 11, 30))
    ContractFactory(student=s3, status=Contract.Status.REFUNDED, ended_on=dt.date(2026, 11, 30))
    ContractFactory(student=s3, is_trial=True, status=Contract.Status.COMPLETED,
                    ended_on=dt.date(2026, 11, 2))
    rows = renewal_rates(head_office, start=nov, end=dt.date(2026, 11, 30))
    assert rows == [{"month": nov, "key": branch_a.pk, "renewals": 1, "completions": 2,
                     "rate": pytest.approx(1 / 3)}]

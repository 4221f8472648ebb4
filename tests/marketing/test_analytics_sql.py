"""The funnel and churn analysis are grouped SQL: hand-checked figures, the same answer
from the SQL median and the portable one, and query counts that do not grow with data."""
import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lifecycle.models import Transition
from lifecycle.periods import Period
from marketing import selectors
from marketing.models import Channel, ChurnReason
from marketing.selectors import analytics, churn_analysis, funnel
from marketing.services import exit_interview_record, prospect_ensure
from students.models import Student
from tests.factories import StudentFactory

from .factories import CampaignFactory, paid_contract, terminate, trial_attended

pytestmark = pytest.mark.django_db

WIDE = {"since": dt.date(2000, 1, 1), "until": dt.date(2100, 1, 1)}


def family(branch, *, source, days_ago, campaign=None):
    s = StudentFactory(branch=branch, source=Channel.objects.get(code=source))
    Student.objects.filter(pk=s.pk).update(
        created_at=timezone.now() - dt.timedelta(days=days_ago))
    prospect_ensure(student=s, campaign=campaign)
    return s


@pytest.fixture
def dataset(branch_a, branch_b):
    """Hand-checked: walk-in 3 families (1 trial; 2 enrolled after 10 and 4 days; 1 of
    them renewed), referral 1 family (trial, not enrolled); branch b's family is not the
    manager's."""
    lecture = CampaignFactory(branch=branch_a, name="讲座")
    today = timezone.localdate()
    a = family(branch_a, source="walk_in", days_ago=10, campaign=lecture)
    b = family(branch_a, source="walk_in", days_ago=4, campaign=lecture)
    family(branch_a, source="walk_in", days_ago=2)
    d = family(branch_a, source="referral", days_ago=3)
    trial_attended(a)
    trial_attended(d)
    paid_contract(a, signed_on=today)
    paid_contract(a, signed_on=today, is_renewal=True, amount=Decimal("3000"))
    paid_contract(b, signed_on=today)
    family(branch_b, source="walk_in", days_ago=5)
    return lecture


def test_the_funnel_by_source_on_a_known_dataset(manager_a, dataset):
    rows = {r["key"] if r["key"] == "total" else Channel.objects.get(pk=r["key"]).code: r
            for r in funnel(manager_a, by="source", **WIDE)}

    def figures(r):
        return (r["prospects"], r["trials"], r["enrolled"], r["renewed"],
                r["median_days_to_convert"])

    assert figures(rows["walk_in"]) == (3, 1, 2, 1, 7)
    assert rows["walk_in"]["enrol_rate"] == round(2 / 3, 4)
    assert rows["walk_in"]["renew_rate"] == 0.5
    assert figures(rows["referral"]) == (1, 1, 0, 0, None)
    assert figures(rows["total"]) == (4, 2, 2, 1, 7)


def test_the_funnel_by_campaign_groups_unattributed_families(manager_a, dataset):
    rows = {r["key"]: r for r in funnel(manager_a, by="campaign", **WIDE)}
    assert (rows[dataset.pk]["label"], rows[dataset.pk]["prospects"],
            rows[dataset.pk]["enrolled"]) == ("讲座", 2, 2)
    assert rows[None]["prospects"] == 2 and rows["total"]["prospects"] == 4


def test_the_portable_median_agrees_with_the_sql_one(manager_a, dataset, monkeypatch):
    in_sql = funnel(manager_a, by="source", **WIDE)
    monkeypatch.setattr(analytics, "SQL_MEDIAN_VENDORS", frozenset())
    portable = funnel(manager_a, by="source", **WIDE)
    assert portable == in_sql


def _count(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx)


def test_funnel_queries_do_not_grow_with_the_number_of_families(manager_a, branch_a,
                                                                dataset):
    def run():
        funnel(manager_a, by="source", **WIDE)
        funnel(manager_a, by="campaign", **WIDE)

    before = _count(run)
    for i in range(15):
        s = family(branch_a, source=["phone", "online", "lecture"][i % 3], days_ago=i + 1)
        if i % 2:
            paid_contract(s, signed_on=timezone.localdate())
    assert _count(run) == before
    assert before <= 8


def _loss(branch, manager, *, via, code, counselor=None, grade="S2"):
    s = StudentFactory(branch=branch, grade=grade, counselor=counselor)
    terminate(s, manager, via=via)
    if code:
        exit_interview_record(student=s, reason=ChurnReason.objects.get(code=code),
                              interviewer=manager)
    return s


def test_churn_queries_do_not_grow_with_the_number_of_losses(head_office, manager_a,
                                                             branch_a, counselor_a,
                                                             django_assert_max_num_queries):
    def run():
        return churn_analysis(manager_a, **WIDE)

    _loss(branch_a, head_office, via=Period.GROWTH, code="price")
    before = _count(run)
    for i, via in enumerate([Period.SOCIALIZATION, Period.GROWTH, Period.MATURITY] * 4):
        _loss(branch_a, head_office, via=via, code=["price", "teacher", None][i % 3],
              counselor=counselor_a if i % 2 else None, grade=["S1", "S2", "S3"][i % 3])
    assert _count(run) == before
    with django_assert_max_num_queries(8):
        data = run()
    assert data["total"] == 13
    assert sum(r["total"] for r in data["by_reason"]) == 13
    assert sum(r["total"] for r in data["by_pattern"]) == 13


def test_churn_months_follow_the_local_calendar(manager_a, head_office, branch_a):
    """A loss at 23:30 on 31 March in Shanghai is a March loss (UTC says 15:30, same
    month) and one at 00:30 on 1 April local time is April's (UTC: still 31 March)."""
    late, early = (_loss(branch_a, head_office, via=Period.GROWTH, code=None)
                   for _ in range(2))
    tz = timezone.get_current_timezone()
    for s, moment in ((late, dt.datetime(2026, 3, 31, 23, 30)),
                      (early, dt.datetime(2026, 4, 1, 0, 30))):
        Transition.objects.filter(student=s, to_period=Period.TERMINATION).update(
            at=timezone.make_aware(moment, tz))
    data = selectors.churn_analysis(manager_a, since=dt.date(2026, 3, 1),
                                    until=dt.date(2026, 4, 30))
    assert data["months"] == ["2026-03", "2026-04"]
    assert {r["key"]: r["months"] for r in data["by_period"]} == {
        Period.GROWTH: {"2026-03": 1, "2026-04": 1}}

"""Exit interviews, win-back candidates and marking, churn analysis on a known dataset."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from lifecycle.models import Transition
from lifecycle.periods import Period
from marketing.models import ChurnReason, MarketingPolicy
from marketing.selectors import churn_analysis, win_back_candidates, won_back
from marketing.services import exit_interview_record, prospect_ensure, prospects_sync
from tests.factories import StudentFactory, staff

from .factories import paid_contract, terminate

pytestmark = pytest.mark.django_db

NEW_TERM = dt.date(2026, 9, 1)  # inside the default autumn window
MID_TERM = dt.date(2026, 11, 10)  # in no window


def reason(code):
    return ChurnReason.objects.get(code=code)


def test_the_reason_list_is_seeded():
    assert set(ChurnReason.objects.values_list("code", flat=True)) == {
        "price", "results", "teacher", "schedule", "moved", "competitor", "need_ended",
        "service_complaint", "other"}


def test_an_exit_interview_records_the_period_lost_in(branch_a, manager_a):
    s = StudentFactory(branch=branch_a)
    terminate(s, manager_a, via=Period.GROWTH)
    interview = exit_interview_record(student=s, reason=reason("price"), detail="太贵",
                                      interviewer=manager_a)
    assert interview.period_lost_in == Period.GROWTH
    assert interview.transition == Transition.objects.get(student=s,
                                                          to_period=Period.TERMINATION)
    with pytest.raises(ValidationError):
        exit_interview_record(student=s, reason=reason("price"), interviewer=manager_a)


def test_an_exit_interview_needs_an_ended_account_and_detail_for_other(branch_a, manager_a):
    s = StudentFactory(branch=branch_a)
    with pytest.raises(ValidationError):
        exit_interview_record(student=s, reason=reason("price"), interviewer=manager_a)
    terminate(s, manager_a)
    with pytest.raises(ValidationError):
        exit_interview_record(student=s, reason=reason("other"), interviewer=manager_a)


def test_win_back_candidates_skip_moved_families_and_wait_for_the_right_moment(
        branch_a, branch_b, manager_a):
    valuable, moved, no_interview, cheap = (StudentFactory(branch=branch_a) for _ in range(4))
    for s, amount in ((valuable, "9000"), (moved, "9000"), (no_interview, "3000"),
                      (cheap, "500")):
        paid_contract(s, amount=Decimal(amount))
        terminate(s, manager_a)
    exit_interview_record(student=valuable, reason=reason("price"), interviewer=manager_a)
    exit_interview_record(student=moved, reason=reason("moved"), interviewer=manager_a)
    MarketingPolicy.objects.create(branch=branch_a, win_back_min_revenue=Decimal("1000"))
    other_branch = StudentFactory(branch=branch_b)
    terminate(other_branch, manager_a)
    found = list(win_back_candidates(manager_a, on=NEW_TERM))
    assert found == [valuable, no_interview]  # most valuable first
    assert found[0].moment == "new_term_autumn"
    assert list(win_back_candidates(manager_a, on=MID_TERM)) == []


def test_a_returning_customer_is_marked_won_back(branch_a, manager_a):
    s = StudentFactory(branch=branch_a)
    prospect_ensure(student=s)
    terminate(s, manager_a)
    paid_contract(s)
    prospects_sync()  # the prospect is enrolled; the lifecycle rules decide the period
    from lifecycle.services import scan_lifecycle

    scan_lifecycle(branch_id=branch_a.pk)
    s.refresh_from_db()
    assert s.period == Period.SOCIALIZATION
    assert [t.student for t in won_back(manager_a)] == [s]


def _loss(branch, manager, *, via, code, month, grade="S2", counselor=None):
    s = StudentFactory(branch=branch, grade=grade, counselor=counselor)
    terminate(s, manager, via=via)
    at = timezone.make_aware(dt.datetime(2026, month, 15, 10, 0))
    Transition.objects.filter(student=s, to_period=Period.TERMINATION).update(at=at)
    if code:
        exit_interview_record(student=s, reason=reason(code), interviewer=manager,
                              held_on=dt.date(2026, month, 16))
    return s


def test_churn_analysis_on_a_known_dataset(branch_a, branch_b, manager_a, head_office,
                                           counselor_a):
    """Hand-checked: branch a loses 4 (2 in March, 2 in April), branch b loses 1."""
    _loss(branch_a, head_office, via=Period.SOCIALIZATION, code="price", month=3,
          counselor=counselor_a)
    _loss(branch_a, head_office, via=Period.GROWTH, code="price", month=3, grade="S3")
    _loss(branch_a, head_office, via=Period.MATURITY, code="teacher", month=4,
          counselor=counselor_a)
    _loss(branch_a, head_office, via=Period.GROWTH, code=None, month=4)
    _loss(branch_b, head_office, via=Period.GROWTH, code="moved", month=4)

    mine = churn_analysis(manager_a, since=dt.date(2026, 1, 1), until=dt.date(2026, 12, 31))
    assert mine["total"] == 4
    assert mine["months"] == ["2026-03", "2026-04"]

    def table(dim):
        return {row["key"]: (row["total"], row["months"]) for row in mine[dim]}

    assert table("by_reason") == {"price": (2, {"2026-03": 2}), "teacher": (1, {"2026-04": 1}),
                                  "none": (1, {"2026-04": 1})}
    assert table("by_period") == {Period.SOCIALIZATION: (1, {"2026-03": 1}),
                                  Period.GROWTH: (2, {"2026-03": 1, "2026-04": 1}),
                                  Period.MATURITY: (1, {"2026-04": 1})}
    assert table("by_pattern") == {"I": (1, {"2026-03": 1}),
                                   "II": (2, {"2026-03": 1, "2026-04": 1}),
                                   "III": (1, {"2026-04": 1})}
    assert table("by_counselor")[counselor_a.pk][0] == 2
    assert table("by_counselor")[None][0] == 2
    assert table("by_grade") == {"S2": (3, {"2026-03": 1, "2026-04": 2}),
                                 "S3": (1, {"2026-03": 1})}
    assert table("by_branch") == {branch_a.pk: (4, {"2026-03": 2, "2026-04": 2})}

    everything = churn_analysis(head_office, since=dt.date(2026, 4, 1),
                                until=dt.date(2026, 4, 30))
    assert everything["total"] == 3
    assert {r["key"]: r["total"] for r in everything["by_branch"]} == {branch_a.pk: 2,
                                                                       branch_b.pk: 1}


def test_a_counselor_sees_only_their_caseloads_losses(branch_a, head_office, counselor_a):
    _loss(branch_a, head_office, via=Period.GROWTH, code="price", month=3,
          counselor=counselor_a)
    _loss(branch_a, head_office, via=Period.GROWTH, code="price", month=3,
          counselor=staff("counselor", branch_a, username="other_cs"))
    got = churn_analysis(counselor_a, since=dt.date(2026, 1, 1), until=dt.date(2026, 12, 31))
    assert got["total"] == 1

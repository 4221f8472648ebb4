"""Each automatic rule, evaluated by the scan from the records, at its policy boundary."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from lifecycle.models import RiskProfile, RiskState, Transition
from lifecycle.periods import Period
from students.models import Contract, LedgerEntry, Refund, Student
from tests.factories import ComplaintFactory, InteractionFactory, StudentFactory, SurveyFactory

from .conftest import attend, move, paid_contract, scan, set_policy

pytestmark = pytest.mark.django_db
P = Period


def period_of(student: Student) -> str:
    student.refresh_from_db()
    return student.period


def last_move(student: Student) -> Transition:
    return Transition.objects.filter(student=student).order_by("-id").first()


def quiet(student: Student) -> Student:
    """A recent contact, so the 'no contact' risk signal does not interfere."""
    InteractionFactory(student=student)
    return student


# --- prospecting -> socialization ----------------------------------------------------------

def test_a_prospect_with_an_unpaid_contract_stays_a_prospect():
    student = StudentFactory()
    paid_contract(student, paid=False)
    scan()
    assert period_of(student) == P.PROSPECTING


def test_the_first_paid_contract_makes_a_prospect_socialization():
    student = quiet(StudentFactory())
    paid_contract(student)
    scan()
    assert period_of(student) == P.SOCIALIZATION
    row = last_move(student)
    assert (row.trigger, row.evidence) == ("first_purchase", {"paid_contracts": 1})


@pytest.mark.parametrize(("trial_counts", "expected"), [(False, P.PROSPECTING),
                                                        (True, P.SOCIALIZATION)])
def test_a_paid_trial_counts_only_if_the_policy_says_so(trial_counts, expected):
    set_policy(trial_counts_as_purchase=trial_counts)
    student = quiet(StudentFactory())
    paid_contract(student, is_trial=True)
    scan()
    assert period_of(student) == expected


# --- socialization -> growth ---------------------------------------------------------------

def test_a_renewal_moves_socialization_to_growth():
    student = quiet(StudentFactory(period=P.SOCIALIZATION))
    paid_contract(student, signed_days_ago=20)
    paid_contract(student, signed_days_ago=1, is_renewal=True)
    scan()
    assert period_of(student) == P.GROWTH
    assert last_move(student).trigger == "renewal"


def test_without_a_renewal_socialization_stays():
    student = quiet(StudentFactory(period=P.SOCIALIZATION))
    paid_contract(student, signed_days_ago=20)
    scan()
    assert period_of(student) == P.SOCIALIZATION


@pytest.mark.parametrize(("weeks", "present", "absent", "expected"), [
    (8, 17, 3, P.GROWTH),          # 8 weeks, 85%: at both thresholds
    (8, 16, 4, P.SOCIALIZATION),   # 80%: just below the rate
    (7, 17, 3, P.SOCIALIZATION),   # 85% but only 7 weeks
])
def test_steady_attendance_for_the_policy_weeks_moves_to_growth(weeks, present, absent,
                                                                 expected):
    set_policy(growth_after_weeks=8, growth_attendance_rate=Decimal("0.85"))
    student = quiet(StudentFactory(period=P.SOCIALIZATION))
    paid_contract(student, signed_days_ago=weeks * 7 + (6 if weeks == 7 else 0))
    # absences first, then presents: no absence streak at the end
    attend(student, [(40 + i, "absent") for i in range(absent)]
           + [(1 + i, "attended") for i in range(present)])
    scan()
    assert period_of(student) == expected
    if expected == P.GROWTH:
        row = last_move(student)
        assert row.trigger == "steady_attendance"
        assert row.evidence["attendance_rate"] == 0.85


# --- growth -> maturity --------------------------------------------------------------------

def _maturity_case(*, tenure: int, renewals: int, ratings: dict) -> Student:
    set_policy(maturity_tenure_days=365, maturity_min_renewals=2,
               maturity_min_satisfaction=Decimal("4.0"))
    student = quiet(StudentFactory(period=P.GROWTH))
    paid_contract(student, signed_days_ago=tenure)
    for i in range(renewals):
        paid_contract(student, signed_days_ago=10 + i, is_renewal=True)
    SurveyFactory(student=student, **ratings)
    return student


def test_tenure_renewals_and_satisfaction_at_the_thresholds_make_growth_maturity():
    student = _maturity_case(tenure=365, renewals=2, ratings={"overall": 4})
    scan()
    assert period_of(student) == P.MATURITY
    row = last_move(student)
    assert row.trigger == "maturity"
    assert row.evidence == {"tenure_days": 365, "renewals": 2, "satisfaction": 4.0}


@pytest.mark.parametrize(("tenure", "renewals", "ratings"), [
    (364, 2, {"overall": 4}),                                      # a day short
    (365, 1, {"overall": 4}),                                      # one renewal short
    (365, 2, {"overall": 4, "teaching": 3, "service": 4, "environment": 4}),  # 3.75
])
def test_growth_stays_when_one_maturity_condition_is_just_short(tenure, renewals, ratings):
    student = _maturity_case(tenure=tenure, renewals=renewals, ratings=ratings)
    scan()
    assert period_of(student) == P.GROWTH


def test_only_the_latest_survey_counts_for_maturity():
    student = _maturity_case(tenure=400, renewals=2, ratings={"overall": 5})
    SurveyFactory(student=student, overall=3, surveyed_at=timezone.now() + dt.timedelta(1))
    scan()
    assert period_of(student) == P.GROWTH


# --- maintenance -> at_risk and back -------------------------------------------------------

def _risky(period: str = P.GROWTH) -> Student:
    """Three absences in a row and nothing else: 30 points (absences), the 0% attendance
    of the same roll calls counted inside them (one fact counts once), not 30 + 20."""
    student = quiet(StudentFactory(period=period))
    paid_contract(student, signed_days_ago=60)
    attend(student, [(1, "absent"), (3, "absent"), (5, "absent")])
    return student


@pytest.mark.parametrize(("threshold", "expected"), [(30, P.AT_RISK), (31, P.GROWTH)])
def test_a_risk_score_at_the_policy_threshold_makes_the_account_at_risk(threshold, expected):
    set_policy(risk_threshold=threshold)
    student = _risky()
    scan()
    assert period_of(student) == expected
    if expected == P.AT_RISK:
        student.refresh_from_db()
        assert student.previous_period == P.GROWTH
        row = last_move(student)
        assert row.trigger == "risk"
        assert row.evidence["score"] == 30
        assert {(f["code"], f["points"], f.get("within", "")) for f in row.evidence["factors"]
                } == {("absences", 30, ""), ("attendance", 0, "absences")}
        assert "30" not in row.reason  # the stored sentence never carries the score


@pytest.mark.parametrize(("streak", "expected"), [(2, P.SOCIALIZATION), (3, P.AT_RISK)])
def test_the_absence_streak_counts_only_absences_since_the_last_lesson_attended(streak,
                                                                                 expected):
    set_policy(risk_threshold=30, weight_attendance=0, risk_absence_streak=3)
    # Without the default socialization RiskProfile the branch policy's streak applies.
    RiskProfile.objects.filter(period=P.SOCIALIZATION).delete()
    student = quiet(StudentFactory(period=P.SOCIALIZATION))
    paid_contract(student, signed_days_ago=60)
    attend(student, [(20, "absent"), (15, "attended")]
           + [(i + 1, "absent") for i in range(streak)] + [(0, "leave")])
    scan()
    assert period_of(student) == expected


def test_overdue_complaints_and_low_satisfaction_can_make_an_account_at_risk():
    set_policy(risk_threshold=50)
    student = quiet(StudentFactory(period=P.MATURITY))
    paid_contract(student, signed_days_ago=60)
    ComplaintFactory(student=student, sla_due=timezone.now() - dt.timedelta(days=1))
    SurveyFactory(student=student, overall=2)
    scan()
    assert period_of(student) == P.AT_RISK  # 15 open + 15 overdue + 20 satisfaction


def test_hours_running_out_without_renewal_counts_towards_risk():
    set_policy(risk_threshold=15, weight_contact=0)
    student = StudentFactory(period=P.GROWTH)
    contract = paid_contract(student, signed_days_ago=60, hours_purchased=Decimal("20"))
    LedgerEntry.objects.create(contract=contract, kind=LedgerEntry.Kind.CONSUMED,
                               hours=Decimal("-16"), occurred_at=timezone.now())
    scan()  # 4 hours left at 4 hours a week: 1 week < 3
    assert period_of(student) == P.AT_RISK
    assert last_move(student).evidence["factors"][0]["code"] == "hours"


def _recovering(clear_days: int) -> Student:
    set_policy(risk_clear_days=14)
    student = quiet(StudentFactory(period=P.GROWTH))
    paid_contract(student, signed_days_ago=60)
    move(student, P.AT_RISK)
    now = timezone.now()
    Student.objects.filter(pk=student.pk).update(period_since=now - dt.timedelta(days=30))
    RiskState.objects.create(student=student, score=0,
                             clear_since=now - dt.timedelta(days=clear_days, hours=1))
    return student


@pytest.mark.parametrize(("clear_days", "expected"), [(13, P.AT_RISK), (14, P.GROWTH)])
def test_at_risk_returns_to_its_previous_period_when_clear_for_the_policy_days(clear_days,
                                                                                expected):
    student = _recovering(clear_days)
    scan()
    assert period_of(student) == expected
    if expected == P.GROWTH:
        assert last_move(student).trigger == "risk_cleared"
        assert last_move(student).evidence["clear_days"] == 14


def test_an_old_clear_spell_does_not_undo_a_fresh_at_risk_flag():
    student = _recovering(40)
    Student.objects.filter(pk=student.pk).update(period_since=timezone.now())
    scan()
    assert period_of(student) == P.AT_RISK


def test_the_scan_starts_the_clear_timer_when_the_risk_clears():
    student = quiet(StudentFactory(period=P.GROWTH))
    paid_contract(student, signed_days_ago=60)
    move(student, P.AT_RISK)
    scan()
    state = RiskState.objects.get(student=student)
    assert state.score == 0
    assert state.clear_since is not None
    assert period_of(student) == P.AT_RISK  # clear for 0 days only


# --- maintenance -> termination ------------------------------------------------------------

@pytest.mark.parametrize(("status", "expected"), [
    (Refund.Status.REQUESTED, P.TERMINATION), (Refund.Status.APPROVED, P.TERMINATION),
    (Refund.Status.REJECTED, P.GROWTH),
])
def test_a_refund_request_ends_a_maintenance_period(status, expected):
    student = quiet(StudentFactory(period=P.GROWTH))
    contract = paid_contract(student)
    Refund.objects.create(contract=contract, status=status, reason="moving away",
                          requested_at=timezone.now())
    scan()
    assert period_of(student) == expected
    if expected == P.TERMINATION:
        assert last_move(student).trigger == "refund"


@pytest.mark.parametrize(("other_active", "expected"), [(False, P.TERMINATION),
                                                        (True, P.SOCIALIZATION)])
def test_a_cancelled_contract_ends_the_period_unless_another_is_active(other_active, expected):
    student = quiet(StudentFactory(period=P.SOCIALIZATION))
    paid_contract(student, status=Contract.Status.CANCELLED)
    if other_active:
        paid_contract(student)
    scan()
    assert period_of(student) == expected


@pytest.mark.parametrize(("valid_until_days", "expected"), [(-1, P.TERMINATION),
                                                            (0, P.MATURITY)])
def test_expiry_without_renewal_ends_the_period(valid_until_days, expected):
    student = quiet(StudentFactory(period=P.MATURITY))
    paid_contract(student, signed_days_ago=300,
                  valid_until=timezone.localdate() + dt.timedelta(days=valid_until_days))
    scan()
    assert period_of(student) == expected
    if expected == P.TERMINATION:
        assert last_move(student).trigger == "expiry"


def test_used_up_hours_end_the_period():
    student = quiet(StudentFactory(period=P.GROWTH))
    contract = paid_contract(student)
    LedgerEntry.objects.create(contract=contract, kind=LedgerEntry.Kind.CONSUMED,
                               hours=-contract.hours_purchased,
                               occurred_at=timezone.now() - dt.timedelta(days=60))
    scan()
    assert period_of(student) == P.TERMINATION


# --- termination -> lapsed, win-back -------------------------------------------------------

@pytest.mark.parametrize(("days", "expected"), [(89, P.TERMINATION), (90, P.LAPSED)])
def test_termination_lapses_after_the_policy_days_without_an_active_contract(days, expected):
    set_policy(lapse_after_days=90)
    student = StudentFactory(period=P.TERMINATION)
    paid_contract(student, status=Contract.Status.REFUNDED)
    Student.objects.filter(pk=student.pk).update(
        period_since=timezone.now() - dt.timedelta(days=days, minutes=1))
    scan()
    assert period_of(student) == expected


@pytest.mark.parametrize("ended", [P.TERMINATION, P.LAPSED])
def test_a_new_paid_contract_after_termination_is_a_win_back(ended):
    student = quiet(StudentFactory(period=P.GROWTH))
    old = paid_contract(student, signed_days_ago=200)
    Refund.objects.create(contract=old, status=Refund.Status.REQUESTED, reason="x",
                          requested_at=timezone.now())
    scan()
    assert period_of(student) == P.TERMINATION
    if ended == P.LAPSED:
        move(student, P.LAPSED)
    paid_contract(student, signed_days_ago=0)
    scan()
    assert period_of(student) == P.SOCIALIZATION
    row = last_move(student)
    assert (row.trigger, row.win_back) == ("win_back", True)


def test_an_unpaid_new_contract_is_not_a_win_back():
    student = StudentFactory(period=P.TERMINATION)
    move(student, P.LAPSED)
    paid_contract(student, paid=False, signed_days_ago=0)
    scan()
    assert period_of(student) == P.LAPSED


def test_a_won_back_customer_starts_over_in_socialization_not_growth():
    """The comeback contract is flagged a renewal, but it is the new first purchase."""
    student = quiet(StudentFactory(period=P.GROWTH))
    old = paid_contract(student, signed_days_ago=200)
    paid_contract(student, signed_days_ago=100, is_renewal=True,
                  status=Contract.Status.COMPLETED)
    Refund.objects.create(contract=old, status=Refund.Status.APPROVED, reason="x",
                          requested_at=timezone.now())
    scan()
    paid_contract(student, signed_days_ago=0, is_renewal=True)
    scan()
    assert period_of(student) == P.SOCIALIZATION

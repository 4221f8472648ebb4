"""The risk model is a pure function: boundaries of each signal, the cap, the texts."""
from __future__ import annotations

import pytest
from django.utils import translation

from lifecycle.risk import Factor, RiskFigures, RiskPolicy, risk_score

QUIET = dict(days_since_interaction=1)  # a recent contact: the contact signal stays silent
POLICY = RiskPolicy()


def codes(figures: RiskFigures, policy: RiskPolicy = POLICY) -> set[str]:
    return {f.code for f in risk_score(figures, policy).factors}


def test_a_quiet_account_scores_zero():
    result = risk_score(RiskFigures(**QUIET), POLICY)
    assert result.score == 0
    assert result.factors == []


@pytest.mark.parametrize(("absences", "fires"), [(2, False), (3, True), (4, True)])
def test_consecutive_absences_count_from_the_policy_streak(absences, fires):
    assert ("absences" in codes(RiskFigures(consecutive_absences=absences, **QUIET))) is fires


@pytest.mark.parametrize(("rate", "fires"), [(0.69, True), (0.7, False), (None, False)])
def test_low_attendance_counts_below_the_policy_rate(rate, fires):
    assert ("attendance" in codes(RiskFigures(attendance_rate=rate, **QUIET))) is fires


@pytest.mark.parametrize(("remaining", "weekly", "fires"), [
    (5.9, 2.0, True),   # 2.95 weeks left
    (6.0, 2.0, False),  # exactly 3 weeks: not below
    (10.0, 0.0, False),  # nothing consumed: no pace to project
])
def test_hours_running_out_counts_below_the_policy_weeks(remaining, weekly, fires):
    figures = RiskFigures(remaining_hours=remaining, weekly_consumption=weekly, **QUIET)
    assert ("hours" in codes(figures)) is fires


@pytest.mark.parametrize(("days", "fires"), [(29, False), (30, True), (None, True)])
def test_no_contact_counts_from_the_policy_days_or_when_never_contacted(days, fires):
    assert ("contact" in codes(RiskFigures(days_since_interaction=days))) is fires


def test_open_and_overdue_complaints_each_add_their_weight():
    result = risk_score(RiskFigures(open_complaints=1, overdue_complaints=1, **QUIET), POLICY)
    assert result.score == POLICY.weight_open_complaint + POLICY.weight_overdue_complaint


@pytest.mark.parametrize(("sat", "fires"), [(2.99, True), (3.0, False), (None, False)])
def test_low_satisfaction_counts_below_the_policy_score(sat, fires):
    assert ("satisfaction" in codes(RiskFigures(latest_satisfaction=sat, **QUIET))) is fires


def test_weights_come_from_the_policy():
    policy = RiskPolicy(weight_absences=7)
    result = risk_score(RiskFigures(consecutive_absences=5, **QUIET), policy)
    assert result.score == 7
    assert result.factors == [Factor("absences", 5, 7)]


def test_a_zero_weight_signal_is_not_listed():
    policy = RiskPolicy(weight_contact=0)
    assert risk_score(RiskFigures(days_since_interaction=None), policy).factors == []


def test_the_score_is_capped_at_100():
    figures = RiskFigures(consecutive_absences=9, attendance_rate=0.1, remaining_hours=1,
                          weekly_consumption=4, days_since_interaction=99, open_complaints=2,
                          overdue_complaints=2, latest_satisfaction=1)
    result = risk_score(figures, POLICY)
    assert sum(f.points for f in result.factors) > 100
    assert result.score == 100


def test_at_risk_means_at_or_above_the_threshold():
    policy = RiskPolicy(threshold=30)
    assert risk_score(RiskFigures(consecutive_absences=3, **QUIET), policy).is_at_risk(policy)
    assert not risk_score(RiskFigures(consecutive_absences=3, **QUIET),
                          RiskPolicy(threshold=31)).is_at_risk(RiskPolicy(threshold=31))


def test_factors_explain_themselves_in_the_active_language():
    factor = Factor("absences", 3, 30)
    with translation.override("en"):
        assert factor.text == "3 consecutive absences"
    # Stored as data only: the words are made when shown (lifecycle.explain).
    assert factor.as_dict() == {"code": "absences", "value": 3, "points": 30}


def test_evidence_carries_score_threshold_and_factors():
    result = risk_score(RiskFigures(consecutive_absences=3, **QUIET), POLICY)
    evidence = result.as_evidence(POLICY)
    assert evidence["score"] == 30
    assert evidence["threshold"] == POLICY.threshold
    assert [f["code"] for f in evidence["factors"]] == ["absences"]


def test_decide_takes_the_callers_risk_score_instead_of_scoring_again():
    """The nightly job scores each account once and hands the result to the rules."""
    import datetime as dt

    from lifecycle.models import PolicyValues
    from lifecycle.periods import Period
    from lifecycle.risk import RiskResult
    from lifecycle.rules import AccountFacts, decide

    now = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
    quiet = AccountFacts(period=Period.GROWTH, live_contracts=1, contracts=1,
                         figures=RiskFigures(days_since_interaction=1))
    policy = PolicyValues()
    assert decide(quiet, policy, now) is None  # scored here: nothing fires
    given = RiskResult(score=90, factors=[Factor("absences", 5, 90)])
    decision = decide(quiet, policy, now, risk=given)
    assert decision is not None and decision.to_period == Period.AT_RISK
    assert decision.evidence["score"] == 90

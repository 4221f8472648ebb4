"""The extended risk model: new signals, decision-style weighting, explanations."""
from __future__ import annotations

import pytest
from django.utils import translation

from lifecycle.risk import RiskFigures, RiskPolicy, exam_slope, risk_score

QUIET = {"days_since_interaction": 1}
POLICY = RiskPolicy()


def points(figures: RiskFigures, code: str, policy: RiskPolicy = POLICY) -> int | None:
    return next((f.points for f in risk_score(figures, policy).factors if f.code == code), None)


@pytest.mark.parametrize(("baseline", "now", "fires"), [
    (0.9, 0.7, True), (0.9, 0.71, False), (None, 0.5, False)])
def test_attendance_drop_against_the_accounts_own_baseline(baseline, now, fires):
    figures = RiskFigures(attendance_rate=now, attendance_baseline=baseline, **QUIET)
    assert (points(figures, "attendance_drop") is not None) is fires


def test_the_drop_explains_before_and_after():
    figures = RiskFigures(attendance_rate=0.5, attendance_baseline=0.9, **QUIET)
    factor = next(f for f in risk_score(figures, POLICY).factors if f.code == "attendance_drop")
    with translation.override("en"):
        assert factor.text == "attendance fell from 90% to 50%"


@pytest.mark.parametrize(("style", "student", "parent"), [
    ("student_led", 30, 10), ("parent_led", 10, 30), ("joint", 20, 20)])
def test_satisfaction_weighs_by_decision_style(style, student, parent):
    figures = RiskFigures(student_satisfaction=2, parent_satisfaction=2, decision_style=style,
                          **QUIET)
    assert points(figures, "student_satisfaction") == student
    assert points(figures, "parent_satisfaction") == parent
    assert points(figures, "satisfaction") is None  # the undifferentiated signal is replaced


@pytest.mark.parametrize(("style", "expected"), [
    ("parent_led", 22), ("student_led", 8), ("joint", 15)])
def test_parents_care_most_about_exam_scores(style, expected):
    figures = RiskFigures(exam_slope=-4.0, decision_style=style, **QUIET)
    assert points(figures, "exam_trend") == expected


def test_exam_slope_is_the_least_squares_trend_of_the_latest_exams():
    assert exam_slope([80, 76, 72, 68]) == pytest.approx(-4.0)
    assert exam_slope([80, 70]) is None  # too few to call a trend


@pytest.mark.parametrize(("days", "fires"), [(14, False), (15, True), (None, False)])
def test_payment_is_overdue_after_the_grace_days(days, fires):
    figures = RiskFigures(unpaid_contract_days=days, **QUIET)
    assert (points(figures, "payment_overdue") is not None) is fires


def test_a_refund_request_weighs_heavily():
    assert points(RiskFigures(refund_requests=1, **QUIET), "refund") == 40


def test_explanations_read_as_a_counselor_would_say_them_in_chinese():
    figures = RiskFigures(consecutive_absences=3, remaining_hours=4, weekly_consumption=2,
                          **QUIET)
    with translation.override("zh-hans"):
        texts = [f.text for f in risk_score(figures, POLICY).factors]
    assert any("3" in t and "缺勤" in t for t in texts)
    assert any("2.0" in t and "续费" in t for t in texts)

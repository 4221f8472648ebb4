"""Explanations (issue #17): one fact counts once; factors and rule moves are worded at
display time, in the viewer's language, with no score for roles that do not see scores."""
from __future__ import annotations

import pytest
from django.utils import translation

from lifecycle.explain import (
    customer_type_label,
    explain,
    factors_for_api,
    reason_texts,
    rule_reason,
    transition_reason,
)
from lifecycle.models import Transition
from lifecycle.risk import RiskFigures, RiskPolicy, risk_score

QUIET = dict(days_since_interaction=1)
POLICY = RiskPolicy()


def test_a_streak_of_absences_and_a_zero_rate_are_one_fact_counted_once():
    figures = RiskFigures(consecutive_absences=4, attendance_rate=0.0, **QUIET)
    result = risk_score(figures, POLICY)
    # Not 30 + 20: the streak (the strongest) counts, the rate is folded into it.
    assert result.score == POLICY.weight_absences == 30
    by_code = {f.code: f for f in result.factors}
    assert (by_code["absences"].points, by_code["absences"].within) == (30, "")
    assert (by_code["attendance"].points, by_code["attendance"].within) == (0, "absences")


def test_the_strongest_attendance_signal_counts_whichever_it_is():
    policy = RiskPolicy(weight_absences=10, weight_attendance=25, weight_attendance_drop=15)
    figures = RiskFigures(consecutive_absences=3, attendance_rate=0.4, attendance_baseline=0.9,
                          **QUIET)
    result = risk_score(figures, policy)
    assert result.score == 25
    assert {(f.code, f.points, f.within) for f in result.factors} == {
        ("attendance", 25, ""), ("absences", 0, "attendance"),
        ("attendance_drop", 0, "attendance")}


def test_signals_of_different_facts_still_add_up():
    figures = RiskFigures(consecutive_absences=3, open_complaints=1, overdue_complaints=1,
                          **QUIET)
    assert risk_score(figures, POLICY).score == 30 + 15 + 15


def test_one_attendance_signal_alone_is_not_touched():
    result = risk_score(RiskFigures(attendance_rate=0.5, **QUIET), POLICY)
    assert [(f.code, f.points, f.within) for f in result.factors] == [("attendance", 20, "")]


def test_stored_factors_are_worded_in_the_active_language_with_the_folded_fact():
    stored = [f.as_dict() for f in risk_score(
        RiskFigures(consecutive_absences=3, attendance_rate=0.0, open_complaints=2, **QUIET),
        POLICY).factors]
    assert all("text" not in f for f in stored)  # data only in the database
    with translation.override("zh-hans"):
        assert reason_texts(stored) == ["连续缺勤 3 次（同一事实：近几周出勤率 0%）",
                                        "2 条未处理投诉"]
    with translation.override("en"):
        assert reason_texts(stored) == [
            "3 consecutive absences (same fact: attendance 0% in recent weeks)",
            "2 open complaints"]


def test_stored_text_from_older_rows_is_ignored_and_unknown_codes_never_show():
    with translation.override("en"):
        reasons = explain([{"code": "absences", "value": 3, "points": 30, "text": "old words"},
                           {"code": "some_new_signal", "value": 1, "points": 5}])
    assert [r.full_text for r in reasons] == ["3 consecutive absences", "another warning signal"]


def test_the_api_form_gives_code_value_points_and_words():
    with translation.override("en"):
        assert factors_for_api([{"code": "contact", "value": 40, "points": 10}]) == [
            {"code": "contact", "value": 40, "points": 10, "text": "no contact for 40 days"}]


def test_a_risk_move_names_its_score_only_to_those_who_see_scores():
    evidence = {"score": 65, "threshold": 50,
                "factors": [{"code": "absences", "value": 3, "points": 30},
                            {"code": "attendance", "value": 0.0, "points": 0,
                             "within": "absences"},
                            {"code": "attendance_drop", "value": [0.9, 0.0], "points": 0,
                             "within": "absences"},
                            {"code": "open_complaints", "value": 1, "points": 15}]}
    row = Transition(trigger="risk", reason="Risk score 65 reached the threshold 50.",
                     evidence=evidence)
    with translation.override("zh-hans"):
        counselor = transition_reason(row, scores=True)
        front_desk = transition_reason(row, scores=False)
        assert front_desk == rule_reason("risk", {}, scores=False) == "流失预警模型标记了该客户。"
    assert counselor == ("风险分 65 已达到阈值 50。原因：连续缺勤 3 次（同一事实：近几周出勤率 0%、"
                         "出勤率由 90% 降至 0%）；1 条未处理投诉")
    assert "65" not in front_desk and "50" not in front_desk


def test_a_manual_move_keeps_the_persons_words():
    row = Transition(trigger="manual", reason="家长要求暂停", evidence={"source": "api"})
    assert transition_reason(row, scores=False) == "家长要求暂停"


@pytest.mark.parametrize(("code", "label"), [
    ("core.maintenance", "Core (核心) · Maintenance (维系)"),
    ("develop.recovery", "Develop (发展) · Recovery (恢复)"),
    ("", ""), ("nonsense", "")])
def test_customer_types_read_as_segment_and_phase(code, label):
    with translation.override("en"):
        assert customer_type_label(code) == label


def test_a_risk_move_below_its_threshold_does_not_claim_it_was_reached():
    row = Transition(trigger="risk", reason="x", evidence={"score": 30, "threshold": 50,
                                                          "factors": []})
    with translation.override("en"):
        assert transition_reason(row, scores=True) == "Risk score 30 (threshold 50)."

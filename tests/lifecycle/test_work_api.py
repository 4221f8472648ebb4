"""API of scores, the task queue, playbooks and risk profiles: scoped, 403 for the roles
that never see scores, actions through the services."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from lifecycle.models import Playbook, RetentionTask, RiskProfile

from .conftest import scan
from .test_api import client_for, field_errors
from .test_nightly import absent_growth

pytestmark = pytest.mark.django_db


@pytest.fixture
def flagged(branch_a, counselor_a):
    student = absent_growth(branch_a, counselor_a)
    scan()
    return student


@pytest.mark.parametrize("role", ["front_desk_a", "teacher_a"])
def test_front_desk_and_teachers_never_see_scores_or_tasks(role, request, flagged):
    client = client_for(request.getfixturevalue(role))
    for url in [f"/api/v1/students/{flagged.pk}/scores/", "/api/v1/lifecycle/scores/",
                "/api/v1/lifecycle/tasks/"]:
        assert client.get(url).status_code == 403


def test_a_student_score_explains_itself_with_history(counselor_a, flagged):
    body = client_for(counselor_a).get(f"/api/v1/students/{flagged.pk}/scores/").json()
    assert body["period"] == "at_risk" and body["risk"] >= 50
    # Code, value and points for machines, the words for people (the request's language);
    # the rate and the drop read the same roll calls: folded into the absences.
    absences = next(f for f in body["risk_factors"] if f["code"] == "absences")
    assert (absences["value"], absences["points"]) == (3, 30)
    assert absences["text"] == ("3 consecutive absences (same fact: attendance 0% in recent "
                                "weeks, attendance fell from 100% to 0%)")
    assert {f["code"] for f in body["risk_factors"]} == {"absences", "open_complaints",
                                                         "overdue_complaints"}
    assert body["risk"] == sum(f["points"] for f in body["risk_factors"]) == 60
    assert len(body["history"]) == 1
    assert set(body["breakdown"]["cpv"]) == {"spending_capacity", "share_of_wallet",
                                             "unit_margin", "value"}


def test_scores_of_another_branch_are_not_found(counselor_b, flagged):
    assert client_for(counselor_b).get(
        f"/api/v1/students/{flagged.pk}/scores/").status_code == 404
    assert client_for(counselor_b).get("/api/v1/lifecycle/scores/").json()["count"] == 0


def test_the_score_list_filters_by_segment_type_and_risk(manager_a, flagged):
    score = flagged.score
    client = client_for(manager_a)
    res = client.get("/api/v1/lifecycle/scores/", {"type": score.customer_type,
                                                   "risk_min": 50})
    assert [r["student"] for r in res.json()["results"]] == [flagged.pk]
    assert client.get("/api/v1/lifecycle/scores/", {"risk_min": 101}).json()["count"] == 0


def test_a_counselor_lists_claims_completes_skips_and_snoozes_own_tasks(counselor_a, flagged):
    client = client_for(counselor_a)
    tasks = client.get("/api/v1/lifecycle/tasks/").json()["results"]
    assert {t["playbook_code"] for t in tasks} == {"at-risk-recovery"}
    pk = tasks[0]["id"]
    until = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    res = client.post(f"/api/v1/lifecycle/tasks/{pk}/snooze/", {"until": until,
                                                                "reason": "考试周"})
    assert res.status_code == 200 and res.json()["snoozed_until"] == until
    res = client.post(f"/api/v1/lifecycle/tasks/{pk}/complete/", {"outcome": ""})
    assert res.status_code == 400
    res = client.post(f"/api/v1/lifecycle/tasks/{pk}/complete/", {"outcome": "已解决"})
    assert res.json()["status"] == "done"
    res = client.post(f"/api/v1/lifecycle/tasks/{pk}/skip/", {"reason": "x"})
    assert res.status_code == 400 and "status" in field_errors(res)


def test_a_manager_claims_an_unassigned_task_and_sees_the_workload(manager_a, counselor_a,
                                                                  flagged):
    task = RetentionTask.objects.get(student=flagged)
    RetentionTask.objects.filter(pk=task.pk).update(assignee=None,
                                                    due_at=timezone.now() - dt.timedelta(1))
    client = client_for(manager_a)
    assert client.post(f"/api/v1/lifecycle/tasks/{task.pk}/claim/").json()["assignee"] == \
        manager_a.pk
    rows = client.get("/api/v1/lifecycle/tasks/workload/").json()
    assert rows == [{"assignee_id": manager_a.pk, "assignee__username": "mgr_a",
                     "assignee_name": "mgr_a", "open": 1, "overdue": 1}]


def test_a_manager_edits_the_branchs_playbook_and_risk_profile_but_not_the_defaults(
        manager_a, branch_a):
    client = client_for(manager_a)
    default = Playbook.objects.get(code="referral-request", branch=None)
    assert client.patch(f"/api/v1/lifecycle/playbooks/{default.pk}/",
                        {"cooldown_days": 1}, format="json").status_code == 403
    res = client.post("/api/v1/lifecycle/playbooks/", {
        "code": "referral-request", "branch": branch_a.pk, "period": "maturity",
        "title_zh": "请求转介绍", "title_en": "Ask for a referral", "cooldown_days": 90},
        format="json")
    assert res.status_code == 201, res.json()
    res = client.post("/api/v1/lifecycle/risk-profiles/", {
        "branch": branch_a.pk, "period": "growth", "threshold": 60}, format="json")
    assert res.status_code == 201, res.json()
    assert RiskProfile.objects.get(branch=branch_a, period="growth").threshold == 60
    res = client.post("/api/v1/lifecycle/risk-profiles/", {
        "branch": branch_a.pk, "period": "growth", "threshold": 60}, format="json")
    assert res.status_code == 400


def test_scan_runs_show_the_nightly_figures(manager_a, flagged):
    run = client_for(manager_a).get("/api/v1/lifecycle/scan-runs/").json()[0]
    assert run["scored"] == 1 and run["moved_into_risk"] == 1 and run["tasks_created"] == 1

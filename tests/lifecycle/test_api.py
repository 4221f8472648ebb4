"""The lifecycle API: scoping (404 across branches), role checks (403), validation (400)."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from lifecycle.models import LifecyclePolicy, ScanRun, Transition
from lifecycle.periods import Period
from tests.factories import StudentFactory

from .conftest import move, paid_contract

pytestmark = pytest.mark.django_db
P = Period


class HttpsClient(APIClient):
    """Requests over HTTPS: SECURE_SSL_REDIRECT is on outside DEBUG, as in production."""

    def generic(self, *args, **kwargs):
        kwargs.setdefault("secure", True)
        return super().generic(*args, **kwargs)


def field_errors(res) -> dict:
    """Field errors of a 400 in the project's error envelope ({"error": {"fields": ...}})."""
    return res.json()["error"]["fields"]


def https_client() -> APIClient:
    return HttpsClient()


def client_for(user) -> APIClient:
    client = https_client()
    client.force_authenticate(user)
    return client


def lifecycle_url(student) -> str:
    return f"/api/v1/students/{student.pk}/lifecycle/"


def transition_url(student) -> str:
    return f"/api/v1/students/{student.pk}/transition/"


@pytest.fixture
def student_a(branch_a):
    return StudentFactory(branch=branch_a, period=P.GROWTH)


# --- GET lifecycle -------------------------------------------------------------------------

def test_the_lifecycle_view_shows_period_phase_pattern_and_timeline(manager_a, student_a):
    move(student_a, P.MATURITY, P.AT_RISK)
    res = client_for(manager_a).get(lifecycle_url(student_a))
    assert res.status_code == 200
    body = res.json()
    assert (body["period"], body["phase"], body["previous_period"]) == (
        P.AT_RISK, "maintenance", P.MATURITY)
    assert body["pattern"] == "IV"
    assert body["allowed_targets"] == [P.MATURITY, P.TERMINATION]
    assert [(t["from_period"], t["to_period"]) for t in body["timeline"]] == [
        (P.MATURITY, P.AT_RISK), (P.GROWTH, P.MATURITY)]


def test_another_branchs_student_is_not_found(manager_b, student_a):
    assert client_for(manager_b).get(lifecycle_url(student_a)).status_code == 404


def test_front_desk_sees_the_period_but_not_the_evidence(front_desk_a, student_a):
    paid_contract(student_a)
    move(student_a, P.AT_RISK)
    Transition.objects.update(evidence={"score": 60})
    body = client_for(front_desk_a).get(lifecycle_url(student_a)).json()
    assert body["period"] == P.AT_RISK
    assert body["timeline"][0]["evidence"] == {}
    assert body["risk"] is None


def test_anonymous_callers_are_refused(student_a):
    assert https_client().get(lifecycle_url(student_a)).status_code in (401, 403)


# --- POST transition -----------------------------------------------------------------------

@pytest.mark.parametrize("role", ["counselor_a", "manager_a", "head_office"])
def test_counselors_managers_and_head_office_can_move_an_account(role, request, student_a):
    user = request.getfixturevalue(role)
    res = client_for(user).post(transition_url(student_a),
                                {"to_period": P.AT_RISK, "reason": "missed three lessons"})
    assert res.status_code == 201, res.content
    student_a.refresh_from_db()
    assert student_a.period == P.AT_RISK
    row = Transition.objects.get(student=student_a)
    assert (row.trigger, row.actor, row.reason) == ("manual", user, "missed three lessons")


@pytest.mark.parametrize("role", ["front_desk_a", "teacher_a"])
def test_front_desk_and_teachers_cannot_move_an_account(role, request, student_a):
    res = client_for(request.getfixturevalue(role)).post(
        transition_url(student_a), {"to_period": P.AT_RISK, "reason": "x"})
    assert res.status_code in (403, 404)  # a teacher may not even see the account
    student_a.refresh_from_db()
    assert student_a.period == P.GROWTH


def test_front_desk_gets_403_for_an_account_it_can_see(front_desk_a, student_a):
    res = client_for(front_desk_a).post(transition_url(student_a),
                                        {"to_period": P.AT_RISK, "reason": "x"})
    assert res.status_code == 403


def test_a_counselor_of_another_branch_gets_404(counselor_b, student_a):
    res = client_for(counselor_b).post(transition_url(student_a),
                                       {"to_period": P.AT_RISK, "reason": "x"})
    assert res.status_code == 404


def test_a_counselor_cannot_move_another_counselors_account(counselor_a, counselor_a2,
                                                            branch_a):
    student = StudentFactory(branch=branch_a, counselor=counselor_a2, period=P.GROWTH)
    res = client_for(counselor_a).post(transition_url(student),
                                       {"to_period": P.AT_RISK, "reason": "x"})
    assert res.status_code == 404


def test_an_illegal_move_is_a_400_on_to_period_and_changes_nothing(manager_a, branch_a):
    student = StudentFactory(branch=branch_a)
    res = client_for(manager_a).post(transition_url(student),
                                     {"to_period": P.MATURITY, "reason": "vip"},
                                     HTTP_ACCEPT_LANGUAGE="en")
    assert res.status_code == 400
    assert "to_period" in field_errors(res)
    student.refresh_from_db()
    assert student.period == P.PROSPECTING
    assert not Transition.objects.exists()


@pytest.mark.parametrize("payload", [{"to_period": P.AT_RISK}, {"to_period": P.AT_RISK,
                                                                 "reason": "  "}])
def test_a_missing_reason_is_a_400_on_reason(manager_a, student_a, payload):
    res = client_for(manager_a).post(transition_url(student_a), payload)
    assert res.status_code == 400
    assert "reason" in field_errors(res)


def test_a_stale_expected_period_is_a_400(manager_a, student_a):
    res = client_for(manager_a).post(transition_url(student_a), {
        "to_period": P.TERMINATION, "reason": "x", "expected_from": P.SOCIALIZATION})
    assert res.status_code == 400
    student_a.refresh_from_db()
    assert student_a.period == P.GROWTH


# --- policies ------------------------------------------------------------------------------

def policies_url(pk: int | None = None) -> str:
    return f"/api/v1/lifecycle/policies/{pk}/" if pk else "/api/v1/lifecycle/policies/"


def test_a_manager_can_create_and_edit_their_branchs_policy(manager_a, branch_a):
    client = client_for(manager_a)
    res = client.post(policies_url(), {"branch": branch_a.pk, "risk_threshold": 60},
                      format="json")
    assert res.status_code == 201, res.content
    pk = res.json()["id"]
    res = client.patch(policies_url(pk), {"risk_clear_days": 21}, format="json")
    assert res.status_code == 200, res.content
    policy = LifecyclePolicy.objects.get(pk=pk)
    assert (policy.risk_threshold, policy.risk_clear_days) == (60, 21)
    assert policy.history.count() == 2
    assert policy.history.first().history_user == manager_a


def test_a_manager_cannot_edit_the_default_or_another_branchs_policy(manager_a, branch_b):
    default = LifecyclePolicy.objects.create()
    other = LifecyclePolicy.objects.create(branch=branch_b)
    client = client_for(manager_a)
    assert client.patch(policies_url(default.pk), {"risk_threshold": 1},
                        format="json").status_code == 403
    assert client.patch(policies_url(other.pk), {"risk_threshold": 1},
                        format="json").status_code == 404
    assert client.post(policies_url(), {"branch": branch_b.pk},
                       format="json").status_code == 403
    default.refresh_from_db()
    assert default.risk_threshold == 50


def test_a_manager_lists_the_default_and_their_own_policy_only(manager_a, branch_a, branch_b):
    LifecyclePolicy.objects.create()
    LifecyclePolicy.objects.create(branch=branch_a)
    LifecyclePolicy.objects.create(branch=branch_b)
    res = client_for(manager_a).get(policies_url())
    assert sorted(str(p["branch"]) for p in res.json()["results"]) == sorted(
        ["None", str(branch_a.pk)])


def test_head_office_can_edit_the_default_policy(head_office):
    default = LifecyclePolicy.objects.create()
    res = client_for(head_office).put(policies_url(default.pk),
                                      {"branch": None, "risk_threshold": 40}, format="json")
    assert res.status_code == 200, res.content
    default.refresh_from_db()
    assert default.risk_threshold == 40


@pytest.mark.parametrize("role", ["counselor_a", "front_desk_a", "teacher_a"])
def test_other_roles_cannot_read_policies(role, request):
    assert client_for(request.getfixturevalue(role)).get(policies_url()).status_code == 403


@pytest.mark.parametrize(("field", "value"), [
    ("risk_clear_days", -1), ("growth_attendance_rate", "1.2"),
    ("risk_attendance_rate", "-0.1"), ("weight_absences", 101), ("risk_threshold", 150),
    ("maturity_min_satisfaction", "5.5"), ("lapse_after_days", -5),
])
def test_invalid_policy_values_are_field_errors(head_office, field, value):
    res = client_for(head_office).post(policies_url(), {field: value}, format="json")
    assert res.status_code == 400
    assert field in field_errors(res)
    assert not LifecyclePolicy.objects.exists()


def test_a_second_default_policy_is_refused_with_a_branch_error(head_office):
    LifecyclePolicy.objects.create()
    res = client_for(head_office).post(policies_url(), {"branch": None}, format="json")
    assert res.status_code == 400
    assert "branch" in field_errors(res)


# --- scan runs -----------------------------------------------------------------------------

def test_a_manager_starts_a_scan_of_their_branch(manager_a, branch_a, branch_b,
                                                 django_capture_on_commit_callbacks):
    mine = StudentFactory(branch=branch_a)
    paid_contract(mine)
    theirs = StudentFactory(branch=branch_b)
    paid_contract(theirs)
    with django_capture_on_commit_callbacks(execute=True):
        res = client_for(manager_a).post("/api/v1/lifecycle/scan-runs/", {}, format="json")
    assert res.status_code == 202, res.content
    run = ScanRun.objects.get(pk=res.json()["id"])
    assert (run.branch, run.source, run.started_by) == (branch_a, "api", manager_a)
    assert run.status == ScanRun.Status.FINISHED
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.period, theirs.period) == (P.SOCIALIZATION, P.PROSPECTING)
    listed = client_for(manager_a).get("/api/v1/lifecycle/scan-runs/").json()
    assert [r["id"] for r in listed] == [run.pk]


def test_a_manager_cannot_scan_another_branch(manager_a, branch_b):
    res = client_for(manager_a).post("/api/v1/lifecycle/scan-runs/", {"branch": branch_b.pk},
                                     format="json")
    assert res.status_code == 403
    assert not ScanRun.objects.exists()


def test_counselors_cannot_start_scans(counselor_a):
    res = client_for(counselor_a).post("/api/v1/lifecycle/scan-runs/", {}, format="json")
    assert res.status_code == 403


def test_a_manager_does_not_see_another_branchs_runs(manager_a, branch_b):
    ScanRun.objects.create(branch=branch_b)
    assert client_for(manager_a).get("/api/v1/lifecycle/scan-runs/").json() == []

"""The exit interview from the account page flow and the API: one service, a required
reason from the managed list, field-named errors, scoping and denials."""
import pytest
from rest_framework.test import APIClient

from lifecycle.periods import Period
from marketing.models import ExitInterview
from tests.factories import StudentFactory

from .factories import terminate

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.marketing.urls")]


def api(user):
    c = APIClient()
    c.force_authenticate(user)
    return c


def test_terminating_from_the_account_page_leads_to_the_exit_interview(client, manager_a,
                                                                      branch_a):
    from lifecycle.services import account_transition

    s = StudentFactory(branch=branch_a)

    for period in (Period.SOCIALIZATION, Period.GROWTH):
        account_transition(student=s, to_period=period, trigger="manual", actor=manager_a,
                           reason="test")
    client.force_login(manager_a)
    response = client.post(f"/students/{s.pk}/period/", {
        "to_period": "termination", "reason": "家长决定不续费", "expected_from": "growth"})
    assert response.status_code == 302
    assert response["Location"] == f"/m/students/{s.pk}/exit-interview/"
    page = client.get(response["Location"])
    assert page.status_code == 200 and page.context["due"] is True
    account = client.get(f"/students/{s.pk}/").content.decode()
    assert 'id="exit-interview-due"' in account


def test_the_page_requires_a_reason_and_detail_for_other(client, counselor_a, branch_a,
                                                         manager_a):
    from marketing.models import ChurnReason

    s = StudentFactory(branch=branch_a, counselor=counselor_a)
    terminate(s, manager_a)
    client.force_login(counselor_a)
    url = f"/m/students/{s.pk}/exit-interview/"
    response = client.post(url, {"detail": "?"})
    assert response.status_code == 400 and "reason" in response.context["form"].errors
    other = ChurnReason.objects.get(code="other")
    response = client.post(url, {"reason": other.pk})
    assert response.status_code == 400 and "detail" in response.context["form"].errors
    price = ChurnReason.objects.get(code="price")
    response = client.post(url, {"reason": price.pk, "detail": "太贵了"})
    assert response.status_code == 302 and response["Location"] == f"/students/{s.pk}/"
    interview = ExitInterview.objects.get()
    assert (interview.reason, interview.period_lost_in, interview.interviewer) == (
        price, Period.SOCIALIZATION, counselor_a)
    account = client.get(f"/students/{s.pk}/").content.decode()
    assert 'id="exit-reason"' in account and 'id="exit-interview-due"' not in account


def test_front_desk_and_other_branches_cannot_hold_the_interview(client, front_desk_a,
                                                                 manager_b, manager_a,
                                                                 branch_a):
    s = StudentFactory(branch=branch_a)
    terminate(s, manager_a)
    client.force_login(front_desk_a)
    assert client.get(f"/m/students/{s.pk}/exit-interview/").status_code == 403
    client.force_login(manager_b)
    assert client.get(f"/m/students/{s.pk}/exit-interview/").status_code == 404


def test_the_api_records_the_interview_through_the_service(counselor_a, manager_a, branch_a):
    s = StudentFactory(branch=branch_a, counselor=counselor_a)
    terminate(s, manager_a, via=Period.GROWTH)
    reasons = api(counselor_a).get("/api/v1/marketing/churn-reasons/").json()
    assert "price" in {r["code"] for r in reasons}
    response = api(counselor_a).post("/api/v1/exit-interviews/", {
        "student": s.pk, "reason": "teacher", "detail": "换了老师成绩下降"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["reason_code"], body["period_lost_in"], body["interviewer"]) == (
        "teacher", "growth", counselor_a.pk)
    again = api(counselor_a).post("/api/v1/exit-interviews/", {
        "student": s.pk, "reason": "price"}, format="json")
    assert again.status_code == 400 and again.json()["error"]["code"] == "duplicate"
    listed = api(manager_a).get(f"/api/v1/exit-interviews/?student={s.pk}").json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]


def test_the_api_names_the_missing_reason_and_refuses_open_accounts(counselor_a, branch_a):
    s = StudentFactory(branch=branch_a, counselor=counselor_a)
    response = api(counselor_a).post("/api/v1/exit-interviews/", {"student": s.pk},
                                     format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["error"]["fields"]
    response = api(counselor_a).post("/api/v1/exit-interviews/", {
        "student": s.pk, "reason": "price"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "not_ended"
    response = api(counselor_a).post("/api/v1/exit-interviews/", {
        "student": s.pk, "reason": "nonsense"}, format="json")
    assert "reason" in response.json()["error"]["fields"]


def test_the_api_refuses_front_desk_and_hides_other_branches(front_desk_a, counselor_b,
                                                             manager_a, branch_a):
    s = StudentFactory(branch=branch_a)
    terminate(s, manager_a)
    assert api(front_desk_a).post("/api/v1/exit-interviews/", {
        "student": s.pk, "reason": "price"}, format="json").status_code == 403
    response = api(counselor_b).post("/api/v1/exit-interviews/", {
        "student": s.pk, "reason": "price"}, format="json")
    assert response.status_code == 400 and "student" in response.json()["error"]["fields"]
    assert not ExitInterview.objects.exists()

"""Complaints and surveys are written through students.services.engagement (owner, SLA
from branch policy, resolution rules) by the API and the admin; payments through
payment_record by the API and the admin."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from students.models import Complaint, ContractPolicy, Payment, SatisfactionSurvey
from students.services import DuplicatePayment, payment_record
from tests.factories import ParentFactory

from .conftest import client_for

pytestmark = pytest.mark.django_db


def complaint_body(world, **extra):
    return {"student": world["student"].pk, "raised_by": "parent",
            "parent": world["parent"].pk, "category": "teacher",
            "description": "老师经常迟到", **extra}


def test_a_complaint_gets_the_counselor_as_owner_and_the_default_48h_sla(world, counselor_a):
    res = client_for(counselor_a).post("/api/v1/complaints/", complaint_body(world),
                                       format="json")

    assert res.status_code == 201, res.json()
    body = res.json()
    assert (body["status"], body["owner"], body["resolved_at"]) == ("open", counselor_a.pk,
                                                                   None)
    due = parse_datetime(body["sla_due"]) - parse_datetime(body["created_at"])
    assert due == dt.timedelta(hours=48)


def test_the_sla_comes_from_the_branch_policy(world, manager_a):
    ContractPolicy.objects.create(branch=None, complaint_sla_hours=72)
    ContractPolicy.objects.create(branch=world["branch"], complaint_sla_hours=24)
    raised = timezone.now() - dt.timedelta(hours=1)

    res = client_for(manager_a).post("/api/v1/complaints/", complaint_body(
        world, created_at=raised.isoformat()), format="json")

    complaint = Complaint.objects.get(pk=res.json()["id"])
    assert complaint.sla_due - complaint.created_at == dt.timedelta(hours=24)
    assert abs((complaint.created_at - raised).total_seconds()) < 1


@pytest.mark.parametrize(("change", "field"), [
    ({"parent": None}, "parent"),  # a parent complained but none is named
    ({"raised_by": "student"}, "parent"),  # the student complained: no parent
    ({"category": "weather"}, "category"),
    ({"description": ""}, "description"),
    ({"created_at": "2999-01-01T00:00:00Z"}, "created_at"),
])
def test_complaint_input_errors_name_the_field(world, counselor_a, change, field):
    res = client_for(counselor_a).post("/api/v1/complaints/", complaint_body(world, **change),
                                       format="json")
    assert res.status_code == 400
    assert field in res.json()["error"]["fields"]
    assert Complaint.objects.count() == 2  # the world's two


def test_a_parent_who_is_not_the_students_guardian_is_refused(world, manager_a):
    stranger = ParentFactory(branch=world["branch"])  # visible to the branch's manager
    res = client_for(manager_a).post("/api/v1/complaints/", complaint_body(
        world, parent=stranger.pk), format="json")
    assert res.status_code == 400
    assert res.json()["error"]["code"] == "not_guardian"


def test_writes_cannot_reach_another_branch(world, counselor_a, manager_b, counselor_b):
    other_student = client_for(counselor_a).post("/api/v1/complaints/", complaint_body(
        world, student=world["student_b"].pk, parent=None, raised_by="student"),
        format="json")
    foreign_owner = client_for(counselor_a).post("/api/v1/complaints/", complaint_body(
        world, owner=counselor_b.pk), format="json")
    patch = client_for(manager_b).patch(f"/api/v1/complaints/{world['complaint'].pk}/",
                                        {"status": "in_progress"}, format="json")

    assert other_student.status_code == 400
    assert "student" in other_student.json()["error"]["fields"]
    assert foreign_owner.status_code == 400
    assert "owner" in foreign_owner.json()["error"]["fields"]
    assert patch.status_code == 404


@pytest.mark.parametrize("who", ["front_desk_a", "teacher_a"])
def test_front_desk_and_teachers_cannot_write_complaints_or_surveys(request, world, who):
    client = client_for(request.getfixturevalue(who))
    assert client.post("/api/v1/complaints/", complaint_body(world),
                       format="json").status_code == 403
    assert client.post("/api/v1/surveys/", {"student": world["student"].pk,
                                            "respondent": "student", "overall": 4},
                       format="json").status_code == 403
    assert client.patch(f"/api/v1/complaints/{world['complaint'].pk}/",
                        {"status": "resolved"}, format="json").status_code == 403


def test_resolving_needs_a_resolution_and_reopening_clears_the_time(world, counselor_a):
    client = client_for(counselor_a)
    url = f"/api/v1/complaints/{world['complaint'].pk}/"

    bare = client.patch(url, {"status": "resolved"}, format="json")
    resolved = client.patch(url, {"status": "resolved", "resolution": "换了老师"},
                            format="json")
    reopened = client.patch(url, {"status": "in_progress"}, format="json")

    assert bare.status_code == 400 and "resolution" in bare.json()["error"]["fields"]
    assert resolved.status_code == 200, resolved.json()
    assert resolved.json()["status"] == "resolved" and resolved.json()["resolved_at"]
    assert resolved.json()["sla_due"] == bare.json().get("sla_due", resolved.json()["sla_due"])
    assert (reopened.json()["status"], reopened.json()["resolved_at"]) == ("in_progress", None)


def test_patch_cannot_move_a_complaint_to_another_student(world, counselor_a):
    complaint = world["complaint"]
    res = client_for(counselor_a).patch(f"/api/v1/complaints/{complaint.pk}/",
                                        {"student": world["student_b"].pk,
                                         "owner": counselor_a.pk}, format="json")
    assert res.status_code == 200
    complaint.refresh_from_db()
    assert (complaint.student_id, complaint.owner_id) == (world["student"].pk, counselor_a.pk)


def test_a_retried_complaint_with_the_same_key_is_recorded_once(world, counselor_a):
    client = client_for(counselor_a)
    for _ in range(2):
        res = client.post("/api/v1/complaints/", complaint_body(world), format="json",
                          HTTP_IDEMPOTENCY_KEY="c-1")
        assert res.status_code == 201
    assert Complaint.objects.filter(student=world["student"]).count() == 2  # world's + 1


def test_a_survey_is_recorded_with_its_scales_checked(world, counselor_a):
    client = client_for(counselor_a)
    ok = client.post("/api/v1/surveys/", {
        "student": world["student"].pk, "respondent": "parent",
        "parent": world["parent"].pk, "overall": 4, "teaching": 5, "recommend": 9,
        "comment": "满意"}, format="json")
    out_of_range = client.post("/api/v1/surveys/", {
        "student": world["student"].pk, "respondent": "student", "overall": 6,
        "recommend": 11}, format="json")
    no_parent = client.post("/api/v1/surveys/", {
        "student": world["student"].pk, "respondent": "parent", "overall": 3},
        format="json")

    assert ok.status_code == 201, ok.json()
    assert ok.json()["surveyed_at"]
    assert out_of_range.status_code == 400
    assert {"overall", "recommend"} <= set(out_of_range.json()["error"]["fields"])
    assert no_parent.status_code == 400 and "parent" in no_parent.json()["error"]["fields"]
    assert SatisfactionSurvey.objects.filter(student=world["student"]).count() == 2


def test_payment_record_refuses_a_repeated_reference(world, manager_a):
    contract = world["contract"]
    first = payment_record(contract=contract, amount=Decimal("500"), method="cash",
                           paid_at=timezone.now(), reference=" WX1 ", actor=manager_a)
    with pytest.raises(DuplicatePayment) as err:
        payment_record(contract=contract, amount=Decimal("500"), method="cash",
                       paid_at=timezone.now(), reference="WX1", actor=manager_a)
    assert err.value.existing == first
    assert (first.reference, first.recorded_by) == ("WX1", manager_a)


def test_the_admin_books_payments_and_opens_complaints_through_the_services(
        client, world, manager_a):
    client.force_login(manager_a)
    now = timezone.localtime()
    date, time = now.strftime("%Y-%m-%d"), now.strftime("%H:%M:%S")
    paid = client.post(reverse("admin:students_payment_add"), {
        "contract": world["contract"].pk, "amount": "300", "method": "cash",
        "paid_at_0": date, "paid_at_1": time, "reference": " ADM1 ", "note": ""},
        secure=True)
    guardian = world["parent"]
    opened = client.post(reverse("admin:students_complaint_add"), {
        "student": world["student"].pk, "raised_by": "parent", "parent": guardian.pk,
        "category": "service", "description": "电话没人接", "owner": ""}, secure=True)

    assert paid.status_code == 302, paid.content[:2000]
    payment = Payment.objects.get(reference="ADM1")
    assert payment.recorded_by == manager_a
    assert opened.status_code == 302, opened.content[:2000]
    complaint = Complaint.objects.get(description="电话没人接")
    assert complaint.sla_due - complaint.created_at == dt.timedelta(hours=48)
    assert complaint.owner == world["student"].counselor

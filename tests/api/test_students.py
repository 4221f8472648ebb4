"""Students: creation through the service, read-only protected fields, search, filters,
incremental sync, pagination and bounded query counts."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lifecycle.periods import Period
from students.models import Attendance, Payment, Student
from tests.factories import (
    ClassSessionFactory,
    ContractFactory,
    GuardianshipFactory,
    InteractionFactory,
    StudentFactory,
)

from .conftest import client_for

pytestmark = pytest.mark.django_db
URL = "/api/v1/students/"


def new_student(**extra):
    return {"name_zh": "张三", "grade": "S1", "birth_date": "2009-05-01", **extra}


def test_front_desk_registers_a_student_in_its_own_branch(front_desk_a, branch_a):
    res = client_for(front_desk_a).post(URL, new_student())
    assert res.status_code == 201, res.content
    body = res.json()
    assert body["branch"] == branch_a.pk
    assert body["counselor"] is None  # the branch pool
    assert body["name_pinyin"] == "zhangsan"
    assert body["remaining_hours"] == "0.00"


def test_a_counselors_own_registration_joins_the_caseload(counselor_a):
    res = client_for(counselor_a).post(URL, new_student())
    assert res.json()["counselor"] == counselor_a.pk


def test_branch_period_and_counselor_cannot_be_mass_assigned(counselor_a, counselor_a2,
                                                             branch_a, branch_b):
    client = client_for(counselor_a)
    refused = client.post(URL, new_student(branch=branch_b.pk))
    created = client.post(URL, new_student(period=Period.MATURITY, counselor=counselor_a2.pk,
                                           previous_period=Period.GROWTH))

    assert refused.status_code == 400
    assert "branch" in refused.json()["error"]["fields"]
    student = Student.objects.get(pk=created.json()["id"])
    assert (student.branch, student.period, student.counselor) == (
        branch_a, Period.PROSPECTING, counselor_a)

    patched = client.patch(f"{URL}{student.pk}/", {
        "branch": branch_b.pk, "period": Period.LAPSED, "counselor": counselor_a2.pk,
        "school": "杭州二中"})
    assert patched.status_code == 200
    student.refresh_from_db()
    assert (student.branch, student.period, student.counselor, student.school) == (
        branch_a, Period.PROSPECTING, counselor_a, "杭州二中")


def test_head_office_must_name_the_branch(head_office, branch_b):
    client = client_for(head_office)
    assert client.post(URL, new_student()).json()["error"]["fields"] == {
        "branch": ["Head office must name the branch."]}
    assert client.post(URL, new_student(branch=branch_b.pk)).json()["branch"] == branch_b.pk


def test_invalid_input_answers_400_with_field_names(manager_a):
    res = client_for(manager_a).post(URL, {"name_zh": "", "grade": "X9",
                                           "birth_date": "yesterday"})
    assert res.status_code == 400
    err = res.json()["error"]
    assert err["code"] == "invalid"
    assert set(err["fields"]) == {"name_zh", "grade", "birth_date"}


def test_an_under_14_needs_a_guardians_consent(manager_a):
    client = client_for(manager_a)
    young = new_student(grade="P3", birth_date="2017-01-01")

    refused = client.post(URL, young)
    accepted = client.post(URL, {**young, "consent": {"guardian_name": "张妈妈",
                                                      "method": "paper"}})

    assert refused.status_code == 400
    assert "consent" in refused.json()["error"]["fields"]
    assert accepted.status_code == 201
    assert Student.objects.get(pk=accepted.json()["id"]).consents.count() == 1


def test_teachers_cannot_write_students(teacher_a, branch_a):
    assert client_for(teacher_a).post(URL, new_student()).status_code == 403


def test_search_by_pinyin_initials_and_phone_digits(manager_a, branch_a):
    wang = StudentFactory(branch=branch_a, name_zh="王小明")
    StudentFactory(branch=branch_a, name_zh="李华")
    GuardianshipFactory(student=wang, parent__phone="+8613900001234")
    client = client_for(manager_a)

    def found(text):
        return [r["id"] for r in client.get(URL, {"search": text}).json()["results"]]

    assert found("wangxiao") == found("wxm") == found("小明") == found("0001234") == [wang.pk]


def test_masked_roles_cannot_find_students_by_phone_digits(world, teacher_a):
    phone_digits = world["parent"].phone[-6:]
    res = client_for(teacher_a).get(URL, {"search": phone_digits})
    assert res.json()["count"] == 0


def test_updated_since_returns_only_rows_changed_since(manager_a, branch_a):
    old = StudentFactory(branch=branch_a)
    Student.objects.filter(pk=old.pk).update(
        updated_at=timezone.now() - dt.timedelta(days=3))
    fresh = StudentFactory(branch=branch_a)
    since = (timezone.now() - dt.timedelta(days=1)).isoformat().replace("+00:00", "Z")

    ids = [r["id"] for r in client_for(manager_a).get(
        URL, {"updated_since": since}).json()["results"]]

    assert ids == [fresh.pk]


@pytest.mark.parametrize(("param", "value"), [
    ("updated_since", "last tuesday"), ("grade", "Z1"), ("period", "nirvana"),
    ("ordering", "password"), ("page_size", "0"), ("page", "x"), ("branch", "abc"),
])
def test_an_invalid_filter_value_is_a_400_naming_the_parameter(manager_a, param, value):
    res = client_for(manager_a).get(URL, {param: value})
    assert res.status_code == 400
    assert param in res.json()["error"]["fields"]


def test_pages_are_capped_and_linked(manager_a, branch_a):
    StudentFactory.create_batch(5, branch=branch_a)
    client = client_for(manager_a)

    first = client.get(URL, {"page_size": 2, "ordering": "-created_at"}).json()
    capped = client.get(URL, {"page_size": 10_000})

    assert first["count"] == 5 and len(first["results"]) == 2
    assert "page=2" in first["next"] and first["previous"] is None
    assert capped.status_code == 200
    assert client.get(URL, {"page": 99}).status_code == 404


@pytest.mark.parametrize("resource", ["students", "parents", "contracts", "attendance",
                                      "payments", "guardianships", "interactions"])
def test_list_query_count_does_not_grow_with_page_size(resource, head_office, branch_a,
                                                       django_assert_max_num_queries):
    session = ClassSessionFactory(class_group__branch=branch_a)

    def make(n):
        for _ in range(n):
            g = GuardianshipFactory(student__branch=branch_a)
            contract = ContractFactory(student=g.student)
            Payment.objects.create(contract=contract, amount=10, method="cash",
                                   paid_at=timezone.now())
            InteractionFactory(student=g.student)
            Attendance.objects.create(session=session, student=g.student, status="leave",
                                      date=session.date)

    client = client_for(head_office)
    make(5)
    with CaptureQueriesContext(connection) as five:
        assert client.get(f"/api/v1/{resource}/").json()["count"] == 5
    make(25)
    with django_assert_max_num_queries(len(five.captured_queries)):
        res = client.get(f"/api/v1/{resource}/")
    assert len(res.json()["results"]) == 30


@pytest.mark.parametrize(("param", "value", "status"), [
    ("updated_since", "1694-02-26T22:30:20-21:11", 200),  # odd offset: PostgreSQL refused it
    ("branch", "99999999999999999999", 400),  # past BIGINT: was a database overflow
])
def test_values_the_fuzzer_found_are_answered_not_crashed(manager_a, param, value, status):
    assert client_for(manager_a).get(URL, {param: value}).status_code == status


def test_a_write_pointing_at_an_absurd_id_is_a_field_error(manager_a):
    res = client_for(manager_a).post("/api/v1/interactions/", {
        "student": 2**70, "with_whom": "student", "channel": "call",
        "occurred_at": "2025-03-01T10:00:00Z", "summary": "x"})
    assert res.status_code == 400
    assert "student" in res.json()["error"]["fields"]

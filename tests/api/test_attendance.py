"""Bulk roll call: one transaction, all rows or none, errors per row."""
from __future__ import annotations

import pytest

from students.models import Attendance, LedgerEntry
from tests.factories import ContractFactory, StudentFactory

from .conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def roll(world):
    session = world["session"]
    classmate = StudentFactory(branch=world["branch"])
    ContractFactory(student=classmate, course=world["course"],
                    class_group=world["class_group"])
    return session, world["student"], classmate


def url(session):
    return f"/api/v1/sessions/{session.pk}/attendance/"


def test_the_class_teacher_uploads_a_whole_roll_call(roll, teacher_a):
    session, student, classmate = roll
    res = client_for(teacher_a).post(url(session), [
        {"student": student.pk, "status": "absent"},
        {"student": classmate.pk, "status": "attended"}])
    assert res.status_code == 200, res.content
    assert {r["student"]: r["status"] for r in res.json()} == {
        student.pk: "absent", classmate.pk: "attended"}
    # The corrected record's consumption was reversed: nothing edited in place.
    assert LedgerEntry.objects.filter(kind="reversal").count() == 1


def test_one_bad_row_saves_nothing_and_names_the_row(roll, manager_a, world):
    session, student, classmate = roll
    res = client_for(manager_a).post(url(session), [
        {"student": classmate.pk, "status": "attended"},
        {"student": student.pk, "status": "sleeping"},
        {"student": world["student_b"].pk, "status": "attended"}])
    assert res.status_code == 400
    fields = res.json()["error"]["fields"]
    assert set(fields) == {"1.status"}
    res = client_for(manager_a).post(url(session), [
        {"student": classmate.pk, "status": "attended"},
        {"student": world["student_b"].pk, "status": "attended"}])
    assert set(res.json()["error"]["fields"]) == {"1.student"}
    assert not Attendance.objects.filter(student=classmate).exists()


def test_a_service_error_on_a_later_row_undoes_the_earlier_rows(roll, manager_a, world):
    session, _student, classmate = roll
    from decimal import Decimal

    broke = StudentFactory(branch=session.class_group.branch, name_zh="没课时")
    ContractFactory(student=broke, course=world["course"], class_group=world["class_group"],
                    hours_purchased=Decimal("1"))  # on the roster, but 1 h < a 2 h lesson
    res = client_for(manager_a).post(url(session), [
        {"student": classmate.pk, "status": "attended"},
        {"student": broke.pk, "status": "attended"}])
    assert res.status_code == 400
    assert "没课时" in str(res.json()["error"])
    assert not Attendance.objects.filter(student=classmate).exists()


def test_a_student_not_on_the_roster_refuses_the_whole_roll_call(roll, manager_a):
    session, _student, classmate = roll
    stranger = StudentFactory(branch=session.class_group.branch, name_zh="插班生")
    res = client_for(manager_a).post(url(session), [
        {"student": classmate.pk, "status": "attended"},
        {"student": stranger.pk, "status": "attended"}])
    assert res.status_code == 400
    assert "插班生" in str(res.json()["error"])
    assert not Attendance.objects.filter(student=classmate).exists()


def test_only_the_classs_teacher_takes_its_roll_call(roll, branch_a):
    from crm.roles import Role
    from tests.factories import staff

    other_teacher = staff(Role.TEACHER, branch_a, username="t_other")
    session, student, _ = roll
    res = client_for(other_teacher).post(url(session), [{"student": student.pk,
                                                         "status": "late"}])
    assert res.status_code == 403


def test_front_desk_and_counselors_cannot_upload(roll, front_desk_a, counselor_a):
    session, student, _ = roll
    for user in (front_desk_a, counselor_a):
        assert client_for(user).post(url(session), [{"student": student.pk,
                                                     "status": "late"}]).status_code == 403


def test_another_branchs_session_is_not_found(roll, manager_b):
    session, student, _ = roll
    assert client_for(manager_b).post(url(session), [{"student": student.pk,
                                                      "status": "late"}]).status_code == 404


def test_the_roll_call_can_be_read_back(roll, counselor_a):
    session, student, _ = roll
    rows = client_for(counselor_a).get(url(session)).json()
    assert [r["student"] for r in rows] == [student.pk]

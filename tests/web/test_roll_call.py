"""Roll call in one screen: statuses per student or "all present", one transaction."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from students.models import Attendance, LedgerEntry
from students.selectors import contract_balances
from tests.factories import ClassGroupFactory, ClassSessionFactory, ContractFactory, StudentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lesson(branch_a, teacher_a):
    group = ClassGroupFactory(branch=branch_a, teacher=teacher_a, name="高二数学A班")
    session = ClassSessionFactory(class_group=group)
    kids = [StudentFactory(branch=branch_a, name_zh=n) for n in ("赵一", "钱二")]
    for kid in kids:
        ContractFactory(student=kid, course=group.course, class_group=group)
    return session, kids


def url(session):
    return reverse("students:roll_call", args=[session.pk])


def test_the_teacher_sees_todays_lessons_and_the_roster(as_user, teacher_a, lesson):
    session, _kids = lesson
    listing = as_user(teacher_a).get(reverse("students:sessions"))
    assert "高二数学A班" in listing.content.decode()
    page = as_user(teacher_a).get(url(session)).content.decode()
    assert "赵一" in page and "钱二" in page


def test_all_present_marks_everyone_and_consumes_hours(as_user, teacher_a, lesson):
    session, _kids = lesson
    response = as_user(teacher_a).post(url(session), {"all_present": "1"})
    assert response.status_code == 302
    assert set(Attendance.objects.values_list("status", flat=True)) == {"attended"}
    assert all(c.balance == Decimal("38") for c in contract_balances())


def test_a_correction_reverses_the_earlier_consumption(as_user, front_desk_a, lesson):
    session, (first, second) = lesson
    client = as_user(front_desk_a)
    client.post(url(session), {f"status_{first.pk}": "attended",
                               f"status_{second.pk}": "attended"})
    client.post(url(session), {f"status_{first.pk}": "leave",
                               f"status_{second.pk}": "attended"})
    assert Attendance.objects.get(student=first).status == "leave"
    assert LedgerEntry.objects.filter(kind="reversal").count() == 1
    balances = {c.student_id: c.balance for c in contract_balances()}
    assert balances == {first.pk: Decimal("40"), second.pk: Decimal("38")}


def test_a_student_without_hours_blocks_the_whole_roll_call_with_a_message(
        as_user, manager_a, lesson):
    session, (_first, second) = lesson
    from django.utils import timezone

    LedgerEntry.objects.create(contract=second.contracts.get(), kind="expired",
                               hours=Decimal("-39"), occurred_at=timezone.now())
    response = as_user(manager_a).post(url(session), {"all_present": "1"}, follow=True)
    assert "钱二" in response.content.decode()
    assert not Attendance.objects.exists()


def test_a_teacher_of_another_class_gets_404(as_user, lesson, branch_a):
    from crm.roles import Role
    from tests.factories import staff

    session, _ = lesson
    other = staff(Role.TEACHER, branch_a, username="t_other")
    assert as_user(other).get(url(session)).status_code == 404


def test_another_branch_manager_gets_404_and_a_counselor_403(as_user, manager_b, counselor_a,
                                                             lesson):
    session, _ = lesson
    assert as_user(manager_b).get(url(session)).status_code == 404
    assert as_user(counselor_a).get(url(session)).status_code == 403

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from parents.models import GuardianConsent
from students.models import Attendance, LedgerEntry, Student
from students.selectors import contract_balances
from students.services import ConsentInput, attendance_record, contract_create, student_create
from tests.factories import (
    ClassSessionFactory,
    ContractFactory,
    CourseFactory,
    StudentFactory,
)

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 26)


def test_an_under_14_student_is_refused_without_guardian_consent(branch_a):
    with pytest.raises(ValidationError) as exc:
        student_create(branch=branch_a, name_zh="张小雨", grade="P5",
                       birth_date=dt.date(2016, 3, 1))
    assert "consent" in exc.value.message_dict
    assert "under 14" in exc.value.message_dict["consent"][0]
    assert not Student.objects.exists()


def test_an_under_14_student_is_saved_with_the_consent_record(branch_a):
    student = student_create(
        branch=branch_a, name_zh="张小雨", grade="P5", birth_date=dt.date(2016, 3, 1),
        consent=ConsentInput(guardian_name="张伟", method="paper", scope=["profile", "contact"]),
    )
    consent = GuardianConsent.objects.get(student=student)
    assert (consent.guardian_name, consent.method, consent.scope) == (
        "张伟", "paper", ["profile", "contact"])


def test_unknown_age_falls_back_to_grade_for_the_consent_rule(branch_a):
    with pytest.raises(ValidationError):
        student_create(branch=branch_a, name_zh="李想", grade="J1")
    assert student_create(branch=branch_a, name_zh="李想", grade="S1").pk


def test_a_consent_with_an_unknown_scope_is_refused_and_nothing_is_saved(branch_a):
    with pytest.raises(ValidationError) as exc:
        student_create(branch=branch_a, name_zh="张小雨", grade="P5",
                       consent=ConsentInput(guardian_name="张伟", method="paper",
                                            scope=["selling_data"]))
    assert "Unknown consent scope" in str(exc.value)
    assert not Student.objects.exists()


def test_student_pinyin_keys_are_kept_for_search(branch_a):
    student = student_create(branch=branch_a, name_zh="张小明", grade="S2")
    assert (student.name_pinyin, student.name_initials) == ("zhangxiaoming", "zxm")


def test_a_second_contract_is_recorded_as_a_renewal(branch_a):
    student = StudentFactory(branch=branch_a)
    course = CourseFactory()
    common = dict(student=student, course=course, hours_purchased=Decimal("40"),
                  list_price=Decimal("8000"), valid_from=TODAY,
                  valid_until=TODAY + dt.timedelta(days=180))
    first = contract_create(contract_no="C1", hours_gifted=Decimal("4"), **common)
    second = contract_create(contract_no="C2", **common)
    assert (first.is_renewal, second.is_renewal) == (False, True)
    assert contract_balances().get(pk=first.pk).balance == Decimal("44")
    kinds = list(first.ledger.values_list("kind", "hours"))
    assert kinds == [("purchased", Decimal("40.00")), ("gifted", Decimal("4.00"))]


def test_hours_are_consumed_from_the_contract_that_expires_first():
    student = StudentFactory()
    today = timezone.localdate()
    late = ContractFactory(student=student, valid_until=today + dt.timedelta(days=300))
    early = ContractFactory(student=student, valid_until=today + dt.timedelta(days=20))
    session = ClassSessionFactory(class_group__branch=student.branch)
    att = attendance_record(session=session, student=student, status="attended")
    assert att.contract == early
    balances = dict(contract_balances().values_list("pk", "balance"))
    assert (balances[early.pk], balances[late.pk]) == (Decimal("38"), Decimal("40"))


def test_a_lesson_without_hours_left_is_refused_and_nothing_is_written():
    student = StudentFactory()
    ContractFactory(student=student, hours_purchased=Decimal("1"))
    session = ClassSessionFactory(class_group__branch=student.branch, hours=Decimal("2"))
    with pytest.raises(ValidationError) as exc:
        attendance_record(session=session, student=student, status="attended")
    assert "no valid contract with 2" in str(exc.value)
    assert not Attendance.objects.exists()


def test_leave_and_absence_consume_nothing():
    student = StudentFactory()
    contract = ContractFactory(student=student)
    for i, status in enumerate(["leave", "absent"]):
        session = ClassSessionFactory(class_group__branch=student.branch,
                                      start_time=f"{8 + i}:00", end_time=f"{9 + i}:00")
        attendance_record(session=session, student=student, status=status)
    assert contract_balances().get(pk=contract.pk).balance == Decimal("40")


def test_correcting_a_roll_call_reverses_the_entry_instead_of_editing_it():
    student = StudentFactory()
    contract = ContractFactory(student=student)
    session = ClassSessionFactory(class_group__branch=student.branch)
    attendance_record(session=session, student=student, status="attended")
    attendance_record(session=session, student=student, status="leave")
    attendance_record(session=session, student=student, status="late")
    kinds = list(contract.ledger.order_by("id").values_list("kind", "hours"))
    assert kinds == [("purchased", Decimal("40.00")), ("consumed", Decimal("-2.00")),
                     ("reversal", Decimal("2.00")), ("consumed", Decimal("-2.00"))]
    assert contract_balances().get(pk=contract.pk).balance == Decimal("38")
    assert Attendance.objects.get().status == "late"
    assert LedgerEntry.objects.filter(kind="reversal").get().reverses.kind == "consumed"


def test_an_unknown_attendance_status_is_refused():
    student = StudentFactory()
    session = ClassSessionFactory(class_group__branch=student.branch)
    with pytest.raises(ValidationError) as exc:
        attendance_record(session=session, student=student, status="sleeping")
    assert "status" in exc.value.message_dict

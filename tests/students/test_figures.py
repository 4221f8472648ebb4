"""Derived figures come from the facts (ledger, attendance), never from counters."""
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from students.models import Attendance, Student
from students.selectors import with_figures
from students.services import attendance_record
from tests.factories import ClassSessionFactory, ContractFactory, StudentFactory

pytestmark = pytest.mark.django_db


def test_remaining_hours_is_the_sum_of_ledger_entries_across_contracts():
    student = StudentFactory()
    ContractFactory(student=student, hours_purchased=Decimal("40"))
    ContractFactory(student=student, hours_purchased=Decimal("20"))
    session = ClassSessionFactory(class_group__branch=student.branch, hours=Decimal("2"))
    attendance_record(session=session, student=student, status=Attendance.Status.ATTENDED)
    row = with_figures(Student.objects.filter(pk=student.pk)).get()
    assert row.remaining_hours == Decimal("58")


def test_a_student_without_contracts_has_zero_hours_and_no_attendance_rate():
    student = StudentFactory()
    row = with_figures(Student.objects.filter(pk=student.pk)).get()
    assert row.remaining_hours == 0
    assert row.attendance_rate is None


def test_attendance_rate_counts_late_as_present_and_excuses_leave():
    student = StudentFactory()
    ContractFactory(student=student, hours_purchased=Decimal("100"))
    statuses = ["attended", "attended", "late", "absent", "leave"]
    for i, status in enumerate(statuses):
        session = ClassSessionFactory(class_group__branch=student.branch,
                                      start_time=f"{8 + i}:00", end_time=f"{9 + i}:00")
        attendance_record(session=session, student=student, status=status)
    row = with_figures(Student.objects.filter(pk=student.pk)).get()
    assert (row.present_count, row.absent_count) == (3, 1)
    assert row.attendance_rate == pytest.approx(0.75)
    assert row.remaining_hours == Decimal("94")  # 3 consuming lessons x 2 h


def test_figures_for_many_students_take_one_query():
    for _ in range(5):
        ContractFactory()
    with CaptureQueriesContext(connection) as ctx:
        rows = list(with_figures(Student.objects.all()))
    assert len(rows) == 5
    assert len(ctx.captured_queries) == 1

"""Roll call for a whole session: one transaction, policy for shortfalls and absence."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from students.models import Attendance, ContractPolicy, LedgerEntry, MakeUp
from students.selectors import contract_balances
from students.services import makeup_book, roll_call_take
from tests.factories import StudentFactory, staff
from tests.students.factories_extra import enrolled, klass, lesson, policy

pytestmark = pytest.mark.django_db


def balance(contract):
    return contract_balances().get(pk=contract.pk).balance


def test_all_present_marks_the_roster_and_consumes_hours_in_one_step(branch_a, teacher_a):
    group = klass(branch_a, teacher_a)
    a, b = enrolled(group), enrolled(group)
    result = roll_call_take(session=lesson(group), all_present=True, actor=teacher_a)
    assert {att.status for att in result.attendances} == {"attended"}
    assert (balance(a), balance(b)) == (Decimal("38"), Decimal("38"))


def test_explicit_marks_override_all_present(branch_a, front_desk_a):
    group = klass(branch_a)
    a, b = enrolled(group), enrolled(group)
    session = lesson(group)
    roll_call_take(session=session, all_present=True, marks={b.student_id: "leave"},
                   actor=front_desk_a)
    assert dict(session.attendances.values_list("student_id", "status")) == {
        a.student_id: "attended", b.student_id: "leave"}
    assert balance(b) == Decimal("40")


def test_correcting_a_roll_call_reverses_and_rewrites_entries(branch_a, manager_a):
    group = klass(branch_a)
    c = enrolled(group)
    session = lesson(group)
    roll_call_take(session=session, marks={c.student_id: "attended"}, actor=manager_a)
    roll_call_take(session=session, marks={c.student_id: "absent"}, actor=manager_a)
    roll_call_take(session=session, marks={c.student_id: "late"}, actor=manager_a)
    kinds = list(c.ledger.order_by("id").values_list("kind", "hours"))
    assert kinds == [("purchased", Decimal("40.00")), ("consumed", Decimal("-2.00")),
                     ("reversal", Decimal("2.00")), ("consumed", Decimal("-2.00"))]
    assert balance(c) == Decimal("38")


def test_teacher_of_another_class_and_counselors_are_refused(branch_a, counselor_a, manager_b):
    own_teacher = staff("teacher", branch_a, username="t_own")
    other_teacher = staff("teacher", branch_a, username="t_other")
    group = klass(branch_a, own_teacher)
    enrolled(group)
    session = lesson(group)
    for actor in (other_teacher, counselor_a, manager_b):
        with pytest.raises(PermissionDenied, match="Only the class's teacher"):
            roll_call_take(session=session, all_present=True, actor=actor)
    assert not Attendance.objects.exists()


def test_head_office_may_take_roll_call_anywhere(branch_b, head_office):
    group = klass(branch_b)
    enrolled(group)
    assert roll_call_take(session=lesson(group), all_present=True, actor=head_office).attendances


def test_block_policy_refuses_the_whole_roll_call_naming_the_student(branch_a, manager_a):
    group = klass(branch_a)
    rich = enrolled(group)
    poor = enrolled(group, hours="1")
    with pytest.raises(ValidationError) as exc:
        roll_call_take(session=lesson(group), all_present=True, actor=manager_a)
    assert poor.student.name_zh in str(exc.value)
    assert "no valid contract with 2" in str(exc.value)
    assert not Attendance.objects.exists()
    assert balance(rich) == Decimal("40")


def test_owe_policy_takes_the_contract_ending_first_negative_and_flags_it(branch_a, manager_a):
    policy(branch_a, shortfall=ContractPolicy.Shortfall.OWE)
    group = klass(branch_a)
    today = timezone.localdate()
    early = enrolled(group, hours="1", valid_until=today + dt.timedelta(days=10))
    late = enrolled(group, hours="1", student=early.student,
                    valid_until=today + dt.timedelta(days=100))
    result = roll_call_take(session=lesson(group), all_present=True, actor=manager_a)
    assert result.owed == [early.student]
    assert "owed" in result.warnings[0]
    assert (balance(early), balance(late)) == (Decimal("-1"), Decimal("1"))
    assert LedgerEntry.objects.get(kind="consumed").is_overdraft


def test_absence_consumes_hours_only_when_branch_policy_says_so(branch_a, manager_a):
    group = klass(branch_a)
    c = enrolled(group)
    roll_call_take(session=lesson(group, hour=8), marks={c.student_id: "absent"},
                   actor=manager_a)
    assert balance(c) == Decimal("40")
    policy(branch_a, absence_consumes=True)
    roll_call_take(session=lesson(group, hour=10), marks={c.student_id: "absent"},
                   actor=manager_a)
    assert balance(c) == Decimal("38")


def test_a_student_not_on_the_roster_is_refused(branch_a, manager_a):
    group = klass(branch_a)
    enrolled(group)
    stranger = StudentFactory(branch=branch_a)
    with pytest.raises(ValidationError, match="Not on this lesson's roster"):
        roll_call_take(session=lesson(group), marks={stranger.pk: "attended"}, actor=manager_a)


def test_hours_used_up_complete_the_contract_and_a_correction_reopens_it(branch_a, manager_a):
    group = klass(branch_a)
    c = enrolled(group, hours="2")
    session = lesson(group)
    roll_call_take(session=session, all_present=True, actor=manager_a)
    c.refresh_from_db()
    assert (c.status, c.ended_on) == ("completed", session.date)
    roll_call_take(session=session, marks={c.student_id: "leave"}, actor=manager_a)
    c.refresh_from_db()
    assert (c.status, c.ended_on) == ("active", None)


def test_a_leave_gets_one_make_up_which_consumes_when_attended(branch_a, manager_a):
    group = klass(branch_a)
    other_group = klass(branch_a, course=group.course)
    c = enrolled(group)
    first = lesson(group)
    roll_call_take(session=first, marks={c.student_id: "leave"}, actor=manager_a)
    leave = Attendance.objects.get(session=first)
    makeup_session = lesson(other_group, hour=10)
    makeup_book(leave=leave, session=makeup_session, actor=manager_a)
    with pytest.raises(ValidationError, match="already booked"):
        makeup_book(leave=leave, session=lesson(other_group, hour=14), actor=manager_a)
    # The make-up student is on the other class's roster for that lesson only.
    roll_call_take(session=makeup_session, all_present=True, actor=manager_a)
    assert balance(c) == Decimal("38")
    assert MakeUp.objects.get().original == leave
    with pytest.raises(ValidationError, match="make-up lesson booked"):
        roll_call_take(session=first, marks={c.student_id: "attended"}, actor=manager_a)


def test_a_make_up_needs_a_leave(branch_a, manager_a):
    group = klass(branch_a)
    c = enrolled(group)
    first = lesson(group)
    roll_call_take(session=first, marks={c.student_id: "absent"}, actor=manager_a)
    with pytest.raises(ValidationError, match="only be booked for a leave"):
        makeup_book(leave=Attendance.objects.get(), session=lesson(group, hour=10),
                    actor=manager_a)

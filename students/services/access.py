"""Who may take roll call and who may decide refunds and transfers.

Row visibility stays in crm.permissions; these are the action checks the ledger
services apply, raising PermissionDenied with a message the caller can show.
"""
from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from crm.permissions import branch_of, role_of, scope_students
from crm.roles import Role
from students.models import ClassSession, Student


def check_roll_call(actor: Any, session: ClassSession) -> None:
    """The class's teacher, the branch's front desk or manager, or head office."""
    role = role_of(actor)
    group = session.class_group
    if role == Role.HEAD_OFFICE:
        return
    if role in {Role.MANAGER, Role.FRONT_DESK} and branch_of(actor) == group.branch:
        return
    if role == Role.TEACHER and actor.pk in {group.teacher_id, session.teacher_id}:
        return
    raise PermissionDenied(_("Only the class's teacher, the branch's front desk or manager, "
                             "or head office can take roll call for this lesson."))


def check_decide(actor: Any, branch: Any, what: str) -> None:
    """Approving money or hours moves: a manager of the contract's branch, or head office."""
    role = role_of(actor)
    if role == Role.HEAD_OFFICE:
        return
    if role == Role.MANAGER and branch_of(actor) == branch:
        return
    raise PermissionDenied(_("Only a manager of this branch or head office can decide on "
                             "%(what)s.") % {"what": what})


def check_request(actor: Any, student: Student, what: str) -> None:
    """Requests (refund, transfer) come from staff who may see the student, not teachers."""
    if actor is None:  # system callers (imports, the family app via a service account)
        return
    role = role_of(actor)
    visible = scope_students(actor, Student.objects.filter(pk=student.pk)).exists()
    if role in {Role.FRONT_DESK, Role.COUNSELOR, Role.MANAGER, Role.HEAD_OFFICE} and visible:
        return
    raise PermissionDenied(_("You cannot request %(what)s for this student.") % {"what": what})


MONEY_DESK = frozenset({Role.FRONT_DESK, Role.COUNSELOR, Role.MANAGER, Role.HEAD_OFFICE})


def can_take_payment(actor: Any) -> bool:
    """Who takes payments, signs enrolments and prints receipts (README: front desk takes
    money but sees no scores); which students is `check_take_payment`'s business."""
    return role_of(actor) in MONEY_DESK


def check_take_payment(actor: Any, contract: Any) -> None:
    """Front desk, counselors and managers for students they may see; head office."""
    visible = scope_students(actor, Student.objects.filter(pk=contract.student_id)).exists()
    if can_take_payment(actor) and visible:
        return
    raise PermissionDenied(_("You cannot take payments for this student."))


def check_enrol(actor: Any, student: Student) -> None:
    """Signing a contract at the desk: the same staff who take its first payment."""
    visible = scope_students(actor, Student.objects.filter(pk=student.pk)).exists()
    if can_take_payment(actor) and visible:
        return
    raise PermissionDenied(_("You cannot sign contracts for this student."))


def check_not_own_request(actor: Any, requested_by_id: int | None) -> None:
    """Four eyes: whoever asked for a refund or transfer never approves it."""
    if requested_by_id is not None and getattr(actor, "pk", None) == requested_by_id:
        raise PermissionDenied(_("You requested this yourself; another manager must decide."))

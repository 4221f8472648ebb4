"""Lesson-hour writes: signing contracts, consuming hours at roll call, make-up lessons.

The ledger is append-only: balances are sums of entries, corrections are reversals.
Branch policy (ContractPolicy) decides prepayment caps, what happens when a lesson
needs more hours than the student has (block / owe) and whether absence consumes.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from students.models import (
    Attendance,
    ClassSession,
    Contract,
    ContractPolicy,
    Course,
    LedgerEntry,
    MakeUp,
    Student,
)
from students.selectors import contract_balances

from .access import check_roll_call
from .prepayment import prepayment_field_errors

ZERO = Decimal("0")


@transaction.atomic
def contract_create(*, student: Student, course: Course, hours_purchased: Decimal,
                    list_price: Decimal, valid_from: dt.date, valid_until: dt.date,
                    contract_no: str, discount: Decimal = Decimal("0"),
                    hours_gifted: Decimal = Decimal("0"), signed_on: dt.date | None = None,
                    class_group: Any = None, is_trial: bool = False, actor: Any = None,
                    policy: ContractPolicy | None = None) -> Contract:
    """Sign a lesson-hour package; its hours enter the ledger as purchased/gifted entries.

    A contract of a student who already had a non-trial contract is a renewal
    (renewal-rate figures count these). The branch's prepayment caps (hours, months,
    renewal only below a remaining-hours threshold) are enforced here, so every door
    (admin, API, UI, imports) refuses the same contracts with the same message.
    """
    # Lock the student so two renewals signed at once see each other's hours.
    Student.objects.select_for_update().filter(pk=student.pk).first()
    is_renewal = (not is_trial) and student.contracts.filter(is_trial=False).exists()
    errors = contract_cap_errors(student=student, hours_purchased=hours_purchased,
                                 valid_from=valid_from, valid_until=valid_until,
                                 is_trial=is_trial, policy=policy)
    if errors:
        # Keyed by field (hours, validity) so a form marks the input that broke the cap.
        raise ValidationError(errors, code="prepayment_cap")
    contract = Contract(
        student=student, branch=student.branch, course=course, class_group=class_group,
        hours_purchased=hours_purchased, hours_gifted=hours_gifted, list_price=list_price,
        discount=discount, valid_from=valid_from, valid_until=valid_until,
        signed_on=signed_on or timezone.localdate(), contract_no=contract_no,
        is_renewal=is_renewal, is_trial=is_trial,
        sales_counselor=student.counselor,
    )
    contract.full_clean()
    contract.save()
    now = timezone.now()
    LedgerEntry.objects.create(contract=contract, kind=LedgerEntry.Kind.PURCHASED,
                               hours=hours_purchased, occurred_at=now, created_by=_user(actor))
    if hours_gifted:
        LedgerEntry.objects.create(contract=contract, kind=LedgerEntry.Kind.GIFTED,
                                   hours=hours_gifted, occurred_at=now, created_by=_user(actor))
    return contract


def contract_cap_errors(*, student: Student, hours_purchased: Decimal, valid_from: dt.date,
                        valid_until: dt.date, is_trial: bool = False,
                        policy: ContractPolicy | None = None) -> dict[str, list[str]]:
    """The branch's prepayment caps a new contract of `student` would break, by field.

    What contract_create refuses; forms (admin, pages) call it to mark fields first.
    """
    is_renewal = (not is_trial) and student.contracts.filter(is_trial=False).exists()
    policy = policy or ContractPolicy.for_branch(student.branch_id)
    return prepayment_field_errors(
        policy=policy, hours_purchased=hours_purchased, valid_from=valid_from,
        valid_until=valid_until, is_renewal=is_renewal,
        hours_left=student_hours_left(student) if is_renewal else ZERO)


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def contract_balance(contract: Contract) -> Decimal:
    """The contract's balance: the sum of its ledger entries."""
    return contract.ledger.aggregate(total=Sum("hours"))["total"] or ZERO


def student_hours_left(student: Student) -> Decimal:
    """Hours left across the student's open contracts (what a renewal cap compares)."""
    return (LedgerEntry.objects.filter(
        contract__student=student,
        contract__status__in=[Contract.Status.ACTIVE, Contract.Status.COMPLETED])
        .aggregate(total=Sum("hours"))["total"] or ZERO)


def _valid_on(student: Student, on: dt.date, statuses: list[str]) -> Any:
    return contract_balances(student.contracts.filter(
        status__in=statuses, valid_from__lte=on, valid_until__gte=on)).order_by("valid_until", "id")


def _contract_to_charge(student: Student, hours: Decimal, on: dt.date,
                        policy: ContractPolicy) -> tuple[Contract | None, bool]:
    """Hours are drawn from the valid contract whose validity ends first (then oldest).

    Returns (contract, overdraft). Under policy "owe", when no valid contract has enough
    hours, the one ending first is charged anyway and the entry is flagged as overdraft.
    """
    enough = _valid_on(student, on, [Contract.Status.ACTIVE]).filter(balance__gte=hours).first()
    if enough is not None or policy.shortfall != ContractPolicy.Shortfall.OWE:
        return enough, False
    # A contract used up to exactly zero is "completed"; owing reopens it.
    first = _valid_on(student, on, [Contract.Status.ACTIVE, Contract.Status.COMPLETED]).first()
    return first, first is not None


def _shortfall_error(student: Student, session: ClassSession) -> ValidationError:
    left = student_hours_left(student)
    return ValidationError(
        {"student": _("%(name)s has no valid contract with %(hours)s hours left "
                      "(%(left)s hours left in all).")
         % {"name": student.name_zh, "hours": session.hours, "left": left}},
        code="no_hours",
    )


def _close_if_used_up(contract: Contract, on: dt.date) -> None:
    if contract.status == Contract.Status.ACTIVE and contract_balance(contract) == ZERO:
        Contract.objects.filter(pk=contract.pk, status=Contract.Status.ACTIVE).update(
            status=Contract.Status.COMPLETED, ended_on=on, updated_at=timezone.now())


def _reopen_if_hours_back(contract: Contract) -> None:
    if contract_balance(contract) != ZERO:
        Contract.objects.filter(pk=contract.pk, status=Contract.Status.COMPLETED).update(
            status=Contract.Status.ACTIVE, ended_on=None, updated_at=timezone.now())


def _consuming(status: str, policy: ContractPolicy) -> bool:
    if status in Attendance.CONSUMING:
        return True
    return status == Attendance.Status.ABSENT and policy.absence_consumes


def _record(*, session: ClassSession, student: Student, status: str, actor: Any, note: str,
            policy: ContractPolicy) -> tuple[Attendance, LedgerEntry | None]:
    """Record or correct one attendance; returns it and the consumption entry written."""
    if status not in Attendance.Status.values:
        raise ValidationError({"status": _("Unknown attendance status “%(s)s”.") % {"s": status}})
    # Lock the student row so two roll calls of the same student serialise.
    Student.objects.select_for_update().filter(pk=student.pk).first()
    att = Attendance.objects.filter(session=session, student=student).first()
    if att is not None:
        if (att.status == Attendance.Status.LEAVE and status != Attendance.Status.LEAVE
                and MakeUp.objects.filter(original=att).exists()):
            raise ValidationError({"status": _(
                "%(name)s has a make-up lesson booked for this leave; cancel the make-up "
                "before changing the roll call.") % {"name": student.name_zh}})
        for entry in att.ledger_entries.filter(kind=LedgerEntry.Kind.CONSUMED,
                                               reversed_by__isnull=True).select_related(
                                                   "contract"):
            if entry.contract.status not in {Contract.Status.ACTIVE, Contract.Status.COMPLETED}:
                # A refunded, transferred or expired contract is settled at zero; giving it
                # hours back would leave value nobody can use or refund.
                raise ValidationError({"status": _(
                    "This lesson was charged to contract %(no)s, which is %(status)s; the "
                    "roll call can no longer be corrected.")
                    % {"no": entry.contract.contract_no,
                       "status": entry.contract.get_status_display()}})
            LedgerEntry.objects.create(
                contract=entry.contract, kind=LedgerEntry.Kind.REVERSAL, hours=-entry.hours,
                reverses=entry, attendance=att, occurred_at=timezone.now(),
                note=_("Roll call corrected"), created_by=_user(actor),
            )
            _reopen_if_hours_back(entry.contract)
        att.status, att.note, att.recorded_by, att.contract = status, note, _user(actor), None
    else:
        att = Attendance(session=session, student=student, status=status, date=session.date,
                         note=note, recorded_by=_user(actor))
    entry = None
    if _consuming(status, policy):
        contract, overdraft = _contract_to_charge(student, session.hours, session.date, policy)
        if contract is None:
            raise _shortfall_error(student, session)
        att.contract = contract
        att.save()
        entry = LedgerEntry.objects.create(
            contract=contract, kind=LedgerEntry.Kind.CONSUMED, hours=-session.hours,
            attendance=att, occurred_at=timezone.now(), created_by=_user(actor),
            is_overdraft=overdraft,
            note=_("Owed: consumed beyond the balance") if overdraft else "",
        )
        if overdraft and contract.status == Contract.Status.COMPLETED:
            Contract.objects.filter(pk=contract.pk).update(
                status=Contract.Status.ACTIVE, ended_on=None, updated_at=timezone.now())
        elif not overdraft:
            _close_if_used_up(contract, session.date)
    else:
        att.save()
    return att, entry


@transaction.atomic
def attendance_record(*, session: ClassSession, student: Student, status: str,
                      actor: Any = None, note: str = "",
                      policy: ContractPolicy | None = None) -> Attendance:
    """Record (or correct) one student's attendance at a session.

    An attended or late lesson (and an absence, if branch policy says so) writes a
    consumption entry; correcting a record reverses the earlier entry instead of editing
    anything (the ledger is append-only). Staff use `roll_call_take` for a whole class.
    """
    policy = policy or ContractPolicy.for_branch(session.class_group.branch_id)
    att, _entry = _record(session=session, student=student, status=status, actor=actor,
                          note=note, policy=policy)
    return att


@dataclass
class RollCallResult:
    attendances: list[Attendance] = field(default_factory=list)
    # Students charged beyond their balance under policy "owe": show these to staff.
    owed: list[Student] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def session_roster(session: ClassSession) -> list[Student]:
    """Who is expected: students with an open contract in the class, plus make-ups booked."""
    enrolled = Student.objects.filter(
        contracts__class_group=session.class_group,
        contracts__status__in=[Contract.Status.ACTIVE, Contract.Status.COMPLETED],
        contracts__valid_from__lte=session.date, contracts__valid_until__gte=session.date,
    )
    makeups = Student.objects.filter(attendances__makeup__session=session)
    return list((enrolled | makeups).distinct().order_by("pk"))


@transaction.atomic
def roll_call_take(*, session: ClassSession, marks: dict[int, str] | None = None,
                   all_present: bool = False, actor: Any) -> RollCallResult:
    """Take (or correct) roll call for a whole session in one transaction.

    `marks` maps student id -> attended/late/leave/absent; `all_present` marks every
    student on the roster attended, with `marks` overriding individual students. Either
    every attendance and ledger entry lands or none does; under policy "block" a student
    without enough hours refuses the whole roll call with a message naming them. Notices
    to parents are queued only after the commit (a rolled-back roll call sends nothing).
    """
    from .notices import notify_roll_call

    check_roll_call(actor, session)
    policy = ContractPolicy.for_branch(session.class_group.branch_id)
    roster = {s.pk: s for s in session_roster(session)}
    wanted: dict[int, str] = dict.fromkeys(roster, Attendance.Status.ATTENDED) \
        if all_present else {}
    wanted.update({int(k): v for k, v in (marks or {}).items()})
    if not wanted:
        raise ValidationError(_("Mark at least one student, or choose “all present”."))
    recorded = set(session.attendances.values_list("student_id", flat=True))
    unknown = set(wanted) - set(roster) - recorded
    extra = {s.pk: s for s in Student.objects.filter(pk__in=unknown)}
    if unknown:
        names = ", ".join(sorted(s.name_zh for s in extra.values())) or ", ".join(
            map(str, sorted(unknown)))
        raise ValidationError(_("Not on this lesson's roster: %(names)s.") % {"names": names},
                              code="not_on_roster")
    students = {**roster, **{s.pk: s for s in Student.objects.filter(pk__in=recorded)}}
    before = dict(session.attendances.values_list("student_id", "status"))
    result = RollCallResult()
    errors: list[str] = []
    changes: list[tuple[Attendance, str | None, LedgerEntry | None]] = []
    for student_id in sorted(wanted):  # a fixed order: no lock-order deadlocks
        student = students[student_id]
        if before.get(student_id) == wanted[student_id]:
            # Unchanged mark: re-saving would only add a reversal and a new consumption.
            result.attendances.append(session.attendances.get(student_id=student_id))
            continue
        try:
            with transaction.atomic():
                att, entry = _record(session=session, student=student,
                                     status=wanted[student_id], actor=actor, note="",
                                     policy=policy)
        except ValidationError as exc:
            errors.extend(exc.messages)
            continue
        result.attendances.append(att)
        changes.append((att, before.get(student_id), entry))
        if entry is not None and entry.is_overdraft:
            result.owed.append(student)
            result.warnings.append(
                _("%(name)s had too few hours; this lesson is owed (branch policy).")
                % {"name": student.name_zh})
    if errors:
        # Block policy: nothing of this roll call is kept; staff see every student at once.
        raise ValidationError(errors, code="no_hours")
    notify_roll_call(session=session, changes=changes, policy=policy)
    return result


@transaction.atomic
def makeup_book(*, leave: Attendance, session: ClassSession, actor: Any) -> MakeUp:
    """Book a make-up lesson for a leave; one per leave, in a session of the same course."""
    check_roll_call(actor, session)
    if leave.status != Attendance.Status.LEAVE:
        raise ValidationError(_("A make-up lesson can only be booked for a leave."))
    if session.pk == leave.session_id:
        raise ValidationError(_("Choose a different lesson for the make-up."))
    if session.class_group.course_id != leave.session.class_group.course_id:
        raise ValidationError(_("The make-up lesson must be of the same course."))
    if MakeUp.objects.filter(original=leave).exists():
        raise ValidationError(_("A make-up lesson is already booked for this leave."),
                              code="makeup_exists")
    return MakeUp.objects.create(original=leave, session=session, booked_by=_user(actor))

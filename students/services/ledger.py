"""Lesson-hour writes: signing contracts and consuming hours at roll call.

The ledger is append-only: balances are sums of entries, corrections are reversals.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from students.models import Attendance, ClassSession, Contract, Course, LedgerEntry, Student
from students.selectors import contract_balances


@transaction.atomic
def contract_create(*, student: Student, course: Course, hours_purchased: Decimal,
                    list_price: Decimal, valid_from: dt.date, valid_until: dt.date,
                    contract_no: str, discount: Decimal = Decimal("0"),
                    hours_gifted: Decimal = Decimal("0"), signed_on: dt.date | None = None,
                    class_group: Any = None, is_trial: bool = False, actor: Any = None) -> Contract:
    """Sign a lesson-hour package; its hours enter the ledger as purchased/gifted entries.

    A contract of a student who already had a non-trial contract is a renewal
    (renewal-rate figures count these).
    """
    is_renewal = (not is_trial) and student.contracts.filter(is_trial=False).exists()
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


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def _contract_to_charge(student: Student, hours: Decimal, on: dt.date) -> Contract | None:
    """Hours are drawn from the valid contract whose validity ends first (then oldest)."""
    return (contract_balances(student.contracts.filter(
                status=Contract.Status.ACTIVE, valid_from__lte=on, valid_until__gte=on))
            .filter(balance__gte=hours).order_by("valid_until", "id").first())


@transaction.atomic
def attendance_record(*, session: ClassSession, student: Student, status: str,
                      actor: Any = None, note: str = "") -> Attendance:
    """Record (or correct) one student's attendance at a session.

    An attended or late lesson writes a consumption entry; correcting a record
    reverses the earlier entry instead of editing anything (the ledger is append-only).
    """
    if status not in Attendance.Status.values:
        raise ValidationError({"status": _("Unknown attendance status “%(s)s”.") % {"s": status}})
    # Lock the student row so two roll calls of the same student serialise.
    Student.objects.select_for_update().filter(pk=student.pk).first()
    att = Attendance.objects.filter(session=session, student=student).first()
    if att is not None:
        for entry in att.ledger_entries.filter(kind=LedgerEntry.Kind.CONSUMED,
                                               reversed_by__isnull=True):
            LedgerEntry.objects.create(
                contract=entry.contract, kind=LedgerEntry.Kind.REVERSAL, hours=-entry.hours,
                reverses=entry, attendance=att, occurred_at=timezone.now(),
                note=_("Roll call corrected"), created_by=_user(actor),
            )
        att.status, att.note, att.recorded_by, att.contract = status, note, _user(actor), None
    else:
        att = Attendance(session=session, student=student, status=status, date=session.date,
                         note=note, recorded_by=_user(actor))
    if status in Attendance.CONSUMING:
        contract = _contract_to_charge(student, session.hours, session.date)
        if contract is None:
            raise ValidationError(
                {"student": _("%(name)s has no valid contract with %(hours)s hours left.")
                 % {"name": student.name_zh, "hours": session.hours}},
                code="no_hours",
            )
        att.contract = contract
        att.save()
        LedgerEntry.objects.create(
            contract=contract, kind=LedgerEntry.Kind.CONSUMED, hours=-session.hours,
            attendance=att, occurred_at=timezone.now(), created_by=_user(actor),
        )
    else:
        att.save()
    return att

"""Writes on students and their consumption facts (keyword-only, validated, atomic)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.services import audit, repoint_relations, snapshot

from .models import Attendance, ClassSession, Contract, Course, LedgerEntry, Student
from .selectors import contract_balances


@dataclass(frozen=True)
class ConsentInput:
    """A guardian's consent as recorded at registration (PIPL, under-14s)."""

    guardian_name: str
    method: str
    scope: list[str] = field(default_factory=lambda: ["profile", "contact"])
    given_at: dt.datetime | None = None
    guardian: Any = None  # parents.Parent, when the signer is registered


def consent_record(*, student: Student, consent: ConsentInput, actor: Any = None):
    from parents.models import GuardianConsent

    record = GuardianConsent(
        student=student, guardian=consent.guardian, guardian_name=consent.guardian_name,
        given_at=consent.given_at or timezone.now(), method=consent.method,
        scope=list(consent.scope), recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    record.full_clean()
    record.save()
    return record


@transaction.atomic
def student_create(*, consent: ConsentInput | None = None, actor: Any = None,
                   **fields: Any) -> Student:
    """Create a student; an under-14 needs a guardian's consent in the same step (PIPL)."""
    student = Student(**fields)
    if actor is not None and getattr(actor, "pk", None):
        student.created_by = actor
    student.full_clean()
    if student.needs_guardian_consent() and consent is None:
        raise ValidationError(
            {"consent": _("%(name)s is under 14: record a guardian's consent before saving "
                          "the student's data.") % {"name": student.name_zh}},
            code="consent_required",
        )
    student.save()
    if consent is not None:
        consent_record(student=student, consent=consent, actor=actor)
    return student


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


@transaction.atomic
def student_merge(*, keep: Student, duplicate: Student, actor: Any = None) -> Student:
    """Fold a duplicate student into `keep`: every related record moves, nothing is lost.

    Guardianships to the same parent collapse into one (flags OR-ed); a second primary
    contact loses the flag; an identical exam result is dropped as a duplicate; two
    attendance records for the same lesson block the merge (a person must decide).
    """

    if keep.pk == duplicate.pk:
        raise ValidationError(_("A student cannot be merged into itself."))
    keep = Student.objects.select_for_update().get(pk=keep.pk)
    duplicate = Student.objects.select_for_update().get(pk=duplicate.pk)
    clash = Attendance.objects.filter(student=duplicate,
                                      session__in=keep.attendances.values("session"))
    if clash.exists():
        raise ValidationError(
            _("Both records have attendance for the same lesson (%(n)d); correct the roll "
              "call before merging.") % {"n": clash.count()}, code="merge_conflict")
    has_primary = keep.guardianships.filter(is_primary_contact=True).exists()
    for g in duplicate.guardianships.select_related("parent"):
        mine = keep.guardianships.filter(parent=g.parent).first()
        if mine is not None:
            mine.is_decision_maker |= g.is_decision_maker
            if g.is_primary_contact and not has_primary:
                mine.is_primary_contact, has_primary = True, True
            g.delete()
            mine.save()
            continue
        if g.is_primary_contact and has_primary:
            g.is_primary_contact = False
        has_primary |= g.is_primary_contact
        g.student = keep
        g.save()
    for score in duplicate.exam_scores.all():
        if keep.exam_scores.filter(subject=score.subject, exam_name=score.exam_name,
                                   exam_date=score.exam_date).exists():
            score.delete()
    for fname in ("family_situation", "goals", "target_university", "personality",
                  "preferences", "school", "name_en", "source_detail"):
        if not getattr(keep, fname) and getattr(duplicate, fname):
            setattr(keep, fname, getattr(duplicate, fname))
    keep.save()
    moved = repoint_relations(keep=keep, duplicate=duplicate,
                              handled={"parents.guardianship.student"})
    audit(actor=actor, action="student.merge", obj=keep,
          data={"duplicate": snapshot(duplicate), "moved": moved})
    duplicate.delete()
    return keep

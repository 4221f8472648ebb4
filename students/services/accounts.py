"""Writes on student accounts: creation with PIPL consent, merges."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.services import audit, repoint_relations, snapshot
from students.models import Attendance, Student


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


# Details staff may change after registration; lifecycle fields, branch and counselor have
# their own doors (lifecycle.services, marketing's pools, merges). external_id and source
# are kept up to date by sync clients over the API.
EDITABLE_FIELDS = ("name_zh", "name_en", "gender", "birth_date", "school", "grade",
                   "decision_style", "family_situation", "goals", "target_university",
                   "personality", "learning_style", "preferences", "source_detail",
                   "external_id", "source")


@transaction.atomic
def student_update(*, student: Student, actor: Any = None, **changes: Any) -> Student:
    """Change a student's details (django-simple-history keeps every version, with who).

    A change that makes the student an under-14 (a birth date or a lower grade) needs a
    guardian's consent on record first (PIPL), as at registration.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(_("These details cannot be changed here: %(f)s.")
                              % {"f": ", ".join(sorted(unknown))})
    locked = Student.objects.select_for_update().get(pk=student.pk)
    changed = {k: v for k, v in changes.items() if getattr(locked, k) != v}
    if not changed:
        return locked
    for k, v in changed.items():
        setattr(locked, k, v)
    locked.full_clean()
    if locked.needs_guardian_consent() and not locked.consents.filter(
            withdrawn_at__isnull=True).exists():
        field = "birth_date" if "birth_date" in changed else "grade"
        raise ValidationError({field: ValidationError(
            _("%(name)s would be under 14: record a guardian's consent first (PIPL).")
            % {"name": locked.name_zh}, code="consent_required")})
    locked.save()
    audit(actor=actor, action="student.update", obj=locked,
          data={"fields": sorted(changed)})
    return locked

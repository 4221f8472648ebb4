"""Writes on parents and families: registration with de-duplication, consent, merges."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.models import Branch
from crm.services import audit, repoint_relations, snapshot
from students.models import Student
from students.services import ConsentInput, student_create

from .models import ContactConsent, Guardianship, Parent
from .phones import display_phone, normalize_phone


class DuplicateFamilyError(ValidationError):
    """A phone already belongs to a registered parent: offer that family instead."""

    def __init__(self, parents: list[Parent]):
        self.parents = parents
        names = ", ".join(f"{p.name} ({display_phone(p.phone)})" for p in parents)
        super().__init__(
            {"phone": _("Already registered: %(names)s. Open the existing family instead of "
                        "creating a second copy.") % {"names": names}},
            code="duplicate_family",
        )


@dataclass
class ParentInput:
    name: str
    phone: str
    relation: str = Guardianship.Relation.MOTHER
    is_primary_contact: bool = False
    is_decision_maker: bool = False
    wechat_id: str = ""
    email: str = ""
    occupation: str = ""
    contact_channels: list[str] = field(default_factory=list)  # channels consented to
    existing: Parent | None = None  # link an already registered parent instead


@dataclass
class StudentInput:
    name_zh: str
    grade: str
    fields: dict[str, Any] = field(default_factory=dict)
    consent_method: str = ""  # filled when the student is under 14
    consent_by: int = 0  # index in the parents list of the guardian who consented


def parents_with_phones(phones: list[str]) -> list[Parent]:
    """Registered parents whose phone matches any of `phones` (normalised first)."""
    normalised = []
    for raw in phones:
        try:
            normalised.append(normalize_phone(raw))
        except ValidationError:
            continue
    return list(Parent.objects.filter(phone__in=normalised).prefetch_related("students"))


def parent_create(*, branch: Branch, name: str, phone: str, wechat_id: str = "", email: str = "",
                  occupation: str = "", notes: str = "") -> Parent:
    existing = parents_with_phones([phone])
    if existing:
        raise DuplicateFamilyError(existing)
    parent = Parent(branch=branch, name=name.strip(), phone=phone, wechat_id=wechat_id.strip(),
                    email=email.strip(), occupation=occupation, notes=notes)
    parent.full_clean()
    parent.save()
    return parent


def contact_consent_set(*, parent: Parent, channel: str, granted: bool, source: str = "",
                        actor: Any = None) -> ContactConsent:
    consent, _created = ContactConsent.objects.update_or_create(
        parent=parent, channel=channel, defaults={"granted": granted, "source": source},
    )
    audit(actor=actor, action="consent.contact", obj=parent,
          data={"channel": channel, "granted": granted})
    return consent


def _co_guardians(existing: list[Parent], *, listed: set[int]) -> list[Guardianship]:
    """The other guardians of an existing family: a new child linked to a registered
    parent gets every guardian the siblings have (the father, the grandmother...), not only
    the parent whose phone was typed. One guardianship per parent, as on the siblings."""
    if not existing:
        return []
    siblings = Guardianship.objects.filter(parent__in=existing).values("student_id")
    out: list[Guardianship] = []
    seen = set(listed)
    for g in (Guardianship.objects.filter(student__in=siblings).exclude(parent__in=listed)
              .order_by("-is_primary_contact", "id")):
        if g.parent_id not in seen:
            seen.add(g.parent_id)
            out.append(g)
    return out


@transaction.atomic
def family_register(*, branch: Branch, parents: list[ParentInput],
                    students: list[StudentInput], actor: Any = None,
                    counselor: Any = None) -> tuple[list[Parent], list[Student]]:
    """Register parents and students as one family in one transaction (front desk's form).

    Every student gets every listed parent as guardian. A phone that is already
    registered raises DuplicateFamilyError unless the caller links that parent
    explicitly (`existing=`), so the same family is never created twice.
    """
    if not parents:
        raise ValidationError({"parents": _("Register at least one parent or guardian.")})
    if not students:
        raise ValidationError({"students": _("Register at least one student.")})
    if sum(1 for p in parents if p.is_primary_contact) > 1:
        raise ValidationError({"parents": _("Only one parent can be the primary contact.")})
    seen: set[str] = set()
    for p in parents:
        if p.existing is None:
            phone = normalize_phone(p.phone)
            if phone in seen:
                raise ValidationError({"phone": _("The same phone number is entered twice.")})
            seen.add(phone)
    duplicates = parents_with_phones([p.phone for p in parents if p.existing is None])
    if duplicates:
        raise DuplicateFamilyError(duplicates)

    saved_parents: list[Parent] = []
    for p in parents:
        if p.existing is not None:
            saved_parents.append(p.existing)
            continue
        parent = parent_create(branch=branch, name=p.name, phone=p.phone, wechat_id=p.wechat_id,
                               email=p.email, occupation=p.occupation)
        for channel in p.contact_channels:
            contact_consent_set(parent=parent, channel=channel, granted=True,
                                source=_("Registration form"), actor=actor)
        saved_parents.append(parent)
    if not any(p.is_primary_contact for p in parents):
        parents[0].is_primary_contact = True  # someone must be called first
    co_guardians = _co_guardians([p.existing for p in parents if p.existing is not None],
                                 listed={p.pk for p in saved_parents})

    saved_students: list[Student] = []
    for s in students:
        guardian = saved_parents[s.consent_by] if s.consent_method else None
        consent = (ConsentInput(guardian_name=guardian.name, method=s.consent_method,
                                guardian=guardian) if guardian else None)
        student = student_create(branch=branch, name_zh=s.name_zh, grade=s.grade,
                                 counselor=counselor, consent=consent, actor=actor, **s.fields)
        for p_in, parent in zip(parents, saved_parents, strict=True):
            primary = p_in.is_primary_contact and not student.guardianships.filter(
                is_primary_contact=True).exists()
            Guardianship.objects.create(student=student, parent=parent, relation=p_in.relation,
                                        is_primary_contact=primary,
                                        is_decision_maker=p_in.is_decision_maker)
        for g in co_guardians:
            Guardianship.objects.create(student=student, parent_id=g.parent_id,
                                        relation=g.relation, is_primary_contact=False,
                                        is_decision_maker=g.is_decision_maker)
        saved_students.append(student)
    audit(actor=actor, action="family.register", object_type="parents.parent",
          object_id=",".join(str(p.pk) for p in saved_parents), branch=branch,
          data={"students": [s.pk for s in saved_students]})
    return saved_parents, saved_students


@transaction.atomic
def parent_merge(*, keep: Parent, duplicate: Parent, actor: Any = None) -> Parent:
    """Fold a duplicate parent into `keep`; guardianships and consents move, none doubles."""
    if keep.pk == duplicate.pk:
        raise ValidationError(_("A parent cannot be merged into itself."))
    keep = Parent.objects.select_for_update().get(pk=keep.pk)
    duplicate = Parent.objects.select_for_update().get(pk=duplicate.pk)
    for g in duplicate.guardianships.all():
        mine = keep.guardianships.filter(student=g.student_id).first()
        if mine is not None:
            mine.is_primary_contact |= g.is_primary_contact
            mine.is_decision_maker |= g.is_decision_maker
            g.delete()
            mine.save()
        else:
            g.parent = keep
            g.save()
    for c in duplicate.contact_consents.all():
        if keep.contact_consents.filter(channel=c.channel).exists():
            c.delete()
        else:
            c.parent = keep
            c.save()
    for fname in ("wechat_id", "email", "occupation", "notes"):
        if not getattr(keep, fname) and getattr(duplicate, fname):
            setattr(keep, fname, getattr(duplicate, fname))
    keep.save()
    moved = repoint_relations(keep=keep, duplicate=duplicate,
                              handled={"parents.guardianship.parent",
                                       "parents.contactconsent.parent"})
    audit(actor=actor, action="parent.merge", obj=keep,
          data={"duplicate": snapshot(duplicate), "moved": moved})
    duplicate.delete()
    return keep


# --- editing a family after registration (issue #24) ---------------------------------------
# Every change lands in django-simple-history (Parent and Guardianship keep history; the
# request middleware stamps who made it), so the account page can show who changed what.

def _set_primary(student: Student, keep: Guardianship) -> None:
    """One primary contact per student (a constraint): clear the others first, one save
    each (not a bulk update) so the history shows who lost the flag too."""
    for other in (Guardianship.objects.filter(student=student, is_primary_contact=True)
                  .exclude(pk=keep.pk)):
        other.is_primary_contact = False
        other.save(update_fields=["is_primary_contact"])


@transaction.atomic
def guardian_add(*, student: Student, name: str, phone: str, relation: str,
                 is_primary_contact: bool = False, is_decision_maker: bool = False,
                 wechat_id: str = "", actor: Any = None) -> Guardianship:
    """Add a guardian to a student. A phone already registered links that parent (the
    same person is never entered twice); a new one creates the parent in the student's
    branch. The first guardian, or one marked so, becomes the primary contact."""
    phone = normalize_phone(phone)
    parent = Parent.objects.filter(phone=phone).first()
    if parent is None:
        parent = parent_create(branch=student.branch, name=name, phone=phone,
                               wechat_id=wechat_id)
    if Guardianship.objects.filter(student=student, parent=parent).exists():
        raise ValidationError({"phone": ValidationError(
            _("%(name)s is already a guardian of this student.") % {"name": parent.name},
            code="already_guardian")})
    first = not Guardianship.objects.filter(student=student).exists()
    g = Guardianship(student=student, parent=parent, relation=relation,
                     is_primary_contact=False, is_decision_maker=is_decision_maker)
    g.full_clean(exclude=["is_primary_contact"])
    g.save()
    if is_primary_contact or first:
        _set_primary(student, g)
        g.is_primary_contact = True
        g.save(update_fields=["is_primary_contact"])
    audit(actor=actor, action="guardian.add", obj=student,
          data={"parent": parent.pk, "relation": relation})
    return g


@transaction.atomic
def guardian_update(*, guardianship: Guardianship, relation: str, is_primary_contact: bool,
                    is_decision_maker: bool, actor: Any = None) -> Guardianship:
    """Change a guardian's relation, primary-contact or decision-maker flag. Making one
    the primary contact takes the flag from the previous one; the flag cannot simply be
    dropped (someone is always called first): give it to another guardian instead."""
    g = Guardianship.objects.select_for_update().select_related("student").get(
        pk=guardianship.pk)
    if g.is_primary_contact and not is_primary_contact:
        raise ValidationError({"is_primary_contact": ValidationError(
            _("Someone must be the primary contact: make another guardian the primary "
              "contact instead."), code="primary_required")})
    if relation not in Guardianship.Relation.values:
        raise ValidationError({"relation": ValidationError(_("Unknown relation."),
                                                           code="invalid")})
    if is_primary_contact and not g.is_primary_contact:
        _set_primary(g.student, g)
    g.relation, g.is_primary_contact, g.is_decision_maker = (relation, is_primary_contact,
                                                             is_decision_maker)
    g.save()
    audit(actor=actor, action="guardian.update", obj=g.student,
          data={"parent": g.parent_id, "relation": relation, "primary": is_primary_contact,
                "decider": is_decision_maker})
    return g


@transaction.atomic
def guardian_remove(*, guardianship: Guardianship, actor: Any = None) -> None:
    """Unlink a guardian from a student (the parent stays: they may have other children).
    A student keeps at least one guardian; the primary contact passes to the next one."""
    g = Guardianship.objects.select_for_update().select_related("student").get(
        pk=guardianship.pk)
    others = list(Guardianship.objects.filter(student=g.student_id).exclude(pk=g.pk)
                  .order_by("-is_decision_maker", "id"))
    if not others:
        raise ValidationError({"guardian": ValidationError(
            _("A student keeps at least one guardian: add the new one first."),
            code="last_guardian")})
    was_primary = g.is_primary_contact
    audit(actor=actor, action="guardian.remove", obj=g.student,
          data={"parent": g.parent_id, "relation": g.relation})
    g.delete()
    if was_primary:
        others[0].is_primary_contact = True
        others[0].save(update_fields=["is_primary_contact"])

"""The public enquiry page's writes: a parent's details become a prospect, safely.

PIPL choice (documented in Enquiry's docstring): a visitor's checkbox is a consent to be
contacted, not a verifiable guardian consent to process a child's data. So:
- a child in a grade that is (almost) always 14 or older (J3 and up) becomes a prospect
  at once, through family_register, with the parent's consent to phone calls recorded;
- a younger child's enquiry is stored as an Enquiry only (parent name, phone, child's
  name and grade, message) until front desk calls, records the guardian's consent
  (paper, e-signature or recorded call) and converts it;
- a phone that is already registered never creates a second family: the enquiry is
  attached to the existing parent (and to the existing child of the same name).
"""
from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.models import Branch
from crm.services import audit
from parents.models import ContactConsent, Guardianship, Parent
from parents.phones import normalize_phone
from parents.services import DuplicateFamilyError, ParentInput, StudentInput, family_register
from students.choices import Grade
from students.models import Student
from students.models.account import UNDER_14_GRADES

from ..models import Campaign, Channel, Enquiry, Prospect
from .prospects import prospect_ensure

ENQUIRY_CHANNEL = "online"  # the source when the campaign names none (seeded channel)


def _source_for(campaign: Campaign | None) -> Channel | None:
    if campaign is not None and campaign.channel_id:
        return campaign.channel
    return Channel.objects.filter(code=ENQUIRY_CHANNEL).first()


def _source_detail(campaign: Campaign | None) -> str:
    base = _("Enquiry page")
    return f"{base}: {campaign.code}" if campaign is not None else base


def _existing_child(parent: Parent, child_name: str) -> Student | None:
    return (Student.objects.filter(guardianships__parent=parent, name_zh=child_name.strip())
            .order_by("pk").first())


@transaction.atomic
def enquiry_submit(*, branch: Branch, parent_name: str, phone: str, child_name: str,
                   grade: str, message: str = "", consent_contact: bool,
                   campaign: Campaign | None = None) -> Enquiry:
    """Record a public enquiry and, where the law allows, create the prospect at once."""
    if not consent_contact:
        raise ValidationError({"consent_contact": _(
            "Please agree to be contacted, otherwise we cannot answer your enquiry.")})
    if grade not in Grade.values:
        raise ValidationError({"grade": _("Choose the child's grade.")})
    try:
        phone = normalize_phone(phone)
    except ValidationError as exc:
        raise ValidationError({"phone": exc.messages}) from exc
    parent_name, child_name = parent_name.strip(), child_name.strip()
    if not parent_name or not child_name:
        raise ValidationError({"parent_name": _("Give your name and your child's name.")})
    if campaign is not None and campaign.branch_id not in (None, branch.pk):
        campaign = None  # a link mixing branches: keep the enquiry, drop the attribution
    enquiry = Enquiry(branch=branch, campaign=campaign, parent_name=parent_name, phone=phone,
                      child_name=child_name, grade=grade, message=message.strip()[:2000],
                      consent_contact=True)
    existing = Parent.objects.filter(phone=phone).first()
    if existing is None and grade not in UNDER_14_GRADES:
        try:
            with transaction.atomic():
                parents, students = family_register(
                    branch=branch,
                    parents=[ParentInput(name=parent_name, phone=phone,
                                         relation=Guardianship.Relation.OTHER,
                                         is_primary_contact=True, is_decision_maker=True,
                                         contact_channels=[ContactConsent.Channel.PHONE])],
                    students=[StudentInput(name_zh=child_name, grade=grade, fields={
                        "source": _source_for(campaign),
                        "source_detail": _source_detail(campaign)})],
                )
        except DuplicateFamilyError:
            # Registered by someone else a moment ago: attach instead of failing.
            existing = Parent.objects.filter(phone=phone).first()
        else:
            enquiry.status = Enquiry.Status.CONVERTED
            enquiry.parent, enquiry.student = parents[0], students[0]
            enquiry.save()
            prospect_ensure(student=students[0], campaign=campaign)
            return enquiry
    if existing is not None:
        enquiry.status = Enquiry.Status.ATTACHED
        enquiry.parent = existing
        enquiry.student = _existing_child(existing, child_name)
    else:
        enquiry.status = Enquiry.Status.PENDING
    enquiry.save()
    return enquiry


@transaction.atomic
def enquiry_convert(*, enquiry: Enquiry, actor: Any, consent_method: str = "",
                    relation: str = Guardianship.Relation.OTHER) -> Prospect:
    """Front desk turns a waiting (or attached) enquiry into a prospect.

    For an under-14 child the guardian's consent method (paper, e-signature, recorded
    call) is required here: that is the consent PIPL asks for, taken by a person.
    """
    enquiry = Enquiry.objects.select_for_update().get(pk=enquiry.pk)
    if enquiry.status in {Enquiry.Status.CONVERTED, Enquiry.Status.DISMISSED}:
        raise ValidationError(_("This enquiry is already handled."))
    if enquiry.student_id is not None:
        student = enquiry.student
    else:
        if enquiry.grade in UNDER_14_GRADES and not consent_method:
            raise ValidationError({"consent_method": _(
                "The child is under 14: record how the guardian consented.")})
        parent_in = (ParentInput(name=enquiry.parent_name, phone=enquiry.phone,
                                 relation=relation, existing=enquiry.parent)
                     if enquiry.parent_id else
                     ParentInput(name=enquiry.parent_name, phone=enquiry.phone, relation=relation,
                                 is_primary_contact=True, is_decision_maker=True,
                                 contact_channels=[ContactConsent.Channel.PHONE]))
        parents, students = family_register(
            branch=enquiry.branch, parents=[parent_in], actor=actor,
            students=[StudentInput(
                name_zh=enquiry.child_name, grade=enquiry.grade, consent_method=consent_method,
                fields={"source": _source_for(enquiry.campaign),
                        "source_detail": _source_detail(enquiry.campaign)})])
        student = students[0]
        enquiry.parent = parents[0]
    prospect = prospect_ensure(student=student, campaign=enquiry.campaign, actor=actor)
    enquiry.student, enquiry.status, enquiry.handled_by = student, Enquiry.Status.CONVERTED, actor
    enquiry.save(update_fields=["student", "parent", "status", "handled_by"])
    audit(actor=actor, action="enquiry.convert", obj=student, data={"enquiry": enquiry.pk})
    return prospect


RATE_WINDOW_SECONDS = 3600
RATE_KEY_PREFIX = "mkt:enq:"


def enquiry_rate_exceeded(key: str, limit: int, *, window: int = RATE_WINDOW_SECONDS) -> bool:
    """Count one hit for `key` (an address or a phone) in a fixed window; True once more
    than `limit` hits fall in it.

    Through Django's cache framework (`django.core.cache.cache`): with the production
    Redis cache every web worker shares the counter (INCR is atomic), where a
    per-process cache would let a flood through N workers N times over. `add` only
    creates the counter, so the window is not extended by later hits.
    """
    full = RATE_KEY_PREFIX + key
    cache.add(full, 0, timeout=window)
    try:
        hits = cache.incr(full)
    except ValueError:  # expired or evicted between add and incr: a new window
        cache.add(full, 1, timeout=window)
        hits = 1
    return hits > limit

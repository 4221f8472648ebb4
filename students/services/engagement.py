"""Complaints and satisfaction surveys: the one door for their writes (API, admin, pages).

Complaints are the best source of at-risk causes (DOMAIN.md §6), so each one gets an owner
(the account's counselor unless someone is named) and a resolve-by time from the branch's
policy (ContractPolicy.complaint_sla_hours, 48 h by default); resolving needs a written
resolution, and re-opening clears the resolution time.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.permissions import branch_of, role_of
from crm.roles import Role
from parents.models import Guardianship
from students.models import Complaint, ContractPolicy, SatisfactionSurvey, Student
from students.models.engagement import Counterpart

# A double-clicked submit or a retried request within this window finds the answer it
# already recorded instead of writing a second, identical one.
REPEAT_WINDOW = dt.timedelta(minutes=2)

# Who may own (be responsible for solving) a complaint.
OWNER_ROLES = frozenset({Role.COUNSELOR, Role.MANAGER, Role.HEAD_OFFICE})


def complaint_sla_due(*, branch: Any, raised_at: dt.datetime) -> dt.datetime:
    """Resolve-by time: the branch's (or institution's) SLA hours after it was raised."""
    hours = ContractPolicy.for_branch(branch).complaint_sla_hours
    return raised_at + dt.timedelta(hours=hours)


def _check_parent(student: Student, counterpart: str, parent: Any, field: str) -> None:
    """The parent must be named for a parent counterpart, and be this student's guardian."""
    if counterpart == Counterpart.PARENT and parent is None:
        raise ValidationError({"parent": ValidationError(
            _("Name the parent when the %(field)s is a parent.") % {"field": field},
            code="required")})
    if counterpart == Counterpart.STUDENT and parent is not None:
        raise ValidationError({"parent": ValidationError(
            _("Leave the parent empty when the %(field)s is the student.") % {"field": field},
            code="invalid")})
    if parent is not None and not Guardianship.objects.filter(
            student=student, parent=parent).exists():
        raise ValidationError({"parent": ValidationError(
            _("This parent is not a guardian of the student."), code="not_guardian")})


def _check_owner(student: Student, owner: Any) -> None:
    if owner is None:
        return
    role = role_of(owner)
    if role not in OWNER_ROLES or (role != Role.HEAD_OFFICE
                                   and getattr(branch_of(owner), "pk", None)
                                   != student.branch_id):
        raise ValidationError({"owner": ValidationError(
            _("The owner must be a counselor or manager of the student's branch."),
            code="invalid_owner")})


def complaint_check(*, student: Student, raised_by: str, parent: Any, owner: Any) -> None:
    """The checks of complaint_open, for forms that validate before saving (the admin)."""
    _check_parent(student, raised_by, parent, _("complainant"))
    _check_owner(student, owner)


@transaction.atomic
def complaint_open(*, student: Student, category: str, description: str,
                   raised_by: str = Counterpart.PARENT, parent: Any = None,
                   owner: Any = None, actor: Any = None,
                   raised_at: dt.datetime | None = None) -> Complaint:
    """Record a complaint with its owner and SLA; open until resolved."""
    raised_at = raised_at or timezone.now()
    if raised_at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({"created_at": ValidationError(
            _("A complaint cannot be raised in the future."), code="future")})
    _check_parent(student, raised_by, parent, _("complainant"))
    description = (description or "").strip()
    repeat = Complaint.objects.filter(
        student=student, raised_by=raised_by, parent=parent, category=category,
        description=description, created_at__gte=raised_at - REPEAT_WINDOW,
        created_at__lte=raised_at).first()
    if repeat is not None:
        return repeat
    if owner is None:
        owner = student.counselor or (actor if role_of(actor) in OWNER_ROLES else None)
    _check_owner(student, owner)
    complaint = Complaint(
        student=student, raised_by=raised_by, parent=parent, category=category,
        description=description, owner=owner,
        status=Complaint.Status.OPEN, created_at=raised_at,
        sla_due=complaint_sla_due(branch=student.branch_id, raised_at=raised_at))
    complaint.full_clean()
    complaint.save()
    return complaint


_UNSET: Any = object()


@transaction.atomic
def complaint_update(*, complaint: Complaint, actor: Any = None, status: str | None = None,
                     owner: Any = _UNSET, resolution: str | None = None) -> Complaint:
    """Hand over, start work on, resolve or re-open a complaint.

    Resolving needs a resolution (what was done), stamps `resolved_at` and keeps it;
    moving a resolved complaint back to open/in progress clears it. The SLA stays as
    set when it was raised: a re-opened complaint is late if it is past that time.
    """
    locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
    if owner is not _UNSET:
        _check_owner(locked.student, owner)
        locked.owner = owner
    if resolution is not None:
        locked.resolution = resolution.strip()
    if status is not None and status != locked.status:
        if status == Complaint.Status.RESOLVED:
            if not locked.resolution:
                raise ValidationError({"resolution": ValidationError(
                    _("Describe how the complaint was resolved."), code="required")})
            locked.resolved_at = timezone.now()
        else:
            locked.resolved_at = None
        locked.status = status
    locked.full_clean()
    locked.save()
    return locked


def complaint_resolve(*, complaint: Complaint, resolution: str, actor: Any = None) -> Complaint:
    return complaint_update(complaint=complaint, actor=actor, status=Complaint.Status.RESOLVED,
                            resolution=resolution)


@transaction.atomic
def survey_record(*, student: Student, respondent: str, overall: int, parent: Any = None,
                  surveyed_at: dt.datetime | None = None, teaching: int | None = None,
                  service: int | None = None, environment: int | None = None,
                  recommend: int | None = None, comment: str = "",
                  actor: Any = None) -> SatisfactionSurvey:
    """Record one satisfaction response (student and parents answer separately)."""
    surveyed_at = surveyed_at or timezone.now()
    if surveyed_at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({"surveyed_at": ValidationError(
            _("A survey cannot be answered in the future."), code="future")})
    _check_parent(student, respondent, parent, _("respondent"))
    comment = (comment or "").strip()
    repeat = SatisfactionSurvey.objects.filter(
        student=student, respondent=respondent, parent=parent, overall=overall,
        teaching=teaching, service=service, environment=environment, recommend=recommend,
        comment=comment, surveyed_at__gte=surveyed_at - REPEAT_WINDOW,
        surveyed_at__lte=surveyed_at).first()
    if repeat is not None:
        return repeat
    survey = SatisfactionSurvey(
        student=student, respondent=respondent, parent=parent, surveyed_at=surveyed_at,
        overall=overall, teaching=teaching, service=service, environment=environment,
        recommend=recommend, comment=comment)
    survey.full_clean()
    survey.save()
    return survey

"""Recovery (DOMAIN.md §6, termination / lapsed): the exit interview."""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.permissions import role_of, scope_students
from crm.roles import Role
from crm.services import audit
from lifecycle.models import Transition
from lifecycle.periods import ENDED_PERIODS, Period
from students.models import Student

from ..models import ChurnReason, ExitInterview

OTHER = "other"
# Who holds exit interviews: the people who own the relationship, not front desk.
INTERVIEW_ROLES = frozenset({Role.COUNSELOR, Role.MANAGER, Role.HEAD_OFFICE})


def latest_termination(student: Student) -> Transition | None:
    return (Transition.objects.filter(student=student, to_period=Period.TERMINATION)
            .order_by("-at", "-id").first())


def exit_interview_due(student: Student) -> bool:
    """An ended account whose latest move into termination has no interview yet."""
    if student.period not in ENDED_PERIODS:
        return False
    termination = latest_termination(student)
    return termination is not None and not ExitInterview.objects.filter(
        transition=termination).exists()


@transaction.atomic
def exit_interview_record(*, student: Student, reason: ChurnReason, interviewer: Any,
                          detail: str = "", held_on: dt.date | None = None) -> ExitInterview:
    """Record why an account left, tied to its latest move into termination.

    The period lost in is that transition's from-period (an account lost while at risk
    counts as lost at risk: that is where the warning should have worked). The page, the
    API and the admin all come here; a staff interviewer must hold an interviewing role
    and see the account.
    """
    if getattr(interviewer, "pk", None) is not None:
        if role_of(interviewer) not in INTERVIEW_ROLES:
            raise PermissionDenied(_("Your role may not hold exit interviews."))
        if not scope_students(interviewer, Student.objects.filter(pk=student.pk)).exists():
            raise PermissionDenied(_("This account is not in your scope."))
    detail = (detail or "").strip()
    if reason is None or not reason.is_active:
        raise ValidationError({"reason": _("Choose a reason from the list.")})
    if reason.code == OTHER and not detail:
        raise ValidationError({"detail": _("Describe the reason when it is “other”.")})
    termination = latest_termination(student)
    if termination is None or student.period not in ENDED_PERIODS:
        raise ValidationError({"student": ValidationError(
            _("An exit interview is held with an account that is terminating or has "
              "lapsed."), code="not_ended")})
    if ExitInterview.objects.filter(transition=termination).exists():
        raise ValidationError({"student": ValidationError(
            _("This termination already has an exit interview."), code="duplicate")})
    held_on = held_on or timezone.localdate()
    if held_on > timezone.localdate():
        raise ValidationError({"held_on": _("The interview cannot be dated in the future.")})
    interview = ExitInterview.objects.create(
        student=student, transition=termination, reason=reason, detail=detail,
        period_lost_in=termination.from_period,
        interviewer=interviewer if getattr(interviewer, "pk", None) else None, held_on=held_on)
    audit(actor=interviewer, action="exit_interview.record", obj=student,
          data={"interview": interview.pk, "reason": reason.code})
    return interview

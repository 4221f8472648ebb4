"""Who may schedule, override a conflict, record a leave or see a calendar.

Row visibility comes from crm.permissions like everywhere else; these are the action
checks the services apply, raising PermissionDenied with a message a page can show.
"""
from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from crm.permissions import branch_of, role_of
from crm.roles import Role

SCHEDULERS = frozenset({Role.MANAGER, Role.HEAD_OFFICE})
LEAVE_TAKERS = frozenset({Role.FRONT_DESK, Role.COUNSELOR, Role.MANAGER, Role.HEAD_OFFICE})


def _in_branch(actor: Any, branch_id: int | None) -> bool:
    branch = branch_of(actor)
    return branch is not None and branch.pk == branch_id


def can_schedule(actor: Any, branch_id: int | None) -> bool:
    """Managers plan their branch's timetable; head office plans every branch."""
    role = role_of(actor)
    if role == Role.HEAD_OFFICE:
        return True
    return role == Role.MANAGER and _in_branch(actor, branch_id)


def check_schedule(actor: Any, branch_id: int | None) -> None:
    if not can_schedule(actor, branch_id):
        raise PermissionDenied(_("Only a manager of this branch or head office can change "
                                 "the timetable."))


def check_override(actor: Any, branch_id: int | None) -> None:
    """Overriding a conflict is a manager's call (issue #18), recorded with the reason."""
    if not can_schedule(actor, branch_id):
        raise PermissionDenied(_("Only a manager of this branch or head office can override "
                                 "a timetable conflict."))


def check_leave(actor: Any, branch_id: int | None) -> None:
    """Front desk, counselors and managers of the branch take leave calls; head office too."""
    role = role_of(actor)
    if role == Role.HEAD_OFFICE or (role in LEAVE_TAKERS and _in_branch(actor, branch_id)):
        return
    raise PermissionDenied(_("Only the branch's front desk, counselors or managers, or head "
                             "office, can record a leave or book a make-up lesson."))


def scope_sessions(user: Any, qs: QuerySet) -> QuerySet:
    """Lessons a user may see on a calendar: a teacher's own, a branch's for branch staff."""
    role = role_of(user)
    if role is None:
        return qs.none()
    if role == Role.HEAD_OFFICE:
        return qs
    qs = qs.filter(class_group__branch=branch_of(user))
    if role == Role.TEACHER:
        return qs.filter(Q(teacher=user) | Q(teacher__isnull=True, class_group__teacher=user))
    return qs

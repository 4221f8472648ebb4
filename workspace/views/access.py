"""Who may open the work pages: one check per kind of page, shared by the views."""
from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from crm import permissions
from crm.roles import Role


def scores_required(user: Any) -> None:
    """Front desk and teachers never see scores (README, Roles and permissions)."""
    if not permissions.can_see_scores(user):
        raise PermissionDenied(_("Your role does not see scores."))


def managers_only(user: Any) -> None:
    if permissions.role_of(user) not in {Role.MANAGER, Role.HEAD_OFFICE}:
        raise PermissionDenied(_("The dashboard is for branch managers and head office."))


def task_workers_only(user: Any) -> None:
    if permissions.role_of(user) not in {Role.COUNSELOR, Role.MANAGER, Role.HEAD_OFFICE}:
        raise PermissionDenied(_("Your role does not work retention tasks."))

"""Who may call which action: capability predicates over the user's role.

Row visibility is NOT decided here: querysets are scoped by `crm.permissions`, so another
branch's record is simply not found (404) and its existence never leaks. What is decided
here is whether the caller's role may use a resource or an action at all; if not, the
answer is 403 whatever the id (so a 403 never reveals that a record exists either).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from crm.permissions import can_see_contact, can_see_money, can_see_scores, role_of
from crm.roles import Role

Capability = Callable[[Any], bool]


def roles(*allowed: str) -> Capability:
    """A capability held by the listed roles."""
    allowed_set = frozenset(allowed)

    def check(user: Any) -> bool:
        return role_of(user) in allowed_set

    check.__doc__ = "roles: " + ", ".join(sorted(allowed_set))
    return check


def all_of(*caps: Capability) -> Capability:
    def check(user: Any) -> bool:
        return all(cap(user) for cap in caps)

    return check


def nobody(user: Any) -> bool:
    return False


any_role: Capability = roles(*Role.values)
# Roles that register families and edit account (student / parent) data.
account_writers: Capability = roles(Role.FRONT_DESK, Role.COUNSELOR, Role.MANAGER,
                                    Role.HEAD_OFFICE)
managers: Capability = roles(Role.MANAGER, Role.HEAD_OFFICE)

__all__ = ["Capability", "CapabilityPermission", "account_writers", "all_of", "any_role",
           "can_see_contact", "can_see_money", "can_see_scores", "managers", "nobody", "roles"]


class CapabilityPermission(BasePermission):
    """Checks the view's `read_capability` / `write_capability` / `action_capabilities`.

    Users without a staff role get 403 everywhere (an authenticated account is not
    enough: scoping needs a role and a branch).
    """

    message = _("Your role may not do this.")

    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False  # DRF answers 401 with the WWW-Authenticate challenge
        if role_of(request.user) is None:
            self.message = _("This account has no staff role.")
            return False
        if request.method.lower() not in getattr(view, "http_method_names", []) or not hasattr(
                view, request.method.lower()):
            return True  # no such operation: let the view answer 405, not a misleading 403
        getter = getattr(view, "get_capability", None)
        cap = getter(request) if getter is not None else capability_for(view, request)
        return bool(cap(request.user))


def capability_for(view: Any, request: Request) -> Capability:
    """The capability the view declares for this request's action or method."""
    # Looked up on the class: a plain function assigned as a class attribute would
    # otherwise come back bound to the view.
    cls = type(view)
    action = getattr(view, "action", None)
    per_action = getattr(cls, "action_capabilities", {}) or {}
    if action in per_action:
        return per_action[action]
    if request.method in SAFE_METHODS:
        return getattr(cls, "read_capability", any_role)
    return getattr(cls, "write_capability", nobody)

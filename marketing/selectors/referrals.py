"""Referral reads: who may record or reward referrals, and which rows a user sees."""
from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from crm.permissions import role_of, scope_by_branch, scope_by_student
from crm.roles import Role

from ..models import Referral

# Front desk registers families and hears "my neighbour sent us" first (DOMAIN.md §8);
# teachers do not record accounts' sources.
RECORDING_ROLES = frozenset({Role.FRONT_DESK, Role.COUNSELOR, Role.MANAGER, Role.HEAD_OFFICE})
# A reward is money owed to a family: front desk sees no money (crm.permissions).
REWARD_ROLES = frozenset({Role.COUNSELOR, Role.MANAGER, Role.HEAD_OFFICE})


def can_record_referrals(user: Any) -> bool:
    return role_of(user) in RECORDING_ROLES


def can_set_rewards(user: Any) -> bool:
    return role_of(user) in REWARD_ROLES


def scope_referrals(user: Any, qs: QuerySet | None = None) -> QuerySet:
    """Referrals of the accounts the user may see (the referred student decides)."""
    qs = Referral.objects.all() if qs is None else qs
    if not can_record_referrals(user):
        return qs.none()
    return scope_by_student(user, qs, field="referred")


def referral_list(user: Any, *, status: str = "", kind: str = "") -> QuerySet:
    """The referrals page and API list: every referrer joined, newest first."""
    qs = scope_referrals(user, Referral.objects.select_related(
        "referred", "referred__branch", "referrer_student", "referrer_parent",
        "referrer_staff", "reward_policy", "recorded_by"))
    if status:
        qs = qs.filter(reward_status=status)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-created_at", "-id")


def referrer_students(user: Any) -> QuerySet:
    """Students who may be named as referrers: the user's branch (head office: all).

    Wider than the caseload: a counselor's new family may have been sent by another
    counselor's student; only the name is shown.
    """
    from students.models import Student

    return scope_by_branch(user, Student.objects.all()) if can_record_referrals(
        user) else Student.objects.none()


def referrer_parents(user: Any) -> QuerySet:
    from parents.models import Parent

    return scope_by_branch(user, Parent.objects.all()) if can_record_referrals(
        user) else Parent.objects.none()


def referrer_staff(user: Any) -> QuerySet:
    """Teachers and staff of the user's branch (head office: everyone with a role)."""
    from django.contrib.auth import get_user_model

    qs = get_user_model().objects.filter(staff_profile__isnull=False, is_active=True)
    if not can_record_referrals(user):
        return qs.none()
    return scope_by_branch(user, qs, field="staff_profile__branch").order_by("username")

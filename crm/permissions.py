"""Who sees which rows: the one place every view, API, export and job scopes querysets.

DEVELOPERS.md: a counselor sees their own caseload (plus the unassigned accounts of
their branch, the public pool they pick from); a teacher the students of their
classes; front desk and managers their branch; head office everything. Front desk
registers and looks up but sees no scores or money; teachers see masked contacts.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from .roles import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from .models import Branch

    AnyUser = AbstractBaseUser | AnonymousUser


def role_of(user: AnyUser) -> str | None:
    """The staff role; superusers act as head office; users without a profile have none."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    profile = getattr(user, "staff_profile", None)
    if profile is not None:
        return profile.role
    if user.is_superuser:
        return Role.HEAD_OFFICE
    return None


def branch_of(user: AnyUser) -> Branch | None:
    profile = getattr(user, "staff_profile", None)
    return profile.branch if profile is not None else None


def sees_all_branches(user: AnyUser) -> bool:
    return role_of(user) == Role.HEAD_OFFICE


def can_see_scores(user: AnyUser) -> bool:
    """Value and risk scores: counselors, managers and head office."""
    return role_of(user) in {Role.COUNSELOR, Role.MANAGER, Role.HEAD_OFFICE}


def can_see_money(user: AnyUser) -> bool:
    """Prices, payments and refunds beyond hours: counselors, managers and head office."""
    return role_of(user) in {Role.COUNSELOR, Role.MANAGER, Role.HEAD_OFFICE}


def can_see_exam_scores(user: AnyUser) -> bool:
    """School exam results: everyone who works with the account except front desk.

    README (Roles): front desk registers and looks up, "no money, no scores"; exam results
    count as scores. Teachers record them and see their own classes' results.
    """
    return role_of(user) in {Role.TEACHER, Role.COUNSELOR, Role.MANAGER, Role.HEAD_OFFICE}


def can_see_contact(user: AnyUser) -> bool:
    """Full phone / WeChat: everyone who calls families; teachers see them masked."""
    return role_of(user) in {Role.FRONT_DESK, Role.COUNSELOR, Role.MANAGER, Role.HEAD_OFFICE}


def search_text(user: AnyUser, text: str) -> str:
    """The part of a search a role may use. Roles that see phones masked lose the digits:
    otherwise a masked 186****2724 is rebuilt by probing digit strings (issue #21)."""
    text = text.strip()
    if can_see_contact(user):
        return text
    return "".join(ch for ch in text if not ch.isdigit()).strip()


def can_merge_records(user: AnyUser) -> bool:
    return role_of(user) in {Role.MANAGER, Role.HEAD_OFFICE}


def student_scope(user: AnyUser, prefix: str = "") -> Q | None:
    """A Q over Student (or over a relation to it, via `prefix`, e.g. "student__").

    None means "no restriction" (head office); an impossible Q means "nothing".
    """
    role = role_of(user)
    if role is None:
        return Q(pk__in=[])
    if role == Role.HEAD_OFFICE:
        return None
    branch = branch_of(user)
    in_branch = Q(**{f"{prefix}branch": branch})
    if role in {Role.MANAGER, Role.FRONT_DESK}:
        return in_branch
    if role == Role.COUNSELOR:
        return in_branch & (Q(**{f"{prefix}counselor": user})
                            | Q(**{f"{prefix}counselor__isnull": True}))
    if role == Role.TEACHER:
        return in_branch & Q(**{f"{prefix}contracts__class_group__teacher": user})
    return Q(pk__in=[])


def scope_students(user: AnyUser, qs: QuerySet) -> QuerySet:
    """Student rows this user may see."""
    q = student_scope(user)
    if q is None:
        return qs
    qs = qs.filter(q)
    # The teacher join through contracts can repeat a student.
    return qs.distinct() if role_of(user) == Role.TEACHER else qs


def scope_by_student(user: AnyUser, qs: QuerySet, field: str = "student") -> QuerySet:
    """Rows hanging off a student (contracts, attendance, complaints...): same visibility."""
    from students.models import Student

    visible = scope_students(user, Student.objects.all()).values("pk")
    if sees_all_branches(user):
        return qs
    return qs.filter(**{f"{field}__in": visible})


def scope_parents(user: AnyUser, qs: QuerySet) -> QuerySet:
    """Parents of visible students, plus (for branch roles) parents registered at the branch."""
    from students.models import Student

    role = role_of(user)
    if role is None:
        return qs.none()
    if role == Role.HEAD_OFFICE:
        return qs
    visible = scope_students(user, Student.objects.all()).values("pk")
    q = Q(guardianships__student__in=visible)
    if role in {Role.MANAGER, Role.FRONT_DESK}:
        q |= Q(branch=branch_of(user))
    return qs.filter(q).distinct()


def scope_branches(user: AnyUser, qs: QuerySet) -> QuerySet:
    role = role_of(user)
    if role is None:
        return qs.none()
    if role == Role.HEAD_OFFICE:
        return qs
    return qs.filter(pk=getattr(branch_of(user), "pk", None))


def scope_by_branch(user: AnyUser, qs: QuerySet, field: str = "branch") -> QuerySet:
    """Branch-owned rows (class groups, staff, contracts by branch) for managers and others."""
    role = role_of(user)
    if role is None:
        return qs.none()
    if role == Role.HEAD_OFFICE:
        return qs
    return qs.filter(**{field: branch_of(user)})


def can_register(user: AnyUser) -> bool:
    """Front desk, counselors, managers and head office register families; teachers don't."""
    return role_of(user) is not None and user.has_perms(
        ["students.add_student", "parents.add_parent"])


def can_log_interaction(user: AnyUser) -> bool:
    return role_of(user) is not None and user.has_perm("students.add_interaction")

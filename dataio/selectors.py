"""Reads for exports and the job pages; every queryset is scoped by crm.permissions."""
from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from crm.permissions import scope_parents, scope_students, sees_all_branches
from lifecycle.periods import Period
from parents.models import GuardianConsent, Guardianship, Parent
from students.models import Student
from students.selectors import with_figures

from .models import ImportJob


def _guardians() -> Prefetch:
    return Prefetch("guardianships",
                    queryset=Guardianship.objects.select_related("parent")
                    .order_by("-is_primary_contact", "id"))


def _consents() -> Prefetch:
    return Prefetch("consents", queryset=GuardianConsent.objects.filter(
        withdrawn_at__isnull=True).order_by("-given_at"))


def export_students(*, user: Any, branch: int | None = None, grade: str = "",
                    period: str = "") -> QuerySet:
    """Students the user may see, filtered like the student list (branch, grade, period)."""
    qs = scope_students(user, Student.objects.select_related("branch", "counselor"))
    if branch:
        qs = qs.filter(branch_id=branch)
    if grade:
        qs = qs.filter(grade=grade)
    if period:
        qs = qs.filter(period=period)
    return qs.prefetch_related(_guardians(), _consents()).order_by("branch__code",
                                                                   "name_pinyin", "id")


def export_at_risk(*, user: Any, branch: int | None = None, grade: str = "",
                   period: str = "") -> QuerySet:
    """The at-risk list (DOMAIN.md §4, period 5) with the figures behind a flag."""
    qs = export_students(user=user, branch=branch, grade=grade, period=Period.AT_RISK)
    qs = with_figures(qs.select_related("score"), weeks=8)
    if apps.is_installed("lifecycle"):
        try:
            risk = apps.get_model("lifecycle", "RiskState")
        except LookupError:  # pragma: no cover - the lifecycle app renamed it
            return qs
        qs = qs.annotate(risk_score=Subquery(
            risk.objects.filter(student=OuterRef("pk")).values("score")[:1]))
    return qs


def export_parents(*, user: Any, branch: int | None = None, **_: Any) -> QuerySet:
    qs = scope_parents(user, Parent.objects.select_related("branch"))
    if branch:
        qs = qs.filter(branch_id=branch)
    return qs.prefetch_related(
        Prefetch("guardianships", queryset=Guardianship.objects.select_related("student")
                 .order_by("student__name_pinyin"))).order_by("name_pinyin", "id")


def import_jobs(*, user: Any) -> QuerySet:
    """Jobs the user may see: their own; managers their branch's; head office all."""
    from crm.permissions import branch_of, role_of
    from crm.roles import Role

    qs = ImportJob.objects.select_related("created_by", "branch")
    if sees_all_branches(user):
        return qs
    if role_of(user) == Role.MANAGER:
        return qs.filter(branch=branch_of(user)) | qs.filter(created_by=user)
    return qs.filter(created_by=user)

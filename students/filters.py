"""The student list's filters (django-filter): branch (head office), counselor (managers
and head office), grade for everyone, and the customer type (value segment and phase)
for the roles that see scores.

The choices are built from what the user may see, and a filter a role is not offered is
dropped rather than applied: front desk cannot narrow the list by a score-derived
segment to learn it, nor a manager list another branch (the rows are scoped anyway).
"""
from __future__ import annotations

from typing import Any

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from crm import permissions
from crm.models import Branch
from crm.roles import Role
from lifecycle.periods import PHASE_OF, Phase
from lifecycle.value import Segment
from students.choices import Grade


def counselor_label(user: Any, *, with_branch: bool = False) -> str:
    profile = getattr(user, "staff_profile", None)
    name = getattr(profile, "display_name", "") or user.get_full_name() or user.username
    branch = getattr(profile, "branch", None) if with_branch else None
    return f"{name} · {branch.name}" if branch else name


class StudentListFilter(django_filters.FilterSet):
    branch = django_filters.ModelChoiceFilter(label=_("branch"), queryset=Branch.objects.none(),
                                              empty_label=_("All branches"))
    counselor = django_filters.ModelChoiceFilter(label=_("counselor"),
                                                 queryset=get_user_model().objects.none(),
                                                 empty_label=_("All counselors"))
    grade = django_filters.ChoiceFilter(label=_("grade"), choices=Grade.choices,
                                        empty_label=_("All grades"))
    segment = django_filters.ChoiceFilter(label=_("value segment"), choices=Segment.choices,
                                          field_name="score__segment",
                                          empty_label=_("All segments"))
    phase = django_filters.ChoiceFilter(label=_("phase"), choices=Phase.choices,
                                        method="filter_phase", empty_label=_("All phases"))

    def __init__(self, data: Any = None, queryset: QuerySet | None = None, *,
                 user: Any, **kwargs: Any) -> None:
        super().__init__(data, queryset, **kwargs)
        role = permissions.role_of(user)
        if role == Role.HEAD_OFFICE:
            self.filters["branch"].queryset = Branch.objects.filter(is_active=True).order_by(
                "code")
        else:
            del self.filters["branch"]
        if role in {Role.MANAGER, Role.HEAD_OFFICE}:
            staff = permissions.scope_by_branch(
                user, get_user_model().objects.filter(staff_profile__role=Role.COUNSELOR,
                                                      is_active=True),
                field="staff_profile__branch")
            self.filters["counselor"].queryset = staff.select_related(
                "staff_profile__branch").order_by("staff_profile__branch__code", "username")
        else:
            del self.filters["counselor"]
        if not permissions.can_see_scores(user):
            del self.filters["segment"]
            del self.filters["phase"]

    @property
    def form(self) -> Any:
        form = super().form
        if "counselor" in form.fields:
            form.fields["counselor"].label_from_instance = lambda u: counselor_label(
                u, with_branch="branch" in form.fields)
        return form

    def filter_phase(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        """The phase is derived from the period (DOMAIN.md §4), never stored."""
        if not value:
            return qs
        return qs.filter(period__in=[p for p, ph in PHASE_OF.items() if ph == value])

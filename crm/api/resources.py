"""crm's own resources: branches and staff (read-only: managed in the admin)."""
from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from crm.api.filters import IdFilter
from crm.models import Branch
from crm.permissions import scope_branches, scope_by_branch
from crm.roles import Role

from .viewsets import ScopedReadOnlyViewSet

User = get_user_model()


class BranchSerializer(serializers.ModelSerializer):
    class Meta:
        model = Branch
        fields = ["id", "code", "name", "city", "address", "phone", "is_active", "created_at"]


class BranchViewSet(ScopedReadOnlyViewSet):
    """Branches: head office sees all, everyone else their own."""

    queryset = Branch.objects.all()
    serializer_class = BranchSerializer
    scope = staticmethod(scope_branches)
    filterset_fields = ["is_active", "city"]
    ordering_fields = ["code", "name"]
    ordering = ["code"]


class StaffSerializer(serializers.ModelSerializer):
    """A staff member as other records reference them (counselor, teacher): the user id.

    No password, email, phone, permissions or login times: only what a client needs to
    show "who".
    """

    role = serializers.CharField(source="staff_profile.role", read_only=True,
                                 help_text=_("front_desk, counselor, teacher, manager or "
                                             "head_office."))
    branch = serializers.IntegerField(source="staff_profile.branch_id", read_only=True,
                                      allow_null=True)
    display_name = serializers.CharField(source="staff_profile.display_name", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "display_name", "role", "branch", "is_active"]


class StaffFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(field_name="staff_profile__role", choices=Role.choices)
    branch = IdFilter(field_name="staff_profile__branch")

    class Meta:
        model = User
        fields = ["role", "branch", "is_active"]


def scope_staff(user: object, qs: QuerySet) -> QuerySet:
    """Staff of the caller's branch (head office: everyone with a staff profile)."""
    return scope_by_branch(user, qs.filter(staff_profile__isnull=False),
                           field="staff_profile__branch")


class StaffViewSet(ScopedReadOnlyViewSet):
    queryset = User.objects.select_related("staff_profile")
    serializer_class = StaffSerializer
    scope = staticmethod(scope_staff)
    filterset_class = StaffFilter
    ordering_fields = ["username", "id"]
    ordering = ["username"]

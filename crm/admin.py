from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from . import permissions
from .models import AuditLog, Branch, StaffProfile


class ScopedAdminMixin:
    """Row scoping in the admin through the same helpers the views and API use.

    `scope` is "student" (the model is Student), "by_student" (rows with a `student`
    FK), "branch" (rows with a `branch` FK, or `scope_field`), "parent" (the model is
    Parent) or "parent_rel" (rows with a `parent` FK).
    """

    scope: str = "branch"
    scope_field: str = "branch"
    # Lists searchable by phone: roles that see phones masked may not search digits.
    phone_search: bool = False

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str
                           ) -> tuple[Any, bool]:
        if self.phone_search and search_term.strip():
            allowed = permissions.search_text(request.user, search_term)
            if not allowed:
                return queryset.none(), False
            search_term = allowed
        return super().get_search_results(request, queryset, search_term)  # type: ignore[misc]

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = super().get_queryset(request)  # type: ignore[misc]
        user = request.user
        if self.scope == "student":
            return permissions.scope_students(user, qs)
        if self.scope == "by_student":
            return permissions.scope_by_student(user, qs, self.scope_field)
        if self.scope == "parent":
            return permissions.scope_parents(user, qs)
        if self.scope == "parent_rel":
            from parents.models import Parent

            return qs.filter(parent__in=permissions.scope_parents(user, Parent.objects.all()))
        return permissions.scope_by_branch(user, qs, self.scope_field)


def merge_selected(admin_obj: admin.ModelAdmin, request: HttpRequest, queryset: Any,
                   merge: Callable[..., Any]) -> None:
    """Admin action body shared by students and parents: fold every selected record into
    the oldest one through the app's merge service (managers and head office only)."""
    from django.contrib import messages
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext

    if not permissions.can_merge_records(request.user):
        admin_obj.message_user(request, gettext("Only managers can merge records."),
                               messages.ERROR)
        return
    chosen = list(queryset.order_by("pk"))
    if len(chosen) < 2:
        admin_obj.message_user(request, gettext("Select at least two records to merge."),
                               messages.WARNING)
        return
    keep = chosen[0]
    try:
        for dup in chosen[1:]:
            keep = merge(keep=keep, duplicate=dup, actor=request.user)
    except ValidationError as exc:
        admin_obj.message_user(request, "; ".join(exc.messages), messages.ERROR)
        return
    admin_obj.message_user(request, gettext("Merged %(n)d records into %(name)s.")
                           % {"n": len(chosen) - 1, "name": str(keep)}, messages.SUCCESS)


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "city", "phone", "is_active")
    list_filter = ("is_active", "city")
    search_fields = ("code", "name", "city")

    def get_queryset(self, request: HttpRequest) -> Any:
        return permissions.scope_branches(request.user, super().get_queryset(request))


@admin.register(StaffProfile)
class StaffProfileAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("user", "display_name", "role", "branch")
    list_filter = ("role", "branch")
    search_fields = ("user__username", "display_name", "phone")
    autocomplete_fields = ("user",)


@admin.register(AuditLog)
class AuditLogAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("at", "actor", "action", "object_type", "object_id", "branch")
    list_filter = ("action", "branch")
    search_fields = ("object_id", "actor__username", "action")
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AuditLog._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Autocomplete on counselor/teacher fields needs a searchable user admin.
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.admin import UserAdmin  # noqa: E402

admin.site.unregister(get_user_model())


class StaffProfileInline(admin.StackedInline):
    model = StaffProfile
    can_delete = False
    fk_name = "user"


@admin.register(get_user_model())
class StaffUserAdmin(UserAdmin):
    inlines = [StaffProfileInline]
    list_display = ("username", "first_name", "last_name", "is_active", "role", "branch")
    list_select_related = ("staff_profile__branch",)

    @admin.display(description=_("role"))
    def role(self, obj: Any) -> str:
        profile = getattr(obj, "staff_profile", None)
        return profile.get_role_display() if profile else ""

    @admin.display(description=_("branch"))
    def branch(self, obj: Any) -> str:
        profile = getattr(obj, "staff_profile", None)
        return str(profile.branch or "") if profile else ""

    def get_queryset(self, request: HttpRequest) -> Any:
        return permissions.scope_by_branch(request.user, super().get_queryset(request),
                                           "staff_profile__branch")

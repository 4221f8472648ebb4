"""Admin: managers and head office see their branch's subscriptions and deliveries.

Deliveries are read-only (the task writes them). Changing the URL or event types is an
ordinary edit; the secret is shown read-only (receivers need it to verify signatures).
"""
from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from crm.admin import ScopedAdminMixin
from crm.permissions import branch_of, role_of, sees_all_branches
from crm.roles import Role

from .models import WebhookDelivery, WebhookSubscription


def _manages(request: HttpRequest) -> bool:
    return role_of(request.user) in {Role.MANAGER, Role.HEAD_OFFICE}


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "url", "branch", "event_types", "is_active", "created_at")
    list_filter = ("is_active", "branch")
    search_fields = ("name", "url")
    readonly_fields = ("secret", "created_by", "created_at", "updated_at")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _manages(request) and super().has_module_permission(request)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        return fields if sees_all_branches(request.user) else (*fields, "branch")

    def save_model(self, request: HttpRequest, obj: WebhookSubscription, form: Any,
                   change: bool) -> None:
        if not change:
            obj.created_by = request.user
        if not sees_all_branches(request.user):
            obj.branch = branch_of(request.user)  # a manager subscribes their branch only
        super().save_model(request, obj, form, change)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_field = "subscription__branch"
    list_display = ("event_id", "event_type", "subscription", "status", "attempts",
                    "response_code", "next_attempt_at", "created_at")
    list_filter = ("status", "event_type")
    search_fields = ("event_id",)
    list_select_related = ("subscription",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _manages(request) and super().has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

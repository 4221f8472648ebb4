"""Webhook subscriptions and deliveries as the API shows them."""
from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from crm.api.errors import django_to_drf
from crm.api.serializers import ScopedPrimaryKeyRelatedField
from crm.models import Branch
from crm.permissions import scope_branches

from ..models import EventType, WebhookDelivery, WebhookSubscription
from ..services import check_url


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    """A subscription without its secret (shown once, on creation or rotation)."""

    branch = ScopedPrimaryKeyRelatedField(
        scope=scope_branches, queryset=Branch.objects, required=False, allow_null=True,
        help_text=_("Head office only: one branch's events, or null for every branch. "
                    "Managers' subscriptions are always for their own branch."))
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices), allow_empty=False,
        max_length=len(EventType.choices),
        help_text=_("lifecycle.transition (every period change) and/or risk.flagged "
                    "(moves into at_risk)."))
    url = serializers.URLField(max_length=500, help_text=_(
        "The receiver: https:// on a public host. It gets a signed JSON POST per event."))

    class Meta:
        model = WebhookSubscription
        fields = ["id", "name", "url", "event_types", "branch", "is_active", "created_by",
                  "created_at", "updated_at"]
        read_only_fields = ["created_by", "created_at", "updated_at"]

    def validate_url(self, value: str) -> str:
        try:
            check_url(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(django_to_drf(exc).detail["url"]) from exc
        return value

    def validate_event_types(self, value: list[str]) -> list[str]:
        return sorted(set(value))

    def update(self, instance: WebhookSubscription, validated_data: dict[str, Any]
               ) -> WebhookSubscription:
        validated_data.pop("branch", None)  # fixed at creation
        return super().update(instance, validated_data)


class WebhookSubscriptionSecretSerializer(WebhookSubscriptionSerializer):
    """Creation and rotation answers: the subscription with its signing secret."""

    secret = serializers.CharField(read_only=True, help_text=_(
        "HMAC-SHA256 key for X-CRM-Signature. Store it now: it is not shown again "
        "(rotate it with POST .../rotate-secret/)."))

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = ["id", "subscription", "event_id", "event_type", "payload", "status",
                  "attempts", "response_code", "last_error", "next_attempt_at",
                  "created_at", "delivered_at"]
        read_only_fields = fields

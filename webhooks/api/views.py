"""/api/v1/webhooks/: managers and head office manage subscriptions and read deliveries.

Scoped by branch like everything else (crm.permissions.scope_by_branch): a manager sees
and edits their branch's subscriptions; head office all, including chain-wide ones.
Counselors, front desk and teachers get 403.
"""
from __future__ import annotations

from typing import Any

import django_filters as df
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from crm.api.filters import IdFilter
from crm.api.permissions import managers
from crm.api.viewsets import ScopedReadOnlyViewSet, ScopedViewSet
from crm.permissions import branch_of, scope_by_branch, sees_all_branches

from ..models import EventType, WebhookDelivery, WebhookSubscription, new_secret
from ..services import enqueue
from . import serializers as s


def _scope_deliveries(user: Any, qs: QuerySet) -> QuerySet:
    return scope_by_branch(user, qs, field="subscription__branch")


class SubscriptionFilter(df.FilterSet):
    branch = IdFilter(field_name="branch")

    class Meta:
        model = WebhookSubscription
        fields = ["branch", "is_active"]


@extend_schema_view(create=extend_schema(responses={201: s.WebhookSubscriptionSecretSerializer}))
class WebhookSubscriptionViewSet(mixins.DestroyModelMixin, ScopedViewSet):
    """Webhook subscriptions. The signing `secret` is in the creation answer only."""

    queryset = WebhookSubscription.objects.all()
    serializer_class = s.WebhookSubscriptionSerializer
    scope = staticmethod(scope_by_branch)
    read_capability = managers
    write_capability = managers
    filterset_class = SubscriptionFilter
    ordering_fields = ["name", "created_at", "id"]
    ordering = ["name", "id"]
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_serializer_class(self) -> type:
        if self.action in {"create", "rotate_secret"}:
            return s.WebhookSubscriptionSecretSerializer
        return super().get_serializer_class()

    def create_object(self, serializer: Any) -> WebhookSubscription:
        user = self.request.user
        branch = serializer.validated_data.pop("branch", None)
        if not sees_all_branches(user):
            branch = branch_of(user)  # never the client's choice
        return serializer.save(branch=branch, created_by=user)

    def refetch(self, instance: Any) -> Any:
        return instance  # keep the secret on the instance for the creation answer

    @extend_schema(request=None, responses={200: s.WebhookSubscriptionSecretSerializer},
                   summary="Replace the signing secret (the old one stops working now)")
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str | None = None) -> Response:
        sub = self.get_object()
        sub.secret = new_secret()
        sub.save(update_fields=["secret", "updated_at"])
        return Response(s.WebhookSubscriptionSecretSerializer(sub).data)


class DeliveryFilter(df.FilterSet):
    subscription = IdFilter(field_name="subscription")
    status = df.ChoiceFilter(choices=WebhookDelivery.Status.choices)
    event_type = df.ChoiceFilter(choices=EventType.choices)

    class Meta:
        model = WebhookDelivery
        fields = ["subscription", "status", "event_type"]


class WebhookDeliveryViewSet(ScopedReadOnlyViewSet):
    """What was sent where, how often, and the receiver's last answer (read-only)."""

    queryset = WebhookDelivery.objects.all()
    serializer_class = s.WebhookDeliverySerializer
    scope = staticmethod(_scope_deliveries)
    read_capability = managers
    action_capabilities = {"redeliver": managers}
    filterset_class = DeliveryFilter
    ordering_fields = ["created_at", "next_attempt_at", "id"]
    ordering = ["-created_at", "-id"]
    lookup_value_regex = r"\d+"

    @extend_schema(request=None, responses={202: s.WebhookDeliverySerializer},
                   summary="Send a failed delivery again (attempts start over)")
    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, pk: str | None = None) -> Response:
        with transaction.atomic():
            row = self.get_queryset().select_for_update().get(pk=self.get_object().pk)
            if row.status != WebhookDelivery.Status.FAILED:
                raise ValidationError({"status": [_("Only a failed delivery can be sent "
                                                    "again.")]})
            row.status, row.attempts, row.next_attempt_at = (
                WebhookDelivery.Status.PENDING, 0, None)
            row.save(update_fields=["status", "attempts", "next_attempt_at"])
            enqueue([row.pk])
        row.refresh_from_db()
        return Response(s.WebhookDeliverySerializer(row).data, status=status.HTTP_202_ACCEPTED)

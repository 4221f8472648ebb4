"""Base viewsets: subclass these for every resource (docs/api.md, "Conventions").

A resource declares:
- `scope(user, qs)`: a `crm.permissions` helper; the queryset is always scoped, so
  other branches' rows answer 404 and never leak;
- `read_capability` / `write_capability` / `action_capabilities`: who may use it (403);
- `filterset_class`, `ordering_fields`, `ordering` and optionally `search_q(text)`.
Creates honour `Idempotency-Key`; services' ValidationErrors become 400 field errors.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.db.models import QuerySet
from rest_framework import mixins, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from .idempotency import idempotent_call
from .permissions import Capability, CapabilityPermission, any_role, capability_for, nobody


def _no_rows(user: Any, qs: QuerySet) -> QuerySet:
    return qs.none()


class ScopedMixin:
    """The queryset goes through `scope` on every action (list, detail and writes)."""

    permission_classes: ClassVar[list[type]] = [CapabilityPermission]
    # Deny by default: a resource that forgets its scope shows nothing.
    scope: Callable[[Any, QuerySet], QuerySet] = staticmethod(_no_rows)
    read_capability: Capability = staticmethod(any_role)
    write_capability: Capability = staticmethod(nobody)
    action_capabilities: ClassVar[dict[str, Capability]] = {}
    request: Request

    def get_capability(self, request: Request) -> Capability:
        """Override for a rule that depends on the action and the method together."""
        return capability_for(self, request)

    def base_queryset(self) -> QuerySet:
        """The unscoped rows with their joins; override instead of get_queryset."""
        return super().get_queryset()  # type: ignore[misc]

    def get_queryset(self) -> QuerySet:
        return type(self).scope(self.request.user, self.base_queryset())

    # --- writes -------------------------------------------------------------------------
    def server_fields(self, serializer: Any) -> dict[str, Any]:
        """Values the server sets whatever the client sent (recorded_by, branch...)."""
        return {}

    def create_object(self, serializer: Any) -> Any:
        """Override to call the app's service; raise Django ValidationError for a 400."""
        return serializer.save(**self.server_fields(serializer))

    def perform_create(self, serializer: Any) -> None:
        instance = self.create_object(serializer)
        serializer.instance = self.refetch(instance)

    def perform_update(self, serializer: Any) -> None:
        instance = serializer.save()
        serializer.instance = self.refetch(instance)

    def refetch(self, instance: Any) -> Any:
        """The saved row as lists show it (annotations such as balance included)."""
        return self.get_queryset().filter(pk=instance.pk).first() or instance


class IdempotentCreateMixin(mixins.CreateModelMixin):
    """POST honours the Idempotency-Key header (see crm.api.idempotency)."""

    idempotent_create = True

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return idempotent_call(request, lambda: super(IdempotentCreateMixin, self).create(
            request, *args, **kwargs))


class ScopedReadOnlyViewSet(ScopedMixin, viewsets.ReadOnlyModelViewSet):
    """GET list + detail over a scoped queryset."""


class ScopedViewSet(ScopedMixin, IdempotentCreateMixin, mixins.UpdateModelMixin,
                    viewsets.ReadOnlyModelViewSet):
    """GET list/detail, POST (idempotent), PATCH. No PUT (partial updates only: a client
    that sends a stale full copy must not overwrite server-owned fields) and no DELETE
    (records are merged or closed, never deleted through the API)."""

    http_method_names = ["get", "post", "patch", "head", "options"]


class ScopedCreateReadViewSet(ScopedMixin, IdempotentCreateMixin,
                              viewsets.ReadOnlyModelViewSet):
    """GET list/detail and POST only: append-only facts (payments, interactions)."""

"""Serializer conventions: scoped foreign keys and model validation on save."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .errors import django_to_drf

Scope = Callable[[Any, models.QuerySet], models.QuerySet]


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A writable foreign key limited to the rows the caller may see.

    Without it a client could attach a record to another branch's student by guessing
    an id. An invisible id gets the same message as a missing one (no leak).
    """

    default_error_messages = {
        "does_not_exist": _("No record with id “{pk_value}” that you can see."),
    }

    def __init__(self, *, scope: Scope, **kwargs: Any) -> None:
        self.scope = scope
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        try:
            number = int(data)
        except (TypeError, ValueError):
            number = None
        if number is not None and not isinstance(data, bool) and not 0 < number < 2**63:
            self.fail("does_not_exist", pk_value=data)  # not a database overflow (500)
        return super().to_internal_value(data)

    def get_queryset(self) -> models.QuerySet:
        qs = super().get_queryset()
        request = self.context.get("request")
        return self.scope(request.user if request else None, qs)


class FullCleanModelSerializer(serializers.ModelSerializer):
    """Create/update through the model's `full_clean()`, so check constraints, unique
    constraints and `clean()` answer 400 with field names instead of a database error.

    Values set by the view (`serializer.save(branch=...)`) take part in the check.
    Read-only server-owned fields go in `Meta.read_only_fields`, never in the input.
    """

    def create(self, validated_data: dict[str, Any]) -> models.Model:
        model = self.Meta.model
        many = {k: validated_data.pop(k) for k in list(validated_data)
                if isinstance(model._meta.get_field(k), models.ManyToManyField)}
        instance = model(**validated_data)
        self._clean_and_save(instance)
        for name, value in many.items():
            getattr(instance, name).set(value)
        return instance

    def update(self, instance: models.Model, validated_data: dict[str, Any]) -> models.Model:
        for name, value in validated_data.items():
            setattr(instance, name, value)
        self._clean_and_save(instance)
        return instance

    @staticmethod
    def _clean_and_save(instance: models.Model) -> None:
        try:
            instance.full_clean()
        except DjangoValidationError as exc:
            raise django_to_drf(exc) from exc
        instance.save()


class ErrorDetailSerializer(serializers.Serializer):
    """Documentation only: the inner object of every error response."""

    code = serializers.CharField(help_text=_("Stable machine-readable code, e.g. not_found, "
                                             "permission_denied, invalid, throttled, "
                                             "duplicate_family, idempotency_key_reused."))
    message = serializers.CharField(help_text=_("Human-readable, in the request's language."))
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_("Field or query parameter (nested paths joined by dots, e.g. "
                    "parents.0.phone) -> messages. Empty when no field is at fault."))
    retry_after = serializers.IntegerField(required=False,
                                           help_text=_("429 only: seconds to wait."))
    existing_parents = serializers.ListField(
        child=serializers.IntegerField(), required=False,
        help_text=_("409 on family/parent registration: ids of the parents already "
                    "registered with that phone."))
    existing_payment = serializers.IntegerField(
        required=False, help_text=_("409 on payments: id of the payment with that reference."))


class ErrorSerializer(serializers.Serializer):
    """Documentation only: {"error": {...}}, the body of every 4xx answer."""

    error = ErrorDetailSerializer()

"""One error body for every failure: {"error": {"code", "message", "fields"}}.

Clients branch on `code` (stable, English, snake_case), show `message` (translated) and
map `fields` (a flat {"parameter.or.nested.path": [messages]}) onto their form. Nested
serializer errors are flattened with dots ("parents.0.phone") so a client never needs
to walk DRF's nested lists and dicts.
"""
from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.exceptions import ErrorDetail
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

NON_FIELD = "non_field_errors"


class Conflict(exceptions.APIException):
    """409: the request clashes with an existing record; `extra` names that record."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with an existing record.")
    default_code = "conflict"

    def __init__(self, detail: Any = None, code: str | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail, code)
        self.extra = extra or {}


class Unprocessable(exceptions.APIException):
    """422: well-formed but cannot be honoured (an idempotency key reused for another body)."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _("The request cannot be processed.")
    default_code = "unprocessable"


def _details(errors: list[DjangoValidationError]) -> list[ErrorDetail]:
    return [ErrorDetail(message, code=err.code or "invalid")
            for err in errors for message in err.messages]


def django_to_drf(exc: DjangoValidationError) -> exceptions.ValidationError:
    """A model's or a service's ValidationError as DRF's, keeping field names and codes
    (so a service's `consent_required` or `no_hours` reaches the client)."""
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError({
            (NON_FIELD if field == "__all__" else field): _details(errors)
            for field, errors in exc.error_dict.items()})
    return exceptions.ValidationError({NON_FIELD: _details(exc.error_list)})


def flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"a.0.b": ["message", ...]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            if detail:
                out[prefix or NON_FIELD] = [str(item) for item in detail]
        else:
            for i, item in enumerate(detail):
                out.update(flatten(item, f"{prefix}.{i}" if prefix else str(i)))
    else:
        out[prefix or NON_FIELD] = [str(detail)]
    return out


def _first_code(detail: Any) -> str | None:
    if isinstance(detail, dict):
        for value in detail.values():
            code = _first_code(value)
            if code:
                return code
    elif isinstance(detail, list):
        for value in detail:
            code = _first_code(value)
            if code:
                return code
    return getattr(detail, "code", None)


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None,
               **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}, **extra}}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: every error in the one documented shape."""
    if isinstance(exc, DjangoValidationError):
        exc = django_to_drf(exc)
    elif isinstance(exc, IntegrityError):
        # A unique constraint lost a race the validation could not see (two clients at
        # once): a conflict, not a server error.
        exc = Conflict(_("The record changed while saving; reload it and try again."),
                       code="integrity_conflict")
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let it be a 500 with a traceback in the logs
    assert isinstance(exc, exceptions.APIException)
    if isinstance(exc, exceptions.ValidationError):
        fields = flatten(exc.detail)
        code = "invalid"
        message = _("The request is invalid: see the fields.")
        if set(fields) == {NON_FIELD}:
            message = fields[NON_FIELD][0]
        inner = _first_code(exc.detail)
        if inner and inner not in {"invalid", "required", "blank", "null"}:
            # A service's own code (duplicate_family, consent_required...) is more useful.
            code = inner
        response.data = error_body(code, message, fields)
        return response
    detail = exc.detail
    code = getattr(detail, "code", None) or exc.default_code
    if isinstance(detail, dict | list):
        response.data = error_body(code, str(exc.default_detail), flatten(detail))
    else:
        response.data = error_body(code, str(detail), None, **getattr(exc, "extra", {}))
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        response.data["error"]["retry_after"] = int(exc.wait)
    return response

"""OpenAPI: every operation documents its error answers with the one error component.

Views do not repeat 401/403/404/429 in each `extend_schema`: this AutoSchema adds them
from what the view is (authenticated? detail route? takes input? idempotent?). A view
adds its own (409 on duplicates) through `extend_schema(responses=...)` as usual.
"""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular import generators
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.permissions import AllowAny

from .idempotency import HEADER
from .serializers import ErrorSerializer

ERROR_DESCRIPTIONS: dict[str, Any] = {
    "400": _("Invalid input or query parameter; `fields` names each one."),
    "401": _("No or invalid credentials (send `Authorization: Token <key>`)."),
    "403": _("Your role may not use this resource or action."),
    "404": _("No such record among those you can see (other branches' records are "
             "reported as not found)."),
    "409": _("Conflicts with an existing record (duplicate phone, payment reference...)."),
    "422": _("The Idempotency-Key was already used with a different body."),
    "429": _("Too many requests; retry after `retry_after` seconds."),
}


def error_response(code: int | str, description: Any = None) -> OpenApiResponse:
    """For views that document an extra error explicitly: `responses={409: error_response(409)}`."""
    return OpenApiResponse(ErrorSerializer,
                           description=description or ERROR_DESCRIPTIONS.get(str(code), ""))


class CrmAutoSchema(AutoSchema):
    def _is_public(self) -> bool:
        perms = getattr(self.view, "permission_classes", [])
        return bool(perms) and all(p is AllowAny for p in perms)

    def _is_idempotent(self) -> bool:
        return self.method == "POST" and bool(getattr(self.view, "idempotent_create", False))

    def _error_codes(self) -> list[str]:
        codes = ["400"]  # query parameters are validated on every operation
        if not self._is_public():
            codes += ["401", "403"]
        if "{" in self.path:
            codes.append("404")
        if self._is_idempotent():
            codes.append("422")
        codes.append("429")
        return codes

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        bodies = super()._get_response_bodies(direction)
        if direction != "response":
            return bodies
        for code in self._error_codes():
            if code not in bodies:
                bodies[code] = self._get_response_for_code(error_response(code), code,
                                                           direction=direction)
        return bodies

    def get_override_parameters(self) -> list[Any]:
        params = list(super().get_override_parameters())
        if self._is_idempotent():
            params.append(OpenApiParameter(
                HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
                description=str(_("Any unique string (a UUID) of up to 100 characters. A "
                                  "retry with the same key and body returns the first "
                                  "answer and creates nothing; with another body, 422.")),
            ))
        return params


class SchemaGenerator(generators.SchemaGenerator):
    """Reads only the API's URLs (crm.api.schema_urls), whatever urlconf the caller has.

    The site's root urlconf also holds the admin under i18n_patterns, whose locale
    prefix drf-spectacular cannot simplify (a warning that would fail `--fail-on-warn`);
    and nothing outside /api/v1/ belongs in the API's schema anyway.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("urlconf") is None:
            kwargs["urlconf"] = "crm.api.schema_urls"
        super().__init__(*args, **kwargs)

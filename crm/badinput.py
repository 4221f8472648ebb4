"""Request-level guards against input no page or API view can handle.

A NUL byte (``%00``) in a query parameter reached the database in searches and filters;
PostgreSQL cannot hold NUL in text, the driver raised and the page answered 500 (issue #21).
Forms and serializers already refuse NUL in submitted fields (Django's
ProhibitNullCharactersValidator); this covers the query string in one place.
"""
from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _


class RejectNulBytesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if any("\x00" in key or any("\x00" in v for v in values)
               for key, values in request.GET.lists()):
            message = _("The address holds a character that is not allowed (a NUL byte).")
            if request.path.startswith("/api/"):
                return JsonResponse({"error": {"code": "parse_error", "message": message,
                                               "fields": {}}}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

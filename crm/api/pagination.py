"""Page-number pagination with a client-chosen, capped page size; bad values are a 400."""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request


def _positive_int(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = 0
    if value < 1:
        raise ValidationError({name: [_("Enter a whole number of 1 or more.")]})
    return value


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=2&page_size=100`; page_size is capped at `max_page_size` (not an error).

    A page past the end is 404 (as DRF does); a page or page size that is not a
    positive whole number is a 400 naming the parameter.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int:
        value = _positive_int(request, self.page_size_query_param)
        if value is None:
            return self.page_size
        return min(value, self.max_page_size)

    def get_page_number(self, request: Request, paginator: Any) -> Any:
        raw = request.query_params.get(self.page_query_param)
        if raw in self.last_page_strings:
            return paginator.num_pages
        return _positive_int(request, self.page_query_param) or 1

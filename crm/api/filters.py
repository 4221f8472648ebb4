"""Filtering conventions: FilterSets with `updated_since`, search via the app's own Q, and
ordering that refuses unknown fields. Every bad value is a 400 naming the parameter."""
from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.fields import IsoDateTimeField
from rest_framework import filters
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from crm.permissions import can_see_contact, search_text


class _UtcDateTimeField(IsoDateTimeField):
    """ISO 8601 in, UTC out: PostgreSQL refuses odd offsets such as -21:11 (a 500)."""

    def clean(self, value: Any) -> Any:
        parsed = super().clean(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(dt.UTC)
        except (OverflowError, ValueError) as exc:
            raise forms.ValidationError(_("Enter a date-time between years 1 and 9999."),
                                        code="invalid") from exc


class SinceFilter(django_filters.IsoDateTimeFilter):
    """`field >= value` for an ISO 8601 date-time (give `Z` or an encoded `%2B` offset)."""

    field_class = _UtcDateTimeField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("lookup_expr", "gte")
        super().__init__(*args, **kwargs)


class SyncFilterSet(django_filters.FilterSet):
    """Base for resources with `updated_at`: `?updated_since=<ISO 8601 datetime>`.

    Inclusive (>=), so a client that stores the largest `updated_at` it has seen and
    sends it back never misses a row changed in the same instant; it may see that row
    twice and de-duplicates by id.
    """

    updated_since = SinceFilter(
        field_name="updated_at",
        label=gettext_lazy("Only rows changed at or after this ISO 8601 date-time "
                           "(e.g. 2025-03-01T08:00:00Z)."),
    )


class SearchFilter(filters.SearchFilter):
    """`?search=` through the view's `search_q(text) -> Q` (name, pinyin, initials, phone).

    Views keep their search rules next to their data (students.selectors.search_q);
    this backend only feeds it, hides phone-digit search from masked roles and documents
    the parameter. Views without `search_q` are not searchable.
    """

    search_description = gettext_lazy(
        "Name (Chinese or English), pinyin or initials (e.g. wxm), or 4+ phone digits.")

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        search_q = getattr(view, "search_q", None)
        text = request.query_params.get(self.search_param, "").strip()
        if search_q is None or not text:
            return queryset
        if not can_see_contact(request.user):
            text = search_text(request.user, text)
            if not text:
                return queryset.none()
        q: Q = search_q(text)
        return queryset.filter(q)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        if getattr(view, "search_q", None) is None:
            return []
        return super().get_schema_operation_parameters(view)


class OrderingFilter(filters.OrderingFilter):
    """`?ordering=-updated_at,id`; an unknown field is a 400, not silently ignored."""

    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> Any:
        params = request.query_params.get(self.ordering_param)
        if params and getattr(view, "ordering_fields", None) is not None:
            terms = [t.strip() for t in params.split(",") if t.strip()]
            valid = {name for name, _label in self.get_valid_fields(queryset, view,
                                                                    {"request": request})}
            bad = [t for t in terms if t.lstrip("-") not in valid]
            if bad:
                raise ValidationError({self.ordering_param: [
                    _("Cannot order by %(bad)s; choose from %(valid)s.")
                    % {"bad": ", ".join(bad), "valid": ", ".join(sorted(valid))}]})
            # A stable tie-breaker so pages never overlap or skip rows.
            return [*terms, "pk"] if "pk" not in terms and "id" not in terms else terms
        return super().get_ordering(request, queryset, view)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        params = super().get_schema_operation_parameters(view)
        fields = getattr(view, "ordering_fields", None)
        if fields and fields != "__all__":
            for p in params:
                p["description"] = _("Comma-separated; prefix with - for descending. "
                                     "Fields: %(f)s.") % {"f": ", ".join(fields)}
        return params


MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A foreign key filtered by its plain id.

    Not a ModelChoiceFilter: that answers 400 for a missing id and 200 for an existing
    one, telling a caller which other branches' ids exist. Bounded so an absurd number is
    a 400, not a database overflow.
    """

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)

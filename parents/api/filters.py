"""Query filters of the parent-side resources (ids via crm.api.filters.IdFilter)."""
from __future__ import annotations

import django_filters as df
from django.db.models import Q

from crm.api.filters import IdFilter, SyncFilterSet
from parents.models import Guardianship, Parent


class ParentFilter(SyncFilterSet):
    branch = IdFilter(field_name="branch")
    student = IdFilter(field_name="guardianships__student", distinct=True)

    class Meta:
        model = Parent
        fields = ["branch", "student", "updated_since"]


class GuardianshipFilter(df.FilterSet):
    student = IdFilter(field_name="student")
    parent = IdFilter(field_name="parent")

    class Meta:
        model = Guardianship
        fields = ["student", "parent", "relation", "is_primary_contact", "is_decision_maker"]


def parent_search_q(text: str) -> Q:
    """A parent by name, pinyin, initials or 4+ phone digits (as students.selectors.search_q)."""
    text = text.strip()
    q = Q(name__icontains=text)
    low = text.lower().replace(" ", "")
    if low.isascii() and low.isalpha():
        q |= Q(name_pinyin__startswith=low) | Q(name_initials__startswith=low)
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= 4:
        q |= Q(phone__contains=digits)
    return q

"""Reads over students: derived figures come from the facts, computed set-based in SQL."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, NullIf

from crm.permissions import scope_students

from .models import Attendance, Contract, LedgerEntry, Student

_HOURS = DecimalField(max_digits=9, decimal_places=2)


def remaining_hours_expr() -> Coalesce:
    """A student's hours left: the sum of every ledger entry of every contract they hold."""
    sub = (LedgerEntry.objects.filter(contract__student=OuterRef("pk"))
           .values("contract__student").annotate(total=Sum("hours")).values("total"))
    return Coalesce(Subquery(sub, output_field=_HOURS), Value(Decimal("0")), output_field=_HOURS)


def with_figures(qs: QuerySet, *, since: dt.date | None = None) -> QuerySet:
    """Annotate remaining_hours, present/absent counts and attendance_rate (0-1 or None).

    Leave is excused, so the rate is present / (present + absent). `since` limits the
    attendance window (e.g. the last 8 weeks for the risk model).
    """
    att = Attendance.objects.filter(student=OuterRef("pk"))
    if since is not None:
        att = att.filter(date__gte=since)
    counts = att.values("student").annotate(
        present=Count("pk", filter=Q(status__in=list(Attendance.PRESENT))),
        absent=Count("pk", filter=Q(status=Attendance.Status.ABSENT)),
    )
    qs = qs.annotate(
        remaining_hours=remaining_hours_expr(),
        present_count=Coalesce(Subquery(counts.values("present")), Value(0)),
        absent_count=Coalesce(Subquery(counts.values("absent")), Value(0)),
    )
    return qs.annotate(
        attendance_rate=ExpressionWrapper(
            Cast(F("present_count"), FloatField())
            / NullIf(Cast(F("present_count") + F("absent_count"), FloatField()), Value(0.0)),
            output_field=FloatField(),
        )
    )


def student_list(*, user, search: str = "", branch_id: int | None = None,
                 period: str | None = None) -> QuerySet:
    """Students visible to `user`, optionally searched by name, pinyin, initials or phone."""
    qs = scope_students(user, Student.objects.select_related("branch", "counselor"))
    if branch_id:
        qs = qs.filter(branch_id=branch_id)
    if period:
        qs = qs.filter(period=period)
    if search:
        qs = qs.filter(search_q(search))
    return qs


def search_q(text: str) -> Q:
    """Match a student by Chinese name, English name, pinyin, initials or a parent's phone."""
    text = text.strip()
    q = Q(name_zh__icontains=text) | Q(name_en__icontains=text)
    low = text.lower().replace(" ", "")
    if low.isascii() and low.isalpha():
        q |= Q(name_pinyin__startswith=low) | Q(name_initials__startswith=low)
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= 4:
        from parents.models import Guardianship

        q |= Q(pk__in=Guardianship.objects.filter(parent__phone__contains=digits)
               .values("student_id"))
    return q


def contract_balances(qs: QuerySet | None = None) -> QuerySet:
    """Contracts annotated with `balance` (sum of their ledger entries)."""
    qs = Contract.objects.all() if qs is None else qs
    sub = (LedgerEntry.objects.filter(contract=OuterRef("pk")).values("contract")
           .annotate(total=Sum("hours")).values("total"))
    return qs.annotate(
        balance=Coalesce(Subquery(sub, output_field=_HOURS), Value(Decimal("0")),
                         output_field=_HOURS)
    )

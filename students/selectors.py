"""Reads over students: derived figures come from the facts, computed set-based in SQL."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import (
    Cast,
    Coalesce,
    ExtractDay,
    ExtractMonth,
    ExtractYear,
    NullIf,
    TruncMonth,
)
from django.utils import timezone

from crm.permissions import scope_by_student, scope_students, search_text

from .models import Attendance, Contract, ContractPolicy, LedgerEntry, Student

_HOURS = DecimalField(max_digits=9, decimal_places=2)


def remaining_hours_expr() -> Coalesce:
    """A student's hours left: the sum of every ledger entry of every contract they hold."""
    sub = (LedgerEntry.objects.filter(contract__student=OuterRef("pk"))
           .values("contract__student").annotate(total=Sum("hours")).values("total"))
    return Coalesce(Subquery(sub, output_field=_HOURS), Value(Decimal("0")), output_field=_HOURS)


# The attendance window every page shows ("attendance, last 12 weeks"): the student list,
# the account page and the API read it through `with_figures`, so one student has one rate.
ATTENDANCE_WEEKS = 12


def attendance_since(weeks: int, *, today: dt.date | None = None) -> dt.date:
    """The first day of an N-week attendance window: today minus N weeks, that day
    included. The one definition of "the last N weeks" (pages, exports, API and the
    nightly risk and growth windows)."""
    return (today or timezone.localdate()) - dt.timedelta(weeks=weeks)


def attendance_rate(present: int, absent: int) -> float | None:
    """present / (present + absent): leave is excused, late counts as present
    (Attendance.PRESENT); None without a counted lesson. The Python form of
    `with_figures`' rate, for readers that count in their own statement (the nightly job)."""
    counted = present + absent
    return present / counted if counted else None


def with_figures(qs: QuerySet, *, weeks: int | None = ATTENDANCE_WEEKS,
                 today: dt.date | None = None) -> QuerySet:
    """Annotate remaining_hours, present/absent counts and attendance_rate (0-1 or None)
    over the last `weeks` weeks (`attendance_since`; None: all of it).

    The one selector of these figures: the student list, the account page, the API and
    the exports call it, so they agree (the rate is `attendance_rate` in SQL).
    """
    att = Attendance.objects.filter(student=OuterRef("pk"))
    if weeks is not None:
        att = att.filter(date__gte=attendance_since(weeks, today=today))
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


def account_figures(student: Student, *, weeks: int = ATTENDANCE_WEEKS) -> dict[str, Any]:
    """One student's remaining_hours, present_count, absent_count and attendance_rate:
    `with_figures` over a one-row queryset, so the account page shows what the list shows."""
    return with_figures(Student.objects.filter(pk=student.pk), weeks=weeks).values(
        "remaining_hours", "present_count", "absent_count", "attendance_rate").get()


def student_list(*, user, search: str = "", branch_id: int | None = None,
                 period: str | None = None) -> QuerySet:
    """Students visible to `user`, optionally searched by name, pinyin, initials or phone."""
    qs = scope_students(user, Student.objects.select_related("branch", "counselor"))
    if branch_id:
        qs = qs.filter(branch_id=branch_id)
    if period:
        qs = qs.filter(period=period)
    if search:
        # Phone digits only for roles that see full phones (crm.permissions.search_text).
        search = search_text(user, search)
        qs = qs.filter(search_q(search)) if search else qs.none()
    return qs


# A parent's pinyin matches from this many letters on ("gu" alone would match half the
# school's families by their parents; a student's own pinyin needs no such floor).
PARENT_PINYIN_MIN = 4


def search_q(text: str) -> Q:
    """Match a student by Chinese name, English name, pinyin, initials, or by a parent's
    name, pinyin or phone (front desk finds the family of 顾丽华 by her name, issue #24)."""
    from parents.models import Guardianship

    text = text.strip()
    q = Q(name_zh__icontains=text) | Q(name_en__icontains=text)
    parent_q = Q(parent__name__icontains=text)
    low = text.lower().replace(" ", "")
    if low.isascii() and low.isalpha():
        q |= Q(name_pinyin__startswith=low) | Q(name_initials__startswith=low)
        if len(low) >= PARENT_PINYIN_MIN:
            parent_q |= Q(parent__name_pinyin__startswith=low)
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= 4:
        parent_q |= Q(parent__phone__contains=digits)
    q |= Q(pk__in=Guardianship.objects.filter(parent_q).values("student_id"))
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


# ------------------------------------------------------------------ renewal warnings
# How far back the "recent consumption rate" looks (weeks left = hours / weekly rate).
RATE_WEEKS = 8
_OPEN = [Contract.Status.ACTIVE, Contract.Status.COMPLETED]


def _policies() -> tuple[ContractPolicy, dict[int, ContractPolicy]]:
    """(institution default, {branch_id: branch row}): few rows, read once per report."""
    rows = {p.branch_id: p for p in ContractPolicy.objects.all()}
    default = rows.pop(None, None) or ContractPolicy()
    return default, rows


def _per_branch_q(default: ContractPolicy, own: dict[int, ContractPolicy],
                  make_q: Callable[[ContractPolicy], Q | None]) -> Q:
    """OR of one condition per branch policy (plus the default for the other branches),
    so a per-branch threshold stays one SQL query."""
    nothing = Q(pk__in=[])
    q = ~Q(branch_id__in=list(own)) & (make_q(default) or nothing)
    for branch_id, policy in own.items():
        q |= Q(branch_id=branch_id) & (make_q(policy) or nothing)
    return q


def renewal_warnings(user: Any, *, today: dt.date | None = None,
                     branch_id: int | None = None) -> QuerySet:
    """Students to talk to about renewing (续费预警), scoped by crm.permissions.

    A student with an active non-trial contract is flagged `low_balance` when their open
    hours fall below the branch's `low_balance_hours`, `expiring` when their earliest
    active contract ends within `expiring_within_days`. Rows carry hours_left,
    valid_until, recent_weekly_hours (last 8 weeks), weeks_left (None without recent
    lessons), is_low_balance, is_expiring and reason_codes ("low_balance,expiring").
    """
    today = today or timezone.localdate()
    since = today - dt.timedelta(weeks=RATE_WEEKS)
    default, own = _policies()
    hours = (LedgerEntry.objects.filter(contract__student=OuterRef("pk"),
                                        contract__status__in=_OPEN)
             .values("contract__student").annotate(t=Sum("hours")).values("t"))
    used = (LedgerEntry.objects.filter(
                contract__student=OuterRef("pk"), attendance__date__gte=since,
                kind__in=[LedgerEntry.Kind.CONSUMED, LedgerEntry.Kind.REVERSAL])
            .values("contract__student").annotate(t=Sum("hours")).values("t"))
    active = Contract.objects.filter(student=OuterRef("pk"), status=Contract.Status.ACTIVE,
                                     is_trial=False)
    qs = scope_students(user, Student.objects.select_related("branch", "counselor"))
    if branch_id:
        qs = qs.filter(branch_id=branch_id)
    qs = qs.filter(Exists(active)).annotate(
        hours_left=Coalesce(Subquery(hours, output_field=_HOURS), Value(Decimal("0")),
                            output_field=_HOURS),
        valid_until=Subquery(active.order_by("valid_until").values("valid_until")[:1]),
        recent_weekly_hours=ExpressionWrapper(
            -Cast(Coalesce(Subquery(used, output_field=_HOURS), Value(Decimal("0")),
                           output_field=_HOURS), FloatField()) / Value(float(RATE_WEEKS)),
            output_field=FloatField()),
    )
    low = _per_branch_q(default, own, lambda p: Q(hours_left__lt=p.low_balance_hours))
    soon = _per_branch_q(default, own, lambda p: Q(
        valid_until__lte=today + dt.timedelta(days=p.expiring_within_days)))
    return qs.filter(low | soon).annotate(
        weeks_left=ExpressionWrapper(
            Cast(F("hours_left"), FloatField())
            / NullIf(F("recent_weekly_hours"), Value(0.0)), output_field=FloatField()),
        is_low_balance=Case(When(low, then=Value(True)), default=Value(False),
                            output_field=BooleanField()),
        is_expiring=Case(When(soon, then=Value(True)), default=Value(False),
                         output_field=BooleanField()),
        reason_codes=Case(When(low & soon, then=Value("low_balance,expiring")),
                          When(low, then=Value("low_balance")),
                          When(soon, then=Value("expiring")), default=Value(""),
                          output_field=CharField()),
    ).order_by("hours_left", "valid_until", "pk")


def renewal_rates(user: Any, *, start: dt.date, end: dt.date,
                  by: str = "branch") -> list[dict[str, Any]]:
    """Renewal rate per month and per branch or counselor: renewals / (renewals + completions).

    - renewal: a contract with is_renewal (a further non-trial contract of a student who
      already had one), counted in the month it was signed;
    - completion: a non-trial contract that ended in the month because its hours reached
      zero (status completed) or its validity ran out (status expired), by `ended_on`.
      Refunded, cancelled and transferred contracts are neither: they are churn or moves.
    `by` is "branch" (key = branch id) or "counselor" (key = the student's counselor id).
    Two grouped queries, merged here; rate is None when both counts are 0.
    """
    key = {"branch": "branch_id", "counselor": "student__counselor_id"}[by]
    base = scope_by_student(user, Contract.objects.filter(is_trial=False))
    renewals = (base.filter(is_renewal=True, signed_on__gte=start, signed_on__lte=end)
                .annotate(month=TruncMonth("signed_on")).values("month", key)
                .annotate(n=Count("pk")))
    completions = (base.filter(status__in=[Contract.Status.COMPLETED, Contract.Status.EXPIRED],
                               ended_on__gte=start, ended_on__lte=end)
                   .annotate(month=TruncMonth("ended_on")).values("month", key)
                   .annotate(n=Count("pk")))
    rows: dict[tuple[Any, Any], dict[str, Any]] = {}
    for kind, qs in (("renewals", renewals), ("completions", completions)):
        for r in qs:
            month = r["month"].date() if isinstance(r["month"], dt.datetime) else r["month"]
            row = rows.setdefault((month, r[key]), {"month": month, "key": r[key],
                                                    "renewals": 0, "completions": 0})
            row[kind] = r["n"]
    out = sorted(rows.values(), key=lambda r: (r["month"], r["key"] is None, r["key"] or 0))
    for r in out:
        total = r["renewals"] + r["completions"]
        r["rate"] = r["renewals"] / total if total else None
    return out


def contracts_over_caps(user: Any, *, statuses: list[str] | None = None) -> QuerySet:
    """Existing contracts that exceed their branch's prepayment caps (hours or months).

    Same month arithmetic as students.services.prepayment.months_exceeded, in SQL.
    Rows carry cap_hours, cap_months, months_span, over_hours and over_months.
    """
    default, own = _policies()
    statuses = statuses or [Contract.Status.ACTIVE]

    def per_branch(attr: str, field: Any) -> Case:
        whens = [When(branch_id=b, then=Value(getattr(p, attr))) for b, p in own.items()]
        return Case(*whens, default=Value(getattr(default, attr)), output_field=field)

    qs = scope_by_student(user, Contract.objects.filter(status__in=statuses)
                          .select_related("student", "branch", "course"))
    qs = qs.annotate(
        cap_hours=per_branch("max_prepaid_hours", _HOURS),
        cap_months=per_branch("max_prepaid_months", IntegerField()),
        months_span=(ExtractYear("valid_until") - ExtractYear("valid_from")) * 12
        + ExtractMonth("valid_until") - ExtractMonth("valid_from"),
    )
    over_hours = Q(cap_hours__isnull=False, hours_purchased__gt=F("cap_hours"))
    over_months = Q(cap_months__isnull=False) & (
        Q(months_span__gt=F("cap_months"))
        | Q(months_span=F("cap_months"), valid_until__day__gt=ExtractDay("valid_from")))
    return qs.filter(over_hours | over_months).annotate(
        over_hours=Case(When(over_hours, then=Value(True)), default=Value(False),
                        output_field=BooleanField()),
        over_months=Case(When(over_months, then=Value(True)), default=Value(False),
                         output_field=BooleanField()),
    ).order_by("branch_id", "pk")


# --------------------------------------------------------------------------- arrears
_MONEY = DecimalField(max_digits=12, decimal_places=2)


def contracts_with_paid(qs: QuerySet | None = None) -> QuerySet:
    """Contracts annotated with `paid` (payments + value moved in by approved transfers)
    and `owed` (price after discount minus paid), as students.services.contract_owed."""
    from .models import Payment, Transfer

    qs = Contract.objects.all() if qs is None else qs
    pay = (Payment.objects.filter(contract=OuterRef("pk")).order_by().values("contract")
           .annotate(t=Sum("amount")).values("t"))
    moved = (Transfer.objects.filter(target_contract=OuterRef("pk"), status="approved")
             .order_by().values("target_contract").annotate(t=Sum("value")).values("t"))
    zero = Value(Decimal("0"))
    qs = qs.annotate(paid=ExpressionWrapper(
        Coalesce(Subquery(pay, output_field=_MONEY), zero, output_field=_MONEY)
        + Coalesce(Subquery(moved, output_field=_MONEY), zero, output_field=_MONEY),
        output_field=_MONEY))
    return qs.annotate(owed=ExpressionWrapper(F("list_price") - F("discount") - F("paid"),
                                              output_field=_MONEY))


def arrears(user: Any, *, branch_id: int | None = None) -> QuerySet:
    """Open contracts that still owe money (欠费), in the user's scope, largest first."""
    qs = scope_by_student(user, Contract.objects.filter(status__in=_OPEN))
    if branch_id:
        qs = qs.filter(branch_id=branch_id)
    return (contracts_with_paid(qs.select_related("student", "course", "branch"))
            .filter(owed__gt=0).order_by("-owed", "valid_until", "pk"))

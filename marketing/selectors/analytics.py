"""Managers' analytics: churn by cause, win-back candidates, the acquisition funnel and
acquisition vs retention cost (DOMAIN.md §6-§7: analyse reasons to fix the institution;
winning a customer costs 5-8x keeping one).

Scoping: every figure starts from rows crm.permissions lets the user see (a manager's
branch, head office everything); the views refuse other roles before calling these.
"""
from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    BooleanField,
    Case,
    CharField,
    Count,
    DateField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.permissions import branch_of, role_of, scope_by_branch, scope_by_student, scope_students
from crm.roles import Role
from lifecycle.models import Transition
from lifecycle.periods import ENDED_PERIODS, Pattern, Period
from lifecycle.selectors import with_pattern
from students.choices import Grade
from students.models import Student

from ..models import Campaign, ChurnReason, ExitInterview
from .facts import has_paid_contract, has_trial_attended, paid_contracts, revenue_expr
from .policy import policies_by_branch

ANALYTICS_ROLES = frozenset({Role.MANAGER, Role.HEAD_OFFICE})
NO_INTERVIEW = "none"


def can_see_analytics(user: Any) -> bool:
    """Branch managers (their branch) and head office (all); nobody else."""
    return role_of(user) in ANALYTICS_ROLES


def _bounds(since: dt.date, until: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(since, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def _visible_branch_ids(user: Any) -> list[int]:
    from crm.models import Branch

    if role_of(user) == Role.HEAD_OFFICE:
        return list(Branch.objects.values_list("pk", flat=True))
    branch = branch_of(user)
    return [branch.pk] if branch is not None else []


# --- win-back --------------------------------------------------------------------------

def _window_contains(window: dict[str, str], on: dt.date) -> bool:
    """Month-day windows, inclusive; a window may run over the new year (12-20..01-10)."""
    key = on.strftime("%m-%d")
    start, end = window.get("start", ""), window.get("end", "")
    return start <= key <= end if start <= end else (key >= start or key <= end)


def win_back_moments(branch_id: int, on: dt.date) -> list[str]:
    """Names of the branch's win-back windows that contain `on` (new term, after exams)."""
    policy = policies_by_branch([branch_id])[branch_id]
    return [w.get("name", "") for w in policy.win_back_windows or [] if _window_contains(w, on)]


def win_back_eligible(qs: QuerySet, branch_ids: list[int]) -> QuerySet:
    """Ended accounts worth a win-back offer by value and reason (DOMAIN.md §6: decide
    by value whether to invest in recovery):

    - not if the latest exit interview's reason rules it out (moved away, need ended);
    - lifetime revenue at least the branch policy's minimum.
    Annotated: `lifetime_revenue`, `last_reason` (code or None). Shared by the win-back
    candidates (which add the timing) and the audience of win-back campaigns.
    """
    last_interview = (ExitInterview.objects.filter(student=OuterRef("pk"))
                      .order_by("-held_on", "-id"))
    qs = qs.filter(period__in=list(ENDED_PERIODS)).annotate(
        last_reason=Subquery(last_interview.values("reason__code")[:1]),
        last_reason_ok=Subquery(last_interview.values("reason__win_back_eligible")[:1],
                                output_field=BooleanField()),
        lifetime_revenue=revenue_expr(),
    ).filter(Q(last_reason_ok=True) | Q(last_reason_ok__isnull=True))
    worth = Q(pk__in=[])
    for bid, policy in policies_by_branch(branch_ids).items():
        worth |= Q(branch_id=bid, lifetime_revenue__gte=policy.win_back_min_revenue)
    return qs.filter(worth)


def win_back_candidates(user: Any, *, on: dt.date | None = None) -> QuerySet:
    """Lapsed and terminating accounts worth a win-back offer now: `win_back_eligible`
    (reason and value), and only on a day inside one of the branch's win-back windows
    (policy; by default the start of each term and the weeks after exams), otherwise
    none for that branch; the most valuable first.
    Annotated: `lifetime_revenue`, `moment`, `last_reason` (code or None).
    """
    on = on or timezone.localdate()
    branch_ids = _visible_branch_ids(user)
    qs = win_back_eligible(scope_students(user, Student.objects.all()), branch_ids)
    when_moment = []
    cond = Q(pk__in=[])
    for bid, policy in policies_by_branch(branch_ids).items():
        names = [w.get("name", "") for w in policy.win_back_windows or []
                 if _window_contains(w, on)]
        if not names:
            continue
        cond |= Q(branch_id=bid)
        when_moment.append(When(branch_id=bid, then=Value(names[0])))
    qs = qs.filter(cond)
    return (qs.annotate(moment=Case(*when_moment, default=Value(""), output_field=CharField()))
            .select_related("branch", "counselor").order_by("-lifetime_revenue", "pk"))


def won_back(user: Any, *, since: dt.date | None = None,
             until: dt.date | None = None) -> QuerySet:
    """Returning customers: the lifecycle's win-back transitions, scoped, newest first."""
    qs = scope_by_student(user, Transition.objects.filter(win_back=True))
    if since and until:
        start, end = _bounds(since, until)
        qs = qs.filter(at__gte=start, at__lt=end)
    return qs.select_related("student", "student__branch").order_by("-at", "-id")


# --- churn -----------------------------------------------------------------------------

def losses(user: Any, *, since: dt.date, until: dt.date) -> QuerySet:
    """Each move into termination in the window is one loss (a win-back and a second
    loss count twice); annotated with the exit interview's reason code, if any."""
    start, end = _bounds(since, until)
    reason = ExitInterview.objects.filter(transition=OuterRef("pk")).values("reason__code")[:1]
    return (scope_by_student(user, Transition.objects.filter(
        to_period=Period.TERMINATION, at__gte=start, at__lt=end))
        .annotate(reason_code=Subquery(reason)))


# Each churn dimension: (group key, label column or None). Grouped in SQL, one query each.
CHURN_DIMENSIONS: dict[str, tuple[str, str | None]] = {
    "by_reason": ("reason_code", None),
    "by_period": ("from_period", None),
    "by_branch": ("student__branch_id", "student__branch__name"),
    "by_counselor": ("student__counselor_id", "student__counselor__username"),
    "by_grade": ("student__grade", None),
    "by_pattern": ("pattern", None),
}


def _month_key(value: Any) -> str:
    """TruncMonth's value (an aware datetime in the current zone, or a date) as YYYY-MM."""
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.strftime("%Y-%m")


def churn_analysis(user: Any, *, since: dt.date, until: dt.date) -> dict[str, Any]:
    """Losses in the window by reason, period lost in, branch, counselor, grade and
    lifecycle pattern (I-IV), each with a per-month series.

    Shape: {"months": ["2026-01", ...], "total": n, "by_reason": [{"key", "label",
    "total", "months": {"2026-01": n}}], "by_period": [...], "by_branch": [...],
    "by_counselor": [...], "by_grade": [...], "by_pattern": [...]}; rows by total,
    largest first. The pattern is the account's current one (with_pattern): an account
    won back since is open again and falls under "" (not ended).

    Each dimension is one grouped query (GROUP BY key, month): seven queries with the
    reason labels, whatever the number of losses (the K institution loses thousands).
    """
    pattern = Subquery(with_pattern(Student.objects.filter(pk=OuterRef("student_id")))
                       .values("pattern")[:1], output_field=CharField())
    base = losses(user, since=since, until=until).annotate(month=TruncMonth("at")).order_by()
    reasons = {r.code: str(r) for r in ChurnReason.objects.all()}
    fixed_labels: dict[str, dict[Any, str]] = {
        "by_period": {k: str(v) for k, v in Period.choices},
        "by_grade": {k: str(v) for k, v in Grade.choices},
        "by_pattern": {k: str(v) for k, v in Pattern.choices},
    }
    out: dict[str, Any] = {}
    months: set[str] = set()
    total = 0
    for dim, (key, label_field) in CHURN_DIMENSIONS.items():
        fields = [key, "month"] + ([label_field] if label_field else [])
        entries: dict[Any, dict[str, Any]] = {}
        # The pattern subquery is costly: only its own dimension computes it.
        grouped = base.annotate(pattern=pattern) if dim == "by_pattern" else base
        for row in grouped.values(*fields).annotate(n=Count("pk")):
            k = row[key]
            if dim == "by_reason":
                k = k or NO_INTERVIEW
                label = reasons.get(k, str(_("No exit interview")))
            elif dim == "by_counselor":
                label = row[label_field] or str(_("Unassigned"))
            elif dim == "by_pattern":
                k = k or ""
                label = fixed_labels[dim].get(k, str(_("Not ended")))
            elif label_field:
                label = row[label_field]
            else:
                label = fixed_labels[dim].get(k, "")
            month = _month_key(row["month"])
            months.add(month)
            entry = entries.setdefault(k, {"key": k, "label": label, "total": 0,
                                           "months": {}})
            entry["total"] += row["n"]
            entry["months"][month] = entry["months"].get(month, 0) + row["n"]
            if dim == "by_period":
                total += row["n"]  # every loss has exactly one from-period
        out[dim] = sorted(entries.values(), key=lambda e: (-e["total"], str(e["key"])))
    return {"months": sorted(months), "total": total, **out}


# --- funnel ----------------------------------------------------------------------------

def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


# Databases with an exact ordered-set median (percentile_cont); others take the median of
# one query's rows in Python.
SQL_MEDIAN_VENDORS = frozenset({"postgresql"})


class MedianDuration(Aggregate):
    """PostgreSQL's exact median (percentile_cont, the same as statistics.median)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def _days(value: Any) -> int | float | None:
    if value is None:
        return None
    days = value.total_seconds() / 86400 if isinstance(value, dt.timedelta) else float(value)
    return int(days) if float(days).is_integer() else days


def funnel(user: Any, *, since: dt.date, until: dt.date, by: str = "source"
           ) -> list[dict[str, Any]]:
    """Prospect -> trial -> enrolled -> renewed for the families registered in the window,
    grouped by source channel or campaign, with the median days to the first paid
    contract. Trials count only real attendance of a trial contract.

    Shape: [{"key", "label", "prospects", "trials", "enrolled", "renewed",
    "trial_rate", "enrol_rate", "renew_rate", "median_days_to_convert"}], plus a
    final row with key "total".

    Counted in SQL (GROUP BY source or campaign, plus one ungrouped row for the total):
    a fixed number of queries whatever the number of families.
    """
    if by not in {"source", "campaign"}:
        raise ValueError(by)
    start, end = _bounds(since, until)
    first_paid = (paid_contracts().filter(student=OuterRef("pk")).order_by()
                  .values("student").annotate(d=Min("signed_on")).values("d"))
    qs = scope_students(user, Student.objects.filter(created_at__gte=start,
                                                     created_at__lt=end))
    key_field, label_field = (("source_id", "source__code") if by == "source"
                              else ("prospect__campaign_id", "prospect__campaign__name"))
    qs = qs.annotate(
        f_trial=has_trial_attended(), f_enrolled=has_paid_contract(),
        f_renewed=Exists(paid_contracts().filter(student=OuterRef("pk"), is_renewal=True)),
        f_first_paid=Subquery(first_paid, output_field=DateField()),
    ).annotate(f_days=ExpressionWrapper(F("f_first_paid") - TruncDate("created_at"),
                                        output_field=DurationField())).order_by()
    converted = Q(f_enrolled=True, f_first_paid__isnull=False)
    figures = {"prospects": Count("pk"), "trials": Count("pk", filter=Q(f_trial=True)),
               "enrolled": Count("pk", filter=Q(f_enrolled=True)),
               "renewed": Count("pk", filter=Q(f_renewed=True))}
    in_sql = connection.vendor in SQL_MEDIAN_VENDORS
    if in_sql:
        figures["median"] = MedianDuration("f_days", filter=converted)
    rows = list(qs.values(key_field, label_field).annotate(**figures))
    total = qs.aggregate(**figures)
    medians: dict[Any, Any] = {}
    if not in_sql:
        # Other databases have no ordered-set aggregate: one query of the converted
        # families' days, medians taken here.
        days: dict[Any, list[float]] = defaultdict(list)
        for key, value in qs.filter(converted).values_list(key_field, "f_days"):
            days[key].append(_days(value))
            days["__total__"].append(_days(value))
        medians = {k: statistics.median(v) for k, v in days.items()}
    labels: dict[Any, str] = {}
    if by == "source":
        from ..models import Channel

        labels = {c.pk: str(c) for c in Channel.objects.all()}

    def shape(key: Any, label: str, r: dict[str, Any], median: Any) -> dict[str, Any]:
        n, trials, enrolled, renewed = r["prospects"], r["trials"], r["enrolled"], r["renewed"]
        return {"key": key, "label": label, "prospects": n, "trials": trials,
                "enrolled": enrolled, "renewed": renewed, "trial_rate": _rate(trials, n),
                "enrol_rate": _rate(enrolled, n), "renew_rate": _rate(renewed, enrolled),
                "median_days_to_convert": median}

    out = []
    for r in rows:
        key = r[key_field]
        label = labels.get(key, "") if by == "source" else (r[label_field] or "")
        median = _days(r["median"]) if in_sql else medians.get(key)
        out.append(shape(key, label or str(_("Unknown")), r, median))
    out.sort(key=lambda g: -g["prospects"])
    out.append(shape("total", str(_("Total")), total,
                     _days(total["median"]) if in_sql else medians.get("__total__")))
    return out


def acquisition_vs_retention(user: Any, *, since: dt.date, until: dt.date) -> dict[str, Any]:
    """Campaign costs by kind, split into acquisition and retention, per customer won or
    kept in the window (DOMAIN.md §7: a new customer costs 5-8x a kept one).

    new_customers: accounts whose first paid contract was signed in the window;
    kept: renewal contracts signed in the window plus win-backs in it.
    """
    # A manager's figure is their branch's campaigns; institution-wide ones are head
    # office's spending.
    campaigns = scope_by_branch(user, Campaign.objects.filter(starts_on__gte=since,
                                                             starts_on__lte=until))
    by_kind = {k: v or Decimal("0") for k, v in campaigns.values("kind").annotate(
        c=Sum("cost")).values_list("kind", "c")}
    acquisition = sum((v for k, v in by_kind.items() if k not in Campaign.RETENTION_KINDS),
                      Decimal("0"))
    retention = sum((v for k, v in by_kind.items() if k in Campaign.RETENTION_KINDS),
                    Decimal("0"))
    paid = scope_by_student(user, paid_contracts())
    firsts = (paid.order_by().values("student").annotate(d=Min("signed_on"))
              .filter(d__gte=since, d__lte=until))
    new_customers = firsts.count()
    renewals = paid.filter(is_renewal=True, signed_on__gte=since, signed_on__lte=until,
                           ).values("student").distinct().count()
    kept = renewals + won_back(user, since=since, until=until).count()
    per_new = (acquisition / new_customers).quantize(Decimal("0.01")) if new_customers else None
    per_kept = (retention / kept).quantize(Decimal("0.01")) if kept else None
    return {"by_kind": by_kind, "acquisition_cost": acquisition, "retention_cost": retention,
            "new_customers": new_customers, "kept_customers": kept,
            "cost_per_new_customer": per_new, "cost_per_kept_customer": per_kept,
            "ratio": (round(float(per_new / per_kept), 2)
                      if per_new is not None and per_kept else None)}


"""Reads for the lifecycle engine: the figures the rules need, computed set-based in SQL.

`account_facts` annotates every candidate student in one query (subqueries only, no
per-student queries); `facts_of` turns an annotated row into the plain dataclasses the
pure rules (lifecycle.rules) and risk model (lifecycle.risk) take.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    Exists,
    F,
    FloatField,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils import timezone

from students.models import (
    Attendance,
    Complaint,
    Contract,
    Interaction,
    LedgerEntry,
    Payment,
    Refund,
    SatisfactionSurvey,
    Student,
)
from students.selectors import (
    attendance_rate,
    attendance_since,
    contract_balances,
    remaining_hours_expr,
)

from .models import LifecyclePolicy, PolicyValues, RiskProfile, RiskState, Transition
from .periods import ENDED_PERIODS, PHASE_OF, Pattern, Period
from .risk import RiskFigures, RiskPolicy
from .rules import AccountFacts
from .value import CUSTOMER_TYPES

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_DEAD = [Contract.Status.CANCELLED, Contract.Status.REFUNDED]


# --- policy -------------------------------------------------------------------------

def policy_row_for(branch_id: int | None) -> LifecyclePolicy | None:
    """The row that applies to a branch: its own, else the default, else none."""
    rows = {p.branch_id: p for p in LifecyclePolicy.objects.filter(
        Q(branch_id=branch_id) | Q(branch__isnull=True))} if branch_id else {
        p.branch_id: p for p in LifecyclePolicy.objects.filter(branch__isnull=True)}
    return rows.get(branch_id) or rows.get(None)


def policy_for(branch_id: int | None) -> PolicyValues:
    """Effective policy values of a branch (built-in defaults when no row exists yet)."""
    row = policy_row_for(branch_id)
    return row.values() if row is not None else PolicyValues()


def policies_by_branch(branch_ids: Iterable[int]) -> dict[int, PolicyValues]:
    """Effective policy per branch in one query (the scan groups students by these)."""
    rows = {p.branch_id: p for p in LifecyclePolicy.objects.filter(
        Q(branch_id__in=list(branch_ids)) | Q(branch__isnull=True))}
    default = rows.get(None)
    out: dict[int, PolicyValues] = {}
    for bid in branch_ids:
        row = rows.get(bid) or default
        out[bid] = row.values() if row is not None else PolicyValues()
    return out


def risk_profiles(branch_ids: Iterable[int]) -> dict[tuple[int | None, str], RiskPolicy]:
    """RiskProfile rows of these branches and the defaults, keyed (branch or None, period)."""
    rows = RiskProfile.objects.filter(Q(branch_id__in=list(branch_ids)) | Q(branch__isnull=True))
    return {(r.branch_id, r.period): r.policy() for r in rows}


def risk_policy_for(branch_id: int | None, period: str, previous_period: str = "") -> RiskPolicy:
    """The risk policy one account is judged by (at risk: the period it came from)."""
    judged = previous_period if period == Period.AT_RISK else period
    profiles = risk_profiles([branch_id] if branch_id else [])
    return (profiles.get((branch_id, judged)) or profiles.get((None, judged))
            or policy_for(branch_id).risk)


# --- figures ------------------------------------------------------------------------

def _count(qs: QuerySet) -> Coalesce:
    """COUNT of a student-correlated subquery, 0 when there are no rows."""
    sub = qs.order_by().values("student").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(sub, output_field=IntegerField()), Value(0))


def account_facts(qs: QuerySet, *, policy: PolicyValues, now: dt.datetime | None = None
                  ) -> QuerySet:
    """Annotate every fact the lifecycle rules and the risk model read, set-based.

    Episode: after a termination, only contracts recorded after it count towards the
    new relationship (a win-back starts again in socialization).
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    growth_since = attendance_since(policy.growth_after_weeks, today=today)
    risk_since = attendance_since(policy.risk_window_weeks, today=today)
    risk_since_dt = now - dt.timedelta(weeks=policy.risk_window_weeks)

    mine = Contract.objects.filter(student=OuterRef("pk"))
    paid = Exists(Payment.objects.filter(contract=OuterRef("pk")))
    qualifying = Q(is_trial=False) if not policy.trial_counts_as_purchase else Q()
    purchases = mine.filter(paid).filter(qualifying)
    after_termination = Q(created_at__gt=Coalesce(OuterRef("terminated_at"), Value(_EPOCH),
                                                  output_field=DateTimeField()))
    episode = purchases.filter(after_termination).exclude(status__in=_DEAD)
    live = (contract_balances(mine.filter(status=Contract.Status.ACTIVE,
                                          valid_until__gte=today))
            .filter(balance__gt=0))
    first_on = (episode.order_by().values("student").annotate(d=Min("signed_on"))
                .values("d"))

    att = Attendance.objects.filter(student=OuterRef("pk"))
    present = Q(status__in=list(Attendance.PRESENT))
    absent = Q(status=Attendance.Status.ABSENT)
    last_present = (att.filter(present).order_by().values("student")
                    .annotate(d=Max("date")).values("d"))

    consumed = (LedgerEntry.objects.filter(
        contract__student=OuterRef("pk"), occurred_at__gte=risk_since_dt,
        kind__in=[LedgerEntry.Kind.CONSUMED, LedgerEntry.Kind.REVERSAL])
        .order_by().values("contract__student").annotate(h=Sum("hours")).values("h"))
    last_contact = (Interaction.objects.filter(student=OuterRef("pk")).order_by()
                    .values("student").annotate(t=Max("occurred_at")).values("t"))
    complaints = Complaint.objects.filter(student=OuterRef("pk")).exclude(
        status=Complaint.Status.RESOLVED)

    qs = qs.annotate(
        terminated_at=Subquery(
            Transition.objects.filter(student=OuterRef("pk"), to_period=Period.TERMINATION)
            .order_by("-at", "-id").values("at")[:1]),
        last_present_on=Subquery(last_present),
    )
    return qs.annotate(
        f_purchases=_count(purchases),
        f_episode_purchases=_count(episode),
        f_renewals=_count(mine.filter(is_trial=False, is_renewal=True)
                                   .exclude(status__in=_DEAD)),
        f_first_purchase_on=Subquery(first_on),
        f_contracts=_count(mine),
        f_dead_contracts=_count(mine.filter(status__in=_DEAD)),
        f_live_contracts=_count(live),
        f_open_refunds=_count(
            Refund.objects.filter(
                contract__student=OuterRef("pk"),
                status__in=[Refund.Status.REQUESTED, Refund.Status.APPROVED],
                requested_at__gt=Coalesce(OuterRef("terminated_at"), Value(_EPOCH),
                                          output_field=DateTimeField()))
            .annotate(student=F("contract__student"))),
        f_growth_present=_count(att.filter(present, date__gte=growth_since)),
        f_growth_absent=_count(att.filter(absent, date__gte=growth_since)),
        f_risk_present=_count(att.filter(present, date__gte=risk_since)),
        f_risk_absent=_count(att.filter(absent, date__gte=risk_since)),
        f_absence_streak=_count(att.filter(absent).filter(
            date__gt=Coalesce(OuterRef("last_present_on"), Value(dt.date(1900, 1, 1))))),
        f_remaining_hours=remaining_hours_expr(),
        f_consumed=Coalesce(Subquery(consumed), Value(0), output_field=FloatField()),
        f_last_contact=Subquery(last_contact),
        f_open_complaints=_count(complaints),
        f_overdue_complaints=_count(complaints.filter(sla_due__lt=now)),
        f_satisfaction=Subquery(_latest_survey_average()),
    )


def placement_facts(students: list[tuple[int, int, str]], *,
                    policies: dict[int, PolicyValues], now: dt.datetime
                    ) -> dict[int, AccountFacts]:
    """The facts an import placement reads (lifecycle.placement.place), for (id, branch,
    period) triples, with the same definitions as `account_facts`.

    Why a second reader: account_facts' correlated subqueries cost ~4 ms per account, 200 s
    for a 50,000-row import; these are six grouped queries per 2,000 accounts. Only the
    facts placement reads are filled; an imported account has no termination of record,
    so every purchase is in the current episode.
    """
    today = timezone.localdate(now)
    ids = [sid for sid, _b, _p in students]
    contracts = list(Contract.objects.filter(student_id__in=ids).values(
        "id", "student_id", "status", "is_trial", "is_renewal", "signed_on", "valid_until"))
    paid = set(Payment.objects.filter(contract__student_id__in=ids)
               .values_list("contract_id", flat=True))
    balances = dict(LedgerEntry.objects.filter(
        contract__student_id__in=ids, contract__status=Contract.Status.ACTIVE)
        .values("contract_id").annotate(b=Sum("hours")).values_list("contract_id", "b"))
    weeks = max((p.growth_after_weeks for p in policies.values()), default=0)
    present: dict[int, list[dt.date]] = {}
    absent: dict[int, list[dt.date]] = {}
    for sid, day, status in Attendance.objects.filter(
            student_id__in=ids, date__gte=today - dt.timedelta(weeks=weeks)).values_list(
            "student_id", "date", "status"):
        if status in Attendance.PRESENT:
            present.setdefault(sid, []).append(day)
        elif status == Attendance.Status.ABSENT:
            absent.setdefault(sid, []).append(day)
    satisfaction: dict[int, float] = {}
    for row in (SatisfactionSurvey.objects.filter(student_id__in=ids)
                .order_by("student_id", "-surveyed_at", "-id")
                .values("student_id", "overall", "teaching", "service", "environment")):
        if row["student_id"] not in satisfaction:
            given = [v for v in (row["overall"], row["teaching"], row["service"],
                                 row["environment"]) if v is not None]
            satisfaction[row["student_id"]] = sum(given) / len(given)
    mine: dict[int, list[dict[str, Any]]] = {}
    for c in contracts:
        mine.setdefault(c["student_id"], []).append(c)
    out: dict[int, AccountFacts] = {}
    for sid, branch_id, period in students:
        policy = policies[branch_id]
        cs = mine.get(sid, [])
        qualifying = [c for c in cs if c["id"] in paid
                      and (policy.trial_counts_as_purchase or not c["is_trial"])]
        alive = [c for c in qualifying if c["status"] not in _DEAD]
        first_on = min((c["signed_on"] for c in alive), default=None)
        since = today - dt.timedelta(weeks=policy.growth_after_weeks)
        out[sid] = AccountFacts(
            period=period, purchases=len(qualifying), episode_purchases=len(alive),
            renewals=sum(1 for c in cs if not c["is_trial"] and c["is_renewal"]
                         and c["status"] not in _DEAD),
            days_since_first_purchase=(today - first_on).days if first_on else None,
            contracts=len(cs), dead_contracts=sum(1 for c in cs if c["status"] in _DEAD),
            live_contracts=sum(1 for c in cs if c["status"] == Contract.Status.ACTIVE
                               and c["valid_until"] >= today
                               and (balances.get(c["id"]) or 0) > 0),
            growth_attendance_rate=attendance_rate(
                sum(1 for d in present.get(sid, []) if d >= since),
                sum(1 for d in absent.get(sid, []) if d >= since)),
            latest_satisfaction=satisfaction.get(sid))
    return out


def _latest_survey_average() -> QuerySet:
    """The mean of the 1-5 ratings given in the latest survey (blank ratings skipped)."""
    def filled(name: str) -> Case:
        return Case(When(**{f"{name}__isnull": False}, then=Value(1)), default=Value(0),
                    output_field=IntegerField())

    total = (F("overall") + Coalesce("teaching", 0) + Coalesce("service", 0)
             + Coalesce("environment", 0))
    n = Value(1) + filled("teaching") + filled("service") + filled("environment")
    return (SatisfactionSurvey.objects.filter(student=OuterRef("pk"))
            .order_by("-surveyed_at", "-id")
            .annotate(avg=Cast(total, FloatField()) / NullIf(Cast(n, FloatField()), 0.0))
            .values("avg")[:1])


def _days(now: dt.datetime, then: dt.datetime | None) -> int | None:
    return (now - then).days if then is not None else None


def facts_of(row: Any, *, policy: PolicyValues, now: dt.datetime,
             risk_state: RiskState | None = None) -> AccountFacts:
    """Plain facts of one annotated student row (from `account_facts`)."""
    today = timezone.localdate(now)
    first_on: dt.date | None = row.f_first_purchase_on
    weekly = max(-float(row.f_consumed), 0.0) / max(policy.risk_window_weeks, 1)
    figures = RiskFigures(
        consecutive_absences=row.f_absence_streak,
        attendance_rate=attendance_rate(row.f_risk_present, row.f_risk_absent),
        remaining_hours=float(row.f_remaining_hours),
        weekly_consumption=weekly,
        days_since_interaction=_days(now, row.f_last_contact),
        open_complaints=row.f_open_complaints,
        overdue_complaints=row.f_overdue_complaints,
        latest_satisfaction=row.f_satisfaction,
    )
    # After a win-back the comeback contract is the new first purchase, not a renewal.
    renewals = (row.f_renewals if row.terminated_at is None
                else max(row.f_episode_purchases - 1, 0))
    return AccountFacts(
        period=row.period,
        previous_period=row.previous_period,
        period_since=row.period_since,
        purchases=row.f_purchases,
        episode_purchases=row.f_episode_purchases,
        renewals=renewals,
        days_since_first_purchase=(today - first_on).days if first_on else None,
        contracts=row.f_contracts,
        dead_contracts=row.f_dead_contracts,
        live_contracts=row.f_live_contracts,
        open_refunds=row.f_open_refunds,
        terminated_at=row.terminated_at,
        growth_attendance_rate=attendance_rate(row.f_growth_present, row.f_growth_absent),
        latest_satisfaction=row.f_satisfaction,
        risk_clear_since=risk_state.clear_since if risk_state is not None else None,
        figures=figures,
    )


# --- timeline and pattern -----------------------------------------------------------

def timeline(student: Student) -> QuerySet:
    """The account's transitions, newest first, with the person who moved it."""
    return (Transition.objects.filter(student=student)
            .select_related("actor").order_by("-at", "-id"))


def _pattern_case(reached: Any) -> Case:
    """The classification of periods.pattern_of in SQL; `reached(period)` says whether the
    latest relationship visited the period (shared by the per-row and grouped readers)."""
    maturity = (Q(period=Period.MATURITY) | Q(period=Period.AT_RISK,
                                               previous_period=Period.MATURITY)
                | reached(Period.MATURITY))
    growth = maturity | Q(period=Period.GROWTH) | Q(previous_period=Period.GROWTH,
                                                     period=Period.AT_RISK) | reached(
        Period.GROWTH)
    ended = Q(period__in=list(ENDED_PERIODS))
    return Case(
        When(ended & maturity, then=Value(Pattern.EARLY_EXIT.value)),
        When(ended & growth, then=Value(Pattern.MID_WAY.value)),
        When(ended, then=Value(Pattern.EARLY_ABORT.value)),
        When(maturity, then=Value(Pattern.LONG_TERM.value)),
        default=Value(None),
        output_field=CharField(),
    )


def with_pattern(qs: QuerySet) -> QuerySet:
    """Annotate `pattern` (I-IV or None), the SQL twin of periods.pattern_of.

    Only the latest relationship counts: rows after the last win-back. Correlated
    subqueries: right for a page of rows, slow for whole branches (`patterns_by_branch`).
    """
    last_win_back = (Transition.objects.filter(student=OuterRef("pk"), win_back=True)
                     .order_by("-id").values("id")[:1])
    qs = qs.annotate(last_win_back_id=Coalesce(Subquery(last_win_back), Value(0)))

    def reached(period: str) -> Q:
        return Exists(Transition.objects.filter(
            Q(to_period=period) | Q(from_period=period),
            student=OuterRef("pk"), id__gte=OuterRef("last_win_back_id")))

    return qs.annotate(pattern=_pattern_case(reached))


def with_pattern_grouped(qs: QuerySet) -> QuerySet:
    """`with_pattern` as one join and GROUP BY per student, for whole branches.

    A transition of the latest relationship touched a period exactly when the newest
    transition touching it is not older than the last win-back, so three MAX aggregates
    replace five correlated subqueries per account (seconds at 100,000 accounts).
    """
    def touched(period: str) -> Q:
        return Q(transitions__to_period=period) | Q(transitions__from_period=period)

    qs = qs.annotate(
        last_win_back_id=Coalesce(Max("transitions__id", filter=Q(transitions__win_back=True)),
                                  Value(0)),
        last_maturity_id=Max("transitions__id", filter=touched(Period.MATURITY)),
        last_growth_id=Max("transitions__id", filter=touched(Period.GROWTH)))
    columns = {Period.MATURITY: "last_maturity_id", Period.GROWTH: "last_growth_id"}

    def reached(period: str) -> Q:
        return Q(**{f"{columns[period]}__gte": F("last_win_back_id")})

    return qs.annotate(pattern=_pattern_case(reached))


def pattern_of_student(student: Student) -> str | None:
    """One account's pattern (one query); lists use `with_pattern` instead."""
    return with_pattern(Student.objects.filter(pk=student.pk)).values_list(
        "pattern", flat=True).first()


def patterns_by_branch(qs: QuerySet, branch_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Accounts per pattern and branch, {branch_id: {"I": n, ..., "IV": n, "": open}}.

    One grouped query (`with_pattern_grouped`); the dashboard runs it live and the nightly
    job stores it in BranchSnapshot.by_pattern, so both readers share the rule.
    """
    out = {bid: {p.value: 0 for p in Pattern} | {"": 0} for bid in branch_ids}
    per_student = (with_pattern_grouped(qs.filter(branch_id__in=list(out)).order_by())
                   .values("branch_id", "pattern"))
    try:
        sql, params = per_student.query.sql_with_params()
    except EmptyResultSet:  # no branches, or a queryset that is .none()
        return out
    # Count the per-student rows in the database too (Django cannot group by a
    # column computed from aggregates): only a dozen rows come back.
    with connections[per_student.db].cursor() as cursor:
        cursor.execute(f"SELECT branch_id, pattern, COUNT(*) FROM ({sql}) AS per_student "
                       "GROUP BY branch_id, pattern", params)
        for branch_id, pattern, n in cursor.fetchall():
            out[branch_id][pattern or ""] += n
    return out


def type_revenue_by_branch(qs: QuerySet, branch_ids: Iterable[int]
                           ) -> dict[int, dict[str, dict[str, Any]]]:
    """The 12 customer types (segment x phase of the current period) per branch, from an
    AccountScore queryset: {branch_id: {"core.maintenance": {"n": n, "revenue": Decimal}}}.

    Revenue = list_price - discount of the accounts' contracts that were not cancelled.
    Read live by the dashboard and stored nightly in BranchSnapshot.type_revenue.
    """
    return type_figures_by_branch(qs, branch_ids)[1]


def type_figures_by_branch(qs: QuerySet, branch_ids: Iterable[int], *,
                           whole_branches: bool = False
                           ) -> tuple[dict[int, dict[str, int]],
                                      dict[int, dict[str, dict[str, Any]]]]:
    """Accounts per stored customer type, and `type_revenue_by_branch`, from one query.

    Contracts are summed per student first, then joined once per account, so the
    accounts need no COUNT(DISTINCT) and AccountScore's wide rows are read once for both
    figures (the nightly snapshot stores both). Django cannot join an aggregated
    subquery, hence the hand-written outer query around the queryset's own SQL.
    `whole_branches`: `qs` holds every account of the branches, so the contracts are
    summed by branch; otherwise only those of the queryset's students (a caseload).
    """
    by_type: dict[int, dict[str, int]] = {bid: {} for bid in branch_ids}
    revenue: dict[int, dict[str, dict[str, Any]]] = {
        bid: {t: {"n": 0, "revenue": Decimal("0")} for t in CUSTOMER_TYPES}
        for bid in branch_ids}
    accounts = (qs.filter(branch_id__in=list(by_type)).order_by()
                .values("student_id", "branch_id", "segment", "customer_type",
                        "student__period"))
    try:
        sql, params = accounts.query.sql_with_params()
    except EmptyResultSet:  # no branches, or a queryset that is .none()
        return by_type, revenue
    contracts = Contract._meta.db_table
    if whole_branches:
        mine, mine_params = ("branch_id IN (" + ", ".join(["%s"] * len(by_type)) + ")",
                             list(by_type))
    else:
        students_sql, mine_params = accounts.values("student_id").query.sql_with_params()
        mine = f"student_id IN ({students_sql})"
    with connections[accounts.db].cursor() as cursor:
        # The inner SELECT names its columns after the values() above.
        cursor.execute(
            "SELECT a.branch_id, a.segment, a.student__period, a.customer_type, COUNT(*), "
            f"SUM(c.revenue) FROM ({sql}) AS a "
            f"LEFT JOIN (SELECT student_id, SUM(list_price - discount) AS revenue "
            f"           FROM {contracts} WHERE status <> %s AND {mine} "
            "           GROUP BY student_id) c ON c.student_id = a.student_id "
            "GROUP BY a.branch_id, a.segment, a.student__period, a.customer_type",
            [*params, Contract.Status.CANCELLED.value, *mine_params])
        rows = cursor.fetchall()
    cents = Decimal("0.01")
    for branch_id, segment, period, customer_type, n, money in rows:
        by_type[branch_id][customer_type] = by_type[branch_id].get(customer_type, 0) + n
        cell = revenue[branch_id][f"{segment}.{PHASE_OF[period]}"]
        cell["n"] += n
        # SQLite sums decimals as floats: through str, to the cent, like PostgreSQL.
        cell["revenue"] += Decimal(str(money)).quantize(cents) if money else Decimal("0")
    return by_type, revenue


def pattern_counts(qs: QuerySet) -> dict[str, int]:
    """Accounts per pattern for a dashboard: {"I": n, "II": n, "III": n, "IV": n, "": open}."""
    counts = {p.value: 0 for p in Pattern} | {"": 0}
    rows = with_pattern(qs.order_by()).values("pattern").annotate(n=Count("pk", distinct=True))
    for row in rows:
        counts[row["pattern"] or ""] += row["n"]
    return counts


def risk_states(student_ids: Iterable[int]) -> dict[int, RiskState]:
    return {r.student_id: r for r in RiskState.objects.filter(student_id__in=list(student_ids))}

"""Reads for the counselor and manager work pages (issue #6): the at-risk list, the task
queue and the stage dashboard. Every figure is one grouped or annotated query whatever the
number of rows, branches or periods; views only shape the results.

Scoping is crm.permissions (students) and lifecycle.retention.tasks_visible_to (tasks).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from crm.models import Branch
from crm.permissions import (
    branch_of,
    role_of,
    scope_branches,
    scope_by_student,
    scope_students,
)
from crm.roles import Role
from crm.text import name_of_row, name_values
from lifecycle.models import AccountScore, BranchSnapshot, RetentionTask, Transition
from lifecycle.periods import MAINTENANCE_PERIODS, PHASE_OF, Pattern, Period, Phase
from lifecycle.retention import overdue_by_counselor, tasks_visible_to
from lifecycle.selectors import patterns_by_branch, policies_by_branch, type_revenue_by_branch
from lifecycle.value import CUSTOMER_TYPES
from parents.models import Guardianship
from students.models import Complaint, Interaction, Student
from students.selectors import remaining_hours_expr

# An account "approaching" at-risk: its risk score is within this many points of its
# branch's threshold (LifecyclePolicy.risk_threshold, default 50), or it rose by at least
# RISING_POINTS against a week ago. Per-period RiskProfile thresholds are not consulted
# here: the list is a triage view, the flag itself is the nightly job's.
APPROACH_MARGIN = 15
RISING_POINTS = 15

# --- counselor: the at-risk list -------------------------------------------------------

def _approaching_q(branch_ids: list[int]) -> Q:
    """risk >= threshold - margin, with each branch's own threshold (one OR per branch)."""
    policies = policies_by_branch(branch_ids)
    by_cut: dict[int, list[int]] = defaultdict(list)
    for bid, policy in policies.items():
        by_cut[max(0, policy.risk.threshold - APPROACH_MARGIN)].append(bid)
    q = Q(pk__in=[])
    for cut, bids in by_cut.items():
        q |= Q(branch_id__in=bids, score__risk__gte=cut)
    return q


def at_risk_accounts(user: Any, *, period: str = "", segment: str = "", grade: str = "",
                     branch_id: int | None = None) -> QuerySet:
    """Accounts in at_risk plus those approaching it, most urgent (risk x value) first.

    Rows carry risk, risk_week_ago, risk_change, current_value, potential_value,
    segment, risk_factors, urgency, last_contact_at, remaining_hours, decider_name,
    decider_phone: all annotations, so a page of rows is one query.
    """
    qs = scope_students(user, Student.objects.all())
    if branch_id:
        qs = qs.filter(branch_id=branch_id)
    branch_ids = list(scope_branches(user, Branch.objects.all()).values_list("pk", flat=True))
    rising = ExpressionWrapper(F("score__risk") - F("score__risk_week_ago"),
                               output_field=IntegerField())
    qs = qs.annotate(risk_change=rising).filter(
        Q(period=Period.AT_RISK)
        | (Q(period__in=list(MAINTENANCE_PERIODS))
           & (_approaching_q(branch_ids) | Q(risk_change__gte=RISING_POINTS))))
    if period:
        qs = qs.filter(period=period)
    if segment:
        qs = qs.filter(score__segment=segment)
    if grade:
        qs = qs.filter(grade=grade)
    decider = (Guardianship.objects.filter(student=OuterRef("pk"))
               .order_by("-is_decision_maker", "-is_primary_contact", "id"))
    last_contact = (Interaction.objects.filter(student=OuterRef("pk")).order_by()
                    .values("student").annotate(m=Max("occurred_at")).values("m"))
    return qs.select_related("branch", "counselor").annotate(
        risk=F("score__risk"),
        risk_week_ago=F("score__risk_week_ago"),
        current_value=F("score__current_value"),
        potential_value=F("score__potential_value"),
        segment=F("score__segment"),
        risk_factors=F("score__risk_factors"),
        urgency=ExpressionWrapper(
            Coalesce(F("score__risk"), Value(0))
            * (Coalesce(F("score__current_value"), Value(0))
               + Coalesce(F("score__potential_value"), Value(0))),
            output_field=IntegerField()),
        last_contact_at=Subquery(last_contact),
        remaining_hours=remaining_hours_expr(),
        decider_name=Subquery(decider.values("parent__name")[:1]),
        decider_phone=Subquery(decider.values("parent__phone")[:1]),
    ).order_by("-urgency", F("score__risk").desc(nulls_last=True), "name_pinyin", "pk")


# --- counselor: the task queue --------------------------------------------------------

def end_of_today() -> dt.datetime:
    today = timezone.localdate()
    return timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min))


def my_tasks(user: Any, *, counselor_id: int | None = None,
             status: str = RetentionTask.Status.OPEN) -> QuerySet:
    """Tasks a user works: a counselor their own; managers their branch's, head office all
    (optionally one counselor's). Due today or overdue first, then upcoming (snoozed ones
    included, until their day)."""
    qs = tasks_visible_to(user).filter(status=status)
    if role_of(user) == Role.COUNSELOR:
        qs = qs.filter(assignee=user)
    elif counselor_id:
        qs = qs.filter(assignee_id=counselor_id)
    # A task snoozed to a later day is not today's work even if its due time says so.
    today_work = Q(due_at__lt=end_of_today()) & ~Q(snoozed_until__gt=timezone.localdate())
    return (qs.select_related("student", "playbook", "target_parent", "assignee")
            .annotate(bucket=Case(When(today_work, then=Value(0)),
                                  default=Value(1), output_field=IntegerField()))
            .order_by("bucket", "due_at", "-priority", "pk"))


# --- manager: the stage dashboard ------------------------------------------------------

def dashboard_branches(user: Any, branch_id: int | None = None) -> list[Branch]:
    qs = scope_branches(user, Branch.objects.filter(is_active=True)).order_by("code")
    if branch_id:
        qs = qs.filter(pk=branch_id)
    return list(qs)


def _whole_branches(user: Any, branch_ids: list[int]) -> list[int]:
    """The branches among these whose every account the user sees (head office: all; a
    manager: their own)."""
    role = role_of(user)
    if role == Role.HEAD_OFFICE:
        return list(branch_ids)
    if role == Role.MANAGER:
        own = getattr(branch_of(user), "pk", None)
        return [b for b in branch_ids if b == own]
    return []


def _in_branches(user: Any, qs: QuerySet, branch_ids: list[int]) -> QuerySet:
    """Rows hanging off a student of these branches that the user may see.

    When the user sees the whole of each branch, the branch filter is the scope, so the
    semi-join over every visible student (crm.permissions.scope_by_student) is skipped:
    at 100,000 students it is most of the cost of a grouped count.
    """
    qs = qs.filter(student__branch_id__in=branch_ids)
    if set(_whole_branches(user, branch_ids)) == set(branch_ids):
        return qs
    return scope_by_student(user, qs)


def branch_snapshots(user: Any, branch_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Today's (else yesterday's) BranchSnapshot of each branch whose whole population the
    user sees (head office; a manager for their own branch), in one query.

    A snapshot counts every account of the branch, so a narrower scope (a counselor's
    caseload) never reads it and gets live figures instead. Rows carry day, created_at,
    by_period, by_pattern and type_revenue.
    """
    whole = _whole_branches(user, branch_ids)
    if not whole:
        return {}
    today = timezone.localdate()
    out: dict[int, dict[str, Any]] = {}
    for snap in (BranchSnapshot.objects.filter(branch_id__in=whole,
                                               day__gte=today - dt.timedelta(days=1))
                 .order_by("branch_id", "-day")
                 .values("branch_id", "day", "created_at", "by_period", "by_pattern",
                         "type_revenue")):
        out.setdefault(snap["branch_id"], snap)
    return out


def _stored(snaps: dict[int, dict[str, Any]], field: str) -> dict[int, dict]:
    """The branches whose snapshot holds this figure (an empty dict: not computed)."""
    return {bid: snap[field] for bid, snap in snaps.items()
            if isinstance(snap.get(field), dict) and snap[field]}


def _source(branch_ids: list[int], stored: dict[int, Any],
            snaps: dict[int, dict[str, Any]]) -> dict[int, dt.datetime | None]:
    """Per branch: the snapshot's refresh time when the figure came from it, else None."""
    return {bid: snaps[bid]["created_at"] if bid in stored else None for bid in branch_ids}


def period_counts(user: Any, branch_ids: list[int],
                  snaps: dict[int, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Accounts per branch and period: the snapshot's, and a grouped count of students for
    the branches without one (or seen only in part). At most one query besides `snaps`.

    Returns {"counts": {branch_id: {period: n}}, "source": {branch_id: "snapshot"|"live"},
    "as_of": {branch_id: snapshot time or None}}.
    """
    snaps = branch_snapshots(user, branch_ids) if snaps is None else snaps
    stored = _stored(snaps, "by_period")
    counts: dict[int, dict[str, int]] = {
        bid: {k: int(v) for k, v in stored[bid].items()} for bid in stored}
    missing = [b for b in branch_ids if b not in counts]
    if missing:
        rows = (scope_students(user, Student.objects.filter(branch_id__in=missing)).order_by()
                .values_list("branch_id", "period").annotate(n=Count("pk", distinct=True)))
        for bid in missing:
            counts[bid] = {}
        for bid, period, n in rows:
            counts[bid][period] = n
    as_of = _source(branch_ids, stored, snaps)
    return {"counts": counts, "as_of": as_of,
            "source": {b: "live" if as_of[b] is None else "snapshot" for b in branch_ids}}


def flows(user: Any, branch_ids: list[int], *, since: dt.datetime) -> dict[int, dict]:
    """Transitions since `since`, {branch_id: {(from, to): n}}, by the student's branch."""
    qs = _in_branches(user, Transition.objects.filter(at__gte=since), branch_ids)
    out: dict[int, dict[tuple[str, str], int]] = {b: {} for b in branch_ids}
    for row in (qs.order_by().values("student__branch_id", "from_period", "to_period")
                .annotate(n=Count("pk"))):
        out[row["student__branch_id"]][(row["from_period"], row["to_period"])] = row["n"]
    return out


def churn_by_period(flow: dict[int, dict]) -> dict[int, dict[str, int]]:
    """Transitions into termination by the period they left (from the flows, no query)."""
    return {bid: {f: n for (f, t), n in pairs.items() if t == Period.TERMINATION}
            for bid, pairs in flow.items()}


def type_matrix(user: Any, branch_ids: list[int],
                snaps: dict[int, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The 12 customer types (segment x phase) per branch: accounts and revenue, from the
    snapshot (type_revenue) or live (lifecycle.selectors.type_revenue_by_branch, one
    grouped query over the branches without it).

    Returns {"cells": {branch_id: {"core.maintenance": {"n": n, "revenue": Decimal}}},
    "as_of": {branch_id: snapshot time or None}}.
    """
    snaps = branch_snapshots(user, branch_ids) if snaps is None else snaps
    stored = _stored(snaps, "type_revenue")
    cells: dict[int, dict[str, dict]] = {}
    for bid, data in stored.items():
        cells[bid] = {t: {"n": int((data.get(t) or {}).get("n", 0)),
                          "revenue": Decimal(str((data.get(t) or {}).get("revenue", "0")))}
                      for t in CUSTOMER_TYPES}
    missing = [b for b in branch_ids if b not in cells]
    if missing:
        cells |= type_revenue_by_branch(scope_by_student(user, AccountScore.objects.all()),
                                        missing)
    return {"cells": cells, "as_of": _source(branch_ids, stored, snaps)}


def patterns(user: Any, branch_ids: list[int],
             snaps: dict[int, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Lifecycle patterns I-IV (and "" for open relationships) per branch, from the
    snapshot (by_pattern) or live (lifecycle.selectors.patterns_by_branch, one query).

    Returns {"counts": {branch_id: {"I": n, ..., "": n}}, "as_of": {branch_id: ...}}.
    """
    snaps = branch_snapshots(user, branch_ids) if snaps is None else snaps
    stored = _stored(snaps, "by_pattern")
    counts: dict[int, dict[str, int]] = {
        bid: {p.value: 0 for p in Pattern} | {"": 0}
        | {k: int(v) for k, v in data.items()} for bid, data in stored.items()}
    missing = [b for b in branch_ids if b not in counts]
    if missing:
        counts |= patterns_by_branch(scope_students(user, Student.objects.all()), missing)
    return {"counts": counts, "as_of": _source(branch_ids, stored, snaps)}


def task_workload(user: Any, branch_ids: list[int], *, since: dt.datetime) -> list[dict]:
    """Per assignee: open and overdue (lifecycle.retention.overdue_by_counselor), plus the
    tasks done and skipped since `since`. Two queries."""
    rows: dict[Any, dict[str, Any]] = {}
    for r in overdue_by_counselor(user=user):
        rows[r["assignee_id"]] = {"assignee_id": r["assignee_id"],
                                  "username": r["assignee_name"], "open": r["open"],
                                  "overdue": r["overdue"], "done": 0, "skipped": 0}
    closed = (tasks_visible_to(user).filter(closed_at__gte=since, branch_id__in=branch_ids)
              .order_by().values("assignee_id", *name_values("assignee"))
              .annotate(done=Count("pk", filter=Q(status=RetentionTask.Status.DONE)),
                        skipped=Count("pk", filter=Q(status=RetentionTask.Status.SKIPPED))))
    for r in closed:
        row = rows.setdefault(r["assignee_id"], {
            "assignee_id": r["assignee_id"], "username": name_of_row(r, "assignee"), "open": 0,
            "overdue": 0, "done": 0, "skipped": 0})
        row["done"], row["skipped"] = r["done"], r["skipped"]
    out = sorted(rows.values(), key=lambda r: (-r["overdue"], r["username"] or ""))
    for r in out:
        closed_n = r["done"] + r["skipped"]
        r["completion"] = r["done"] / closed_n if closed_n else None
    return out


def complaint_sla(user: Any, branch_ids: list[int], *, since: dt.datetime) -> dict[int, dict]:
    """Per branch: open complaints, open past their SLA, resolved since `since` and how
    many of those late (one grouped query over the open and recently resolved rows only,
    so old resolved complaints, the bulk of the table, are never read)."""
    now = timezone.now()
    unresolved = ~Q(status=Complaint.Status.RESOLVED)
    resolved = Q(status=Complaint.Status.RESOLVED, resolved_at__gte=since)
    qs = _in_branches(user, Complaint.objects.filter(unresolved | resolved), branch_ids)
    out = {b: {"open": 0, "overdue": 0, "resolved": 0, "resolved_late": 0} for b in branch_ids}
    for r in (qs.order_by().values("student__branch_id").annotate(
            open=Count("pk", filter=unresolved),
            overdue=Count("pk", filter=unresolved & Q(sla_due__lt=now)),
            resolved=Count("pk", filter=resolved),
            resolved_late=Count("pk", filter=resolved & Q(resolved_at__gt=F("sla_due"))))):
        out[r.pop("student__branch_id")] = r
    return out


def month_starts(today: dt.date, months: int) -> list[dt.date]:
    first = today.replace(day=1)
    out = []
    for _ in range(months):
        out.append(first)
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return list(reversed(out))


def retention_rates(user: Any, branch_ids: list[int], counts: dict[int, dict[str, int]],
                    *, months: list[dt.date]) -> dict[int, list[dict]]:
    """Retention rate per branch and month = 1 - terminations / maintenance accounts.

    terminations: transitions into termination in the month (by the student's branch);
    maintenance accounts: accounts in a maintenance-phase period now (the period counts
    shown above), used as the denominator of every month; an approximation that is exact
    for the current month and drifts for older months by the accounts that have since
    come and gone. One grouped query.
    """
    qs = _in_branches(user, Transition.objects.filter(
        to_period=Period.TERMINATION, at__gte=timezone.make_aware(
            dt.datetime.combine(months[0], dt.time.min))), branch_ids)
    terms: dict[tuple[int, dt.date], int] = {}
    for r in (qs.order_by().annotate(month=TruncMonth("at")).values("student__branch_id", "month")
              .annotate(n=Count("pk"))):
        month = r["month"].date() if isinstance(r["month"], dt.datetime) else r["month"]
        terms[(r["student__branch_id"], month)] = r["n"]
    out: dict[int, list[dict]] = {}
    for bid in branch_ids:
        base = sum(n for p, n in counts.get(bid, {}).items() if PHASE_OF.get(p)
                   == Phase.MAINTENANCE)
        rows = []
        for m in months:
            t = terms.get((bid, m), 0)
            rows.append({"month": m, "terminations": t, "base": base,
                         "rate": (1 - t / (base + t)) if base + t else None})
        out[bid] = rows
    return out

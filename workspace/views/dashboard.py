"""The stage dashboard for managers and head office: periods, flows, churn, the 12 types,
renewal and retention rates, patterns, workload and complaint SLA, branch by branch."""
from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from crm import permissions
from lifecycle.periods import MAINTENANCE_PERIODS, Period
from lifecycle.value import PHASES, Segment
from students.selectors import renewal_rates
from students.views import staff_required
from workspace import selectors as dashboard
from workspace.type_grid import type_grid

from .access import managers_only

WINDOWS = (7, 30, 90, 365)
RATE_MONTHS = 6


def _window(request: HttpRequest) -> int:
    try:
        days = int(request.GET.get("days") or 30)
    except ValueError:
        days = 30
    return min(max(days, 1), 365)


def _branch(request: HttpRequest) -> int | None:
    """Head office may narrow the dashboard to one branch (others see theirs anyway)."""
    try:
        return int(request.GET.get("branch") or 0) or None
    except ValueError:
        return None


def _period_list() -> list[tuple[str, str]]:
    return [(p, str(label)) for p, label in Period.choices]


@staff_required
@require_GET
def stage_dashboard(request: HttpRequest) -> HttpResponse:
    """Per branch, side by side: periods, flows, churn, the 12 types, renewal and retention
    rates, patterns, task workload and complaint SLA. A fixed number of queries."""
    user = request.user
    managers_only(user)
    days = _window(request)
    now = timezone.now()
    since = now - dt.timedelta(days=days)
    branch_id = _branch(request) if permissions.sees_all_branches(user) else None
    all_branches = dashboard.dashboard_branches(user)
    branches = [b for b in all_branches if b.pk == branch_id] or all_branches
    branch_id = branch_id if len(branches) == 1 and len(all_branches) > 1 else None
    ids = [b.pk for b in branches]
    periods = _period_list()

    # Periods, the type matrix and patterns come from the nightly snapshot when the
    # user sees whole branches (one query for all three); live otherwise.
    snaps = dashboard.branch_snapshots(user, ids)
    pc = dashboard.period_counts(user, ids, snaps)
    counts = pc["counts"]
    period_table = [{"code": code, "label": label,
                     "cells": [counts[b.pk].get(code, 0) for b in branches],
                     "total": sum(counts[b.pk].get(code, 0) for b in branches)}
                    for code, label in periods]
    branch_totals = [sum(counts[b.pk].values()) for b in branches]

    flow = dashboard.flows(user, ids, since=since)
    pairs = sorted({pair for b in ids for pair in flow[b]},
                   key=lambda p: ([c for c, _l in periods].index(p[0]),
                                  [c for c, _l in periods].index(p[1])))
    labels = dict(periods)
    flow_table = [{"from": f, "to": t, "from_label": labels[f], "to_label": labels[t],
                   "cells": [flow[b].get((f, t), 0) for b in ids],
                   "total": sum(flow[b].get((f, t), 0) for b in ids)} for f, t in pairs]
    churn = dashboard.churn_by_period(flow)
    churn_table = [{"code": code, "label": label, "cells": [churn[b].get(code, 0) for b in ids],
                    "total": sum(churn[b].get(code, 0) for b in ids)}
                   for code, label in periods
                   if code in MAINTENANCE_PERIODS]

    types = dashboard.type_matrix(user, ids, snaps)
    matrix = types["cells"]
    grid = type_grid(matrix, ids, branch_id=branch_id)
    grid["as_of"] = max((t for t in types["as_of"].values() if t), default=None)
    phase_labels = {"expected": _("Expected"), "maintenance": _("Maintenance"),
                    "recovery": _("Recovery")}
    type_table = [{"segment": s, "segment_label": str(Segment(s).label), "phase": p,
                   "phase_label": phase_labels[p],
                   "cells": [matrix[b][f"{s}.{p}"] for b in ids],
                   "total_n": sum(matrix[b][f"{s}.{p}"]["n"] for b in ids),
                   "total_revenue": sum(matrix[b][f"{s}.{p}"]["revenue"] for b in ids)}
                  for s in Segment.values for p in PHASES]

    today = timezone.localdate()
    months = dashboard.month_starts(today, RATE_MONTHS)
    renewals = renewal_rates(user, start=months[0], end=today, by="branch")
    renewal_by = {(r["key"], r["month"]): r for r in renewals}
    retention = dashboard.retention_rates(user, ids, counts, months=months)
    rate_table = []
    for i, m in enumerate(months):
        rate_table.append({"month": m, "cells": [{
            "renewal": renewal_by.get((b, m)), "retention": retention[b][i]} for b in ids]})

    pattern_data = dashboard.patterns(user, ids, snaps)
    pattern = pattern_data["counts"]
    pattern_rows = [{"code": code, "label": label,
                     "cells": [pattern[b][code] for b in ids]}
                    for code, label in (("I", _("I early abort")), ("II", _("II mid-way")),
                                        ("III", _("III early exit")),
                                        ("IV", _("IV long-term")),
                                        ("", _("Open (not ended, not mature)")))]
    workload = dashboard.task_workload(user, ids, since=since)
    complaints = dashboard.complaint_sla(user, ids, since=since)
    complaint_rows = [{"branch": b, **complaints[b.pk]} for b in branches]

    chart = {
        "branches": [b.name for b in branches],
        "periods": [{"code": code, "label": label,
                     "data": [counts[b.pk].get(code, 0) for b in branches]}
                    for code, label in periods],
        "churn": [{"code": r["code"], "label": r["label"], "data": r["cells"]}
                  for r in churn_table],
        "months": [m.strftime("%Y-%m") for m in months],
        "retention": [{"branch": b.name,
                       "data": [None if r["rate"] is None else round(r["rate"] * 100, 1)
                                for r in retention[b.pk]]} for b in branches],
        "renewal": [{"branch": b.name,
                     "data": [None if renewal_by.get((b.pk, m)) is None
                              or renewal_by[(b.pk, m)]["rate"] is None
                              else round(renewal_by[(b.pk, m)]["rate"] * 100, 1)
                              for m in months]} for b in branches],
    }
    return render(request, "workspace/work/dashboard.html", {
        "branches": branches, "days": days, "windows": WINDOWS,
        "sources": [pc["source"].get(b.pk) for b in branches],
        "period_as_of": [pc["as_of"].get(b.pk) for b in branches],
        "type_as_of": [types["as_of"].get(b.pk) for b in branches],
        "pattern_as_of": [pattern_data["as_of"].get(b.pk) for b in branches],
        "snapshot_at": max((t for t in [*pc["as_of"].values(), *types["as_of"].values(),
                                        *pattern_data["as_of"].values()] if t), default=None),
        "period_table": period_table, "branch_totals": branch_totals,
        "grand_total": sum(branch_totals),
        "flow_table": flow_table, "churn_table": churn_table, "type_table": type_table,
        "rate_table": rate_table, "pattern_rows": pattern_rows, "workload": workload,
        "complaint_rows": complaint_rows, "chart": chart,
        "show_branch_links": permissions.sees_all_branches(user),
        "grid": grid, "all_branches": all_branches, "branch_id": branch_id,
        "show_money": permissions.can_see_money(user),
    })

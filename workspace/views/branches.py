"""Head office compares its branches: rates and ranks side by side, with a chart."""
from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from crm import permissions
from lifecycle.periods import Period
from students.views import staff_required
from workspace import selectors
from workspace.branch_compare import CHURN_PERIODS, compare_branches

from .dashboard import WINDOWS, _window


def _pct(cell: dict[str, Any]) -> float | None:
    return None if cell["rate"] is None else round(cell["rate"] * 100, 1)


def metric_labels() -> dict[str, str]:
    return {"retention": _("Retention rate"), "churn": _("Churn rate"),
            "renewal": _("Renewal rate"), "at_risk_share": _("At-risk share"),
            "completion": _("Task completion")}


@staff_required
@require_GET
def branch_comparison(request: HttpRequest) -> HttpResponse:
    """Head office only: a manager sees one branch, there is nothing to compare."""
    user = request.user
    if not permissions.sees_all_branches(user):
        raise PermissionDenied(_("Comparing branches is for head office."))
    days = _window(request)
    data = compare_branches(user, selectors.dashboard_branches(user), days=days)
    rows = data["rows"]
    labels = metric_labels()
    metrics = [{"code": m, "label": labels[m],
                "lower_is_better": m in {"churn", "at_risk_share"}}
               for m in ("retention", "churn", "renewal", "at_risk_share", "completion")]
    periods = [{"code": p, "label": str(Period(p).label)} for p in CHURN_PERIODS]
    chart = {"branches": [r["branch"].name for r in rows],
             "metrics": [{"code": m["code"], "label": m["label"],
                          "data": [_pct(r[m["code"]]) for r in rows]} for m in metrics],
             "churn": [{"code": p["code"], "label": p["label"],
                        "data": [_pct(r["churn_by_period"][p["code"]]) for r in rows]}
                       for p in periods]}
    table = [{"branch": r["branch"], "accounts": r["accounts"],
              "cells": [{"code": m["code"], "pct": _pct(r[m["code"]]), **r[m["code"]]}
                        for m in metrics],
              "churn": [{"code": p["code"], "pct": _pct(r["churn_by_period"][p["code"]]),
                         **r["churn_by_period"][p["code"]]} for p in periods]}
             for r in rows]
    return render(request, "workspace/work/branches.html", {
        "days": days, "windows": WINDOWS, "metrics": metrics, "periods": periods,
        "table": table, "chart": chart, "rows": rows})

"""Head office compares branches as rates and ranks them (DOMAIN.md §7-§8): retention,
churn by period, renewal, at-risk share and task completion over one window.

Every rate is a count over a count that the page shows beside it, read live from the
rows (not the nightly snapshot), so a figure can always be checked against its list:

* retention = 1 - terminations in the window / (maintenance-phase accounts now + those
  terminations): the stage dashboard's monthly rule (workspace.selectors.retention_rates)
  over the window;
* churn from a period = moves into termination from it in the window / (accounts in it
  now + those moves); their numerators add up to retention's terminations;
* renewal = renewals / (renewals + contracts run out) in the window
  (students.selectors.renewal_rates, summed over its months);
* at-risk share = accounts at risk now / maintenance-phase accounts now;
* task completion = retention tasks done in the window / (done + skipped in the window
  + open tasks past due now): a task left overdue counts against the branch, not only
  one skipped.

Ranks: 1 is best (highest, or lowest for churn and at-risk share); equal rates share a
rank (1, 1, 3); a branch without a denominator has no rate and no rank.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from crm.models import Branch
from lifecycle.models import RetentionTask
from lifecycle.periods import MAINTENANCE_PERIODS, Period
from lifecycle.retention import tasks_visible_to
from students.selectors import renewal_rates

from . import selectors

CHURN_PERIODS = [Period.SOCIALIZATION, Period.GROWTH, Period.MATURITY, Period.AT_RISK]
# metric -> True when higher is better
METRICS: dict[str, bool] = {"retention": True, "renewal": True, "completion": True,
                            "churn": False, "at_risk_share": False}


def _rate(num: int, den: int) -> dict[str, Any]:
    return {"num": num, "den": den, "rate": (num / den) if den else None, "rank": None}


def rank(cells: list[dict[str, Any]], *, higher_is_better: bool) -> None:
    """Competition ranking in place: 1 for the best rate, ties share a rank."""
    rated = [c for c in cells if c["rate"] is not None]
    for c in rated:
        better = sum(1 for o in rated
                     if (o["rate"] > c["rate"] if higher_is_better else o["rate"] < c["rate"]))
        c["rank"] = better + 1


def _task_counts(user: Any, branch_ids: list[int], since: dt.datetime
                 ) -> dict[int, dict[str, int]]:
    """Done and skipped since `since`, open past due now, per branch (one query)."""
    now = timezone.now()
    closed = Q(closed_at__gte=since)
    out = {b: {"done": 0, "skipped": 0, "overdue": 0} for b in branch_ids}
    rows = (tasks_visible_to(user).filter(branch_id__in=branch_ids)
            .filter(closed | Q(status=RetentionTask.Status.OPEN, due_at__lt=now))
            .order_by().values("branch_id")
            .annotate(done=Count("pk", filter=closed & Q(status=RetentionTask.Status.DONE)),
                      skipped=Count("pk", filter=closed
                                    & Q(status=RetentionTask.Status.SKIPPED)),
                      overdue=Count("pk", filter=Q(status=RetentionTask.Status.OPEN,
                                                   due_at__lt=now))))
    for r in rows:
        out[r.pop("branch_id")] = r
    return out


def _renewals(user: Any, branch_ids: list[int], start: dt.date, end: dt.date
              ) -> dict[int, dict[str, int]]:
    out = {b: {"renewals": 0, "completions": 0} for b in branch_ids}
    for r in renewal_rates(user, start=start, end=end, by="branch"):
        if r["key"] in out:
            out[r["key"]]["renewals"] += r["renewals"]
            out[r["key"]]["completions"] += r["completions"]
    return out


def compare_branches(user: Any, branches: list[Branch], *, days: int) -> dict[str, Any]:
    """One row per branch with every rate, its counts and its rank; a fixed number of
    queries whatever the number of branches."""
    ids = [b.pk for b in branches]
    since = timezone.now() - dt.timedelta(days=days)
    today = timezone.localdate()
    counts = selectors.period_counts(user, ids, {})["counts"]  # live: agrees with the rows
    churn = selectors.churn_by_period(selectors.flows(user, ids, since=since))
    renewals = _renewals(user, ids, (since.astimezone(timezone.get_current_timezone())
                                     .date()), today)
    tasks = _task_counts(user, ids, since)
    rows = []
    for b in branches:
        now = counts.get(b.pk, {})
        maintenance = sum(n for p, n in now.items() if p in MAINTENANCE_PERIODS)
        left = churn.get(b.pk, {})
        terminations = sum(left.values())
        t = tasks[b.pk]
        r = renewals[b.pk]
        rows.append({
            "branch": b,
            "accounts": sum(now.values()),
            "retention": _rate(maintenance, maintenance + terminations),
            "churn": _rate(terminations, maintenance + terminations),
            "churn_by_period": {p: _rate(left.get(p, 0), now.get(p, 0) + left.get(p, 0))
                                for p in CHURN_PERIODS},
            "renewal": _rate(r["renewals"], r["renewals"] + r["completions"]),
            "at_risk_share": _rate(now.get(Period.AT_RISK, 0), maintenance),
            "completion": _rate(t["done"], t["done"] + t["skipped"] + t["overdue"]),
        })
    for metric, higher in METRICS.items():
        rank([r[metric] for r in rows], higher_is_better=higher)
    for p in CHURN_PERIODS:
        rank([r["churn_by_period"][p] for r in rows], higher_is_better=False)
    return {"rows": rows, "since": since, "days": days}

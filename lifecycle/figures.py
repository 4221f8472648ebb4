"""The nightly job's reads: every figure of a chunk of accounts from grouped aggregates.

Why not `selectors.account_facts` (correlated subqueries, one statement): at 100,000
accounts a correlated subquery per figure and account is ~40 index probes per account.
Here each source table is read once per chunk, filtered by the chunk's student-id range
and grouped by student (or contract), about a dozen statements per chunk whatever its
size; the rows are joined in Python into the same plain dataclasses the pure rules
(`rules.AccountFacts`), risk model (`risk.RiskFigures`) and value model
(`value.ValueFigures`) take. tests/lifecycle/test_figures.py checks both readers agree.

Limits, documented: the absence streak looks back `STREAK_LOOKBACK_DAYS`; the exam
trend uses the latest `EXAM_COUNT` exams of the last year.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, ExpressionWrapper, FloatField, Max, Q, Sum
from django.db.models.functions import Cast
from django.utils import timezone

from crm.db import fetch_dicts
from marketing.selectors.prospects import referral_figures
from students.models import (
    Attendance,
    Complaint,
    Contract,
    ExamScore,
    Interaction,
    LedgerEntry,
    Payment,
    Refund,
    SatisfactionSurvey,
    Student,
)

from .models import PolicyValues, RiskState, Transition
from .periods import Period
from .risk import RiskFigures, exam_slope
from .rules import AccountFacts
from .value import ValueFigures

STREAK_LOOKBACK_DAYS = 180
EXAM_COUNT = 5
_DEAD = {Contract.Status.CANCELLED, Contract.Status.REFUNDED}
_PRESENT = [str(s) for s in Attendance.PRESENT]
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass
class Account:
    """One account of a chunk: identity, the plain facts and where they came from."""

    id: int
    branch_id: int
    counselor_id: int | None
    period: str
    previous_period: str
    period_since: dt.datetime | None
    decision_style: str
    facts: AccountFacts
    value: ValueFigures
    last_present_on: dt.date | None = None
    figures: dict[str, Any] = field(default_factory=dict)
    # The nightly job's memo of the risk score (None also for non-maintenance accounts).
    risk: Any = None
    risk_known: bool = False


def _f(x: Decimal | float | int | None) -> float:
    return float(x) if x is not None else 0.0


_CONSUMED_KINDS = [LedgerEntry.Kind.CONSUMED, LedgerEntry.Kind.REVERSAL]


def _contracts_with_sums(lo: int, hi: int, *, year_ago: dt.datetime,
                         since_dts: list[dt.datetime]) -> list[dict]:
    """The contracts of students lo..hi with what was paid and the hours left and used.

    Each row: the contract's own columns (money and hours as floats: the scores are
    float arithmetic, and a few million Decimals a night cost more to build than the
    aggregate), `total` and `recent` (paid, paid in the last year), `balance` (hours
    left) and `c0`, `c1`... (hours consumed since each of `since_dts`, negative).
    PostgreSQL sums each contract's payments and ledger in one LATERAL index scan (half
    the time of grouping both tables by contract, and one result set instead of three).
    """
    rng = {"student_id__gte": lo, "student_id__lte": hi}
    crng = {"contract__student_id__gte": lo, "contract__student_id__lte": hi}
    contracts = Contract.objects.filter(**rng).values(
        "id", "student_id", "status", "is_trial", "is_renewal", "signed_on", "valid_until",
        "created_at", "course__subject", price=_float("list_price"), off=_float("discount"),
        hours=_float("hours_purchased"), gifted=_float("hours_gifted"),
        unit_price=_float("course__unit_price"))
    if connection.vendor == "postgresql":
        sql, params = contracts.query.sql_with_params()
        consumed = ", ".join(
            f"(SUM(l.hours) FILTER (WHERE l.kind IN (%s, %s) AND l.occurred_at >= %s))::float8"
            f" AS c{i}" for i in range(len(since_dts)))
        consumed_params = [v for since in since_dts for v in (*_CONSUMED_KINDS, since)]
        ledger, payments = LedgerEntry._meta.db_table, Payment._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT c.*, p.total, p.recent, l.* FROM ({sql}) c "
                f"CROSS JOIN LATERAL (SELECT SUM(amount)::float8 AS total, (SUM(amount) "
                f"  FILTER (WHERE paid_at >= %s))::float8 AS recent FROM {payments} "
                f"  WHERE contract_id = c.id) p "
                f"CROSS JOIN LATERAL (SELECT SUM(l.hours)::float8 AS balance"
                f"{', ' if consumed else ''}{consumed} FROM {ledger} l "
                f"  WHERE l.contract_id = c.id) l", [*params, year_ago, *consumed_params])
            names = [col.name for col in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    paid = {r["contract_id"]: r for r in Payment.objects.filter(**crng).values(
        "contract_id").annotate(total=_float(Sum("amount")),
                                recent=_float(Sum("amount", filter=Q(paid_at__gte=year_ago))))}
    ledger_aggs: dict[str, Any] = {"balance": _float(Sum("hours"))}
    for i, since in enumerate(since_dts):
        ledger_aggs[f"c{i}"] = _float(Sum("hours", filter=Q(kind__in=_CONSUMED_KINDS,
                                                            occurred_at__gte=since)))
    ledger = {r["contract_id"]: r for r in LedgerEntry.objects.filter(**crng).values(
        "contract_id").annotate(**ledger_aggs)}
    empty = {"total": None, "recent": None} | dict.fromkeys(ledger_aggs)
    return [{**c, **empty, **paid.get(c["id"], {}), **ledger.get(c["id"], {})}
            for c in contracts]


def _float(expression: Any) -> Cast:
    """A numeric column or aggregate as float8, so the driver builds floats, not Decimals."""
    return Cast(expression, FloatField())


def _survey_avg(row: dict) -> float:
    values = [row["overall"]] + [row[k] for k in ("teaching", "service", "environment")
                                 if row[k] is not None]
    return sum(values) / len(values)


def load_accounts(ids: Iterable[int], *, policies: dict[int, PolicyValues],
                  now: dt.datetime, branch_avg: dict[int, float] | None = None,
                  clear_since: dict[int, dt.datetime | None] | None = None
                  ) -> dict[int, Account]:
    """Facts of the given students (one chunk: a compact id range), ~12 grouped queries.

    `clear_since`: since when each account's risk is clear, when the caller already
    holds the risk states (the nightly chunk does); read here otherwise.
    """
    ids = sorted(set(ids))
    if not ids:
        return {}
    lo, hi = ids[0], ids[-1]
    wanted = set(ids)
    today = timezone.localdate(now)
    rng = {"student_id__gte": lo, "student_id__lte": hi}
    crng = {"contract__student_id__gte": lo, "contract__student_id__lte": hi}
    students = fetch_dicts(Student.objects.filter(pk__gte=lo, pk__lte=hi).values(
        "pk", "branch_id", "counselor_id", "period", "previous_period", "period_since",
        "decision_style"))
    # The windows are policy per branch: one conditional aggregate per distinct date.
    fallback = PolicyValues()
    branch_policy = {b: policies.get(b, fallback) for b in {s["branch_id"] for s in students}}
    growth_since = {b: today - dt.timedelta(weeks=p.growth_after_weeks)
                    for b, p in branch_policy.items()}
    risk_since = {b: today - dt.timedelta(weeks=p.risk_window_weeks)
                  for b, p in branch_policy.items()}
    # The account's own baseline: the two windows before the risk window.
    base_since = {b: today - dt.timedelta(weeks=3 * p.risk_window_weeks)
                  for b, p in branch_policy.items()}
    risk_since_dt = {b: now - dt.timedelta(weeks=p.risk_window_weeks)
                     for b, p in branch_policy.items()}
    dates = sorted(set(growth_since.values()) | set(risk_since.values())
                   | set(base_since.values()))
    year_ago = now - dt.timedelta(days=365)

    terminated = dict(Transition.objects.filter(**rng, to_period=Period.TERMINATION)
                      .values("student_id").annotate(t=Max("at")).values_list("student_id", "t"))
    since_dts = sorted(set(risk_since_dt.values()))
    contracts = _contracts_with_sums(lo, hi, year_ago=year_ago, since_dts=since_dts)
    refunds = fetch_dicts(Refund.objects.filter(**crng).values(
        "contract__student_id", "status", "requested_at", amount_f=_float("amount")))
    att_aggs: dict[str, Any] = {"last_present": Max("date", filter=Q(status__in=_PRESENT))}
    for i, since in enumerate(dates):
        att_aggs[f"p{i}"] = Count("pk", filter=Q(status__in=_PRESENT, date__gte=since))
        att_aggs[f"a{i}"] = Count("pk", filter=Q(status=Attendance.Status.ABSENT,
                                                 date__gte=since))
    attendance = {r["student_id"]: r for r in fetch_dicts(
        Attendance.objects.filter(**rng).values("student_id").annotate(**att_aggs))}
    absences: dict[int, list[dt.date]] = defaultdict(list)
    for row in fetch_dicts(Attendance.objects.filter(
            **rng, status=Attendance.Status.ABSENT,
            date__gte=today - dt.timedelta(days=STREAK_LOOKBACK_DAYS)).values(
            "student_id", "date")):
        absences[row["student_id"]].append(row["date"])
    contacts = {r["student_id"]: r for r in fetch_dicts(
        Interaction.objects.filter(**rng).values("student_id").annotate(
            last=Max("occurred_at"),
            c90=Count("pk", filter=Q(occurred_at__gte=now - dt.timedelta(days=90))),
            c180=Count("pk", filter=Q(occurred_at__gte=now - dt.timedelta(days=180))),
            pos180=Count("pk", filter=Q(occurred_at__gte=now - dt.timedelta(days=180),
                                        sentiment=Interaction.Sentiment.POSITIVE))))}
    unresolved = ~Q(status=Complaint.Status.RESOLVED)
    complaints = {r["student_id"]: r for r in fetch_dicts(
        Complaint.objects.filter(**rng).values("student_id").annotate(
            open=Count("pk", filter=unresolved),
            overdue=Count("pk", filter=unresolved & Q(sla_due__lt=now)),
            year=Count("pk", filter=Q(created_at__gte=year_ago))))}
    surveys: dict[int, list[dict]] = defaultdict(list)
    for row in fetch_dicts(SatisfactionSurvey.objects.filter(**rng).order_by(
            "surveyed_at", "id").values("student_id", "respondent", "overall", "teaching",
                                        "service", "environment", "recommend")):
        surveys[row["student_id"]].append(row)
    exams: dict[int, list[float]] = defaultdict(list)
    for row in fetch_dicts(ExamScore.objects.filter(
            **rng, exam_date__gte=today - dt.timedelta(days=365)).order_by(
            "exam_date", "id").values("student_id", pct=ExpressionWrapper(
                _float("score") * 100.0 / _float("full_marks"), output_field=FloatField()))):
        exams[row["student_id"]].append(row["pct"])
    states = (clear_since if clear_since is not None else dict(
        RiskState.objects.filter(**rng).values_list("student_id", "clear_since")))
    referrals = referral_figures(wanted)

    by_student: dict[int, list[dict]] = defaultdict(list)
    for c in contracts:
        by_student[c["student_id"]].append(c)
    refunds_by: dict[int, list[dict]] = defaultdict(list)
    for r in refunds:
        refunds_by[r["contract__student_id"]].append(r)

    out: dict[int, Account] = {}
    for s in students:
        sid, bid = s["pk"], s["branch_id"]
        if sid not in wanted:
            continue
        policy = branch_policy[bid]
        term_at = terminated.get(sid)
        cut = term_at or _EPOCH
        mine = by_student.get(sid, [])
        purchases = episode = renewals_raw = dead = live = 0
        first_on: dt.date | None = None
        remaining = consumed = 0.0
        amount_sum = list_sum = 0.0
        paid_total = paid_recent = 0.0
        subjects: set[str] = set()
        unpaid_days: int | None = None
        ci = since_dts.index(risk_since_dt[bid])
        consumed_key = f"c{ci}"
        for c in mine:
            got = c["total"] or 0.0
            paid_total += got
            paid_recent += c["recent"] or 0.0
            balance = c["balance"] or 0.0
            remaining += balance
            consumed += c[consumed_key] or 0.0
            is_dead = c["status"] in _DEAD
            dead += is_dead
            qualifying = policy.trial_counts_as_purchase or not c["is_trial"]
            if got > 0 and qualifying:
                purchases += 1
                if c["created_at"] > cut and not is_dead:
                    episode += 1
                    first_on = min(first_on, c["signed_on"]) if first_on else c["signed_on"]
            if not c["is_trial"] and c["is_renewal"] and not is_dead:
                renewals_raw += 1
            if (c["status"] == Contract.Status.ACTIVE and c["valid_until"] >= today
                    and balance > 0):
                live += 1
            amount = c["price"] - c["off"]
            if got > 0 and not c["is_trial"] and not is_dead:
                amount_sum += amount
                list_sum += c["unit_price"] * (c["hours"] + c["gifted"])
            if not is_dead and (c["status"] == Contract.Status.ACTIVE
                                or c["signed_on"] >= today - dt.timedelta(days=365)):
                subjects.add(c["course__subject"])
            if c["status"] == Contract.Status.ACTIVE and amount > 0 and got < amount:
                days = (today - c["signed_on"]).days
                unpaid_days = max(unpaid_days or 0, days)
        refunds_paid = sum(r["amount_f"] for r in refunds_by.get(sid, [])
                           if r["status"] == Refund.Status.PAID)
        open_refunds = sum(1 for r in refunds_by.get(sid, [])
                           if r["status"] in (Refund.Status.REQUESTED, Refund.Status.APPROVED)
                           and r["requested_at"] > cut)
        att = attendance.get(sid)

        def window(since: dt.date, att: dict | None = att) -> tuple[int, int]:
            if att is None:
                return 0, 0
            i = dates.index(since)
            return att[f"p{i}"], att[f"a{i}"]

        gp, ga = window(growth_since[bid])
        rp, ra = window(risk_since[bid])
        bp, ba = window(base_since[bid])
        bp, ba = bp - rp, ba - ra  # the baseline excludes the recent window
        last_present = att["last_present"] if att else None
        streak = sum(1 for d in absences.get(sid, []) if last_present is None or d > last_present)
        con = contacts.get(sid)
        com = complaints.get(sid)
        rows = surveys.get(sid, [])
        latest_any = _survey_avg(rows[-1]) if rows else None
        stu = [r for r in rows if r["respondent"] == "student"]
        par = [r for r in rows if r["respondent"] == "parent"]
        stu_sat = _survey_avg(stu[-1]) if stu else None
        par_sat = _survey_avg(par[-1]) if par else None
        recommends = [r["recommend"] for r in rows if r["recommend"] is not None]
        weekly = max(-consumed, 0.0) / max(policy.risk_window_weeks, 1)
        renewals = renewals_raw if term_at is None else max(episode - 1, 0)
        days_since_first = (today - first_on).days if first_on else None
        risk_fig = RiskFigures(
            consecutive_absences=streak,
            attendance_rate=rp / (rp + ra) if rp + ra else None,
            remaining_hours=remaining,
            weekly_consumption=weekly,
            days_since_interaction=(now - con["last"]).days if con and con["last"] else None,
            open_complaints=com["open"] if com else 0,
            overdue_complaints=com["overdue"] if com else 0,
            latest_satisfaction=latest_any,
            attendance_baseline=bp / (bp + ba) if bp + ba else None,
            student_satisfaction=stu_sat,
            parent_satisfaction=par_sat,
            exam_slope=exam_slope(exams.get(sid, [])[-EXAM_COUNT:]),
            unpaid_contract_days=unpaid_days,
            refund_requests=open_refunds,
            decision_style=s["decision_style"],
        )
        word = referrals[sid]
        facts = AccountFacts(
            period=s["period"], previous_period=s["previous_period"],
            period_since=s["period_since"], purchases=purchases, episode_purchases=episode,
            renewals=renewals, days_since_first_purchase=days_since_first,
            contracts=len(mine), dead_contracts=dead, live_contracts=live,
            open_refunds=open_refunds, terminated_at=term_at,
            growth_attendance_rate=gp / (gp + ga) if gp + ga else None,
            latest_satisfaction=latest_any,
            risk_clear_since=states.get(sid),
            figures=risk_fig,
        )
        value = ValueFigures(
            paid_total=max(paid_total - refunds_paid, 0.0), list_value=list_sum,
            contract_amount=amount_sum, spend_365=paid_recent, subjects_365=len(subjects),
            renewals=renewals, tenure_days=days_since_first,
            complaints_365=com["year"] if com else 0,
            contacts_90=con["c90"] if con else 0, contacts_180=con["c180"] if con else 0,
            positive_contacts_180=con["pos180"] if con else 0,
            student_satisfaction=stu_sat, parent_satisfaction=par_sat,
            recommend=float(recommends[-1]) if recommends else None,
            referral_count=word.referrals,
            referral_converted=word.converted,
            referral_revenue=float(word.revenue),
            branch_avg_first_purchase=(branch_avg or {}).get(bid, 0.0),
        )
        out[sid] = Account(
            id=sid, branch_id=bid, counselor_id=s["counselor_id"], period=s["period"],
            previous_period=s["previous_period"], period_since=s["period_since"],
            decision_style=s["decision_style"], facts=facts, value=value,
            last_present_on=last_present,
        )
    return out


def branch_first_purchase_avg(branch_ids: Iterable[int], *, now: dt.datetime
                              ) -> dict[int, float]:
    """The average first (non-renewal, non-trial) contract of the last year, per branch.

    PPV's "average purchase value of those influenced": a referred family buys a first
    contract like any new family of that branch. One grouped query per run.
    """
    since = timezone.localdate(now) - dt.timedelta(days=365)
    rows = (Contract.objects.filter(branch_id__in=list(branch_ids), is_renewal=False,
                                    is_trial=False, signed_on__gte=since)
            .exclude(status__in=list(_DEAD)).values("branch_id")
            .annotate(total=Sum("list_price"), off=Sum("discount"), n=Count("pk")))
    return {r["branch_id"]: (_f(r["total"]) - _f(r["off"])) / r["n"] for r in rows if r["n"]}

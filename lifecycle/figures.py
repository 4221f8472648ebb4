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
from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    FloatField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Cast
from django.utils import timezone

from crm.db import column_names
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
from students.selectors import attendance_rate, attendance_since

from .models import PolicyValues, RiskState, Transition
from .periods import Period
from .risk import RiskFigures, exam_slope
from .rules import AccountFacts
from .value import ValueFigures

STREAK_LOOKBACK_DAYS = 180
EXAM_COUNT = 5
_DEAD = [str(Contract.Status.CANCELLED), str(Contract.Status.REFUNDED)]
_PRESENT = [str(s) for s in Attendance.PRESENT]
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(slots=True)
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
    # The nightly job's memo of the risk score (None also for non-maintenance accounts)
    # and of its factors as stored (code, value, points).
    risk: Any = None
    risk_factors: list = field(default_factory=list)
    risk_known: bool = False


def _f(x: Decimal | float | int | None) -> float:
    return float(x) if x is not None else 0.0


_CONSUMED_KINDS = [LedgerEntry.Kind.CONSUMED, LedgerEntry.Kind.REVERSAL]
_REFUND_PAID = str(Refund.Status.PAID)
_REFUND_OPEN = (str(Refund.Status.REQUESTED), str(Refund.Status.APPROVED))
_ACTIVE = str(Contract.Status.ACTIVE)
_MONEY = DecimalField(max_digits=14, decimal_places=2)


class _NoContracts(dict):
    """A student without contracts: every count 0, every sum and date None."""

    def __missing__(self, key: str) -> None:
        return None


_NO_CONTRACTS = _NoContracts.fromkeys(("n", "dead", "purchases_all", "purchases", "episode_all",
                                       "episode", "renewals", "live", "subjects"), 0)


def _contract_sums_sql(lo: int, hi: int, *, year_ago: dt.datetime,
                       since_dts: list[dt.datetime]) -> tuple[str, list]:
    """SQL of the contracts of students lo..hi, one row each, with what was paid and the
    hours left and used: `total` and `recent` (paid, paid in the last year), `balance`
    (hours left) and `c0`, `c1`... (hours consumed since each of `since_dts`, negative).

    PostgreSQL sums each contract's payments and ledger in one LATERAL index scan each;
    other databases take correlated subqueries (one per sum: fine at their sizes).
    """
    contracts = Contract.objects.filter(student_id__gte=lo, student_id__lte=hi).order_by().values(
        "id", "student_id", "status", "is_trial", "is_renewal", "signed_on", "valid_until",
        "created_at", subject=F("course__subject"),
        amount=ExpressionWrapper(F("list_price") - F("discount"), output_field=_MONEY),
        list_value=ExpressionWrapper(
            F("course__unit_price") * (F("hours_purchased") + F("hours_gifted")),
            output_field=_MONEY))
    consumed = Q(kind__in=_CONSUMED_KINDS)
    if connection.vendor != "postgresql":
        def total(model: type, column: str, condition: Q | None = None) -> Subquery:
            return Subquery(model.objects.filter(condition or Q(), contract=OuterRef("pk"))
                            .order_by()
                            .values("contract").annotate(s=Sum(column)).values("s"))

        sums = {"total": total(Payment, "amount"),
                "recent": total(Payment, "amount", Q(paid_at__gte=year_ago)),
                "balance": total(LedgerEntry, "hours")}
        for i, since in enumerate(since_dts):
            sums[f"c{i}"] = total(LedgerEntry, "hours", consumed & Q(occurred_at__gte=since))
        return contracts.annotate(**sums).query.sql_with_params()
    sql, params = contracts.query.sql_with_params()
    columns = ", ".join(
        f"SUM(l.hours) FILTER (WHERE l.kind IN (%s, %s) AND l.occurred_at >= %s) AS c{i}"
        for i in range(len(since_dts)))
    ledger, payments = LedgerEntry._meta.db_table, Payment._meta.db_table
    return (
        f"SELECT c.*, p.total, p.recent, l.* FROM ({sql}) c "
        f"CROSS JOIN LATERAL (SELECT SUM(amount) AS total, SUM(amount) FILTER "
        f"  (WHERE paid_at >= %s) AS recent FROM {payments} WHERE contract_id = c.id) p "
        f"CROSS JOIN LATERAL (SELECT SUM(l.hours) AS balance{', ' if columns else ''}"
        f"{columns} FROM {ledger} l WHERE l.contract_id = c.id) l",
        [*params, year_ago, *(v for since in since_dts for v in (*_CONSUMED_KINDS, since))])


def contract_figures(lo: int, hi: int, *, now: dt.datetime, since_dts: list[dt.datetime],
                     terminated: QuerySet) -> dict[int, dict]:
    """Per student of lo..hi with contracts: what the rules and scores read of them
    (`contract_figures_sql`, run)."""
    sql, params, names = contract_figures_sql(lo, hi, now=now, since_dts=since_dts,
                                              terminated=terminated)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return contract_rows(cursor.fetchall(), names)


def contract_figures_sql(lo: int, hi: int, *, now: dt.datetime, since_dts: list[dt.datetime],
                         terminated: QuerySet) -> tuple[str, list, list[str]]:
    """The statement of `contract_figures`: SQL, parameters and the columns' names.

    One grouped statement over the per-contract sums (`_contract_sums_sql`), so the
    database hands back a row per student instead of every contract with its dates
    (building those rows cost more than the SQL). Counts whose rule depends on the
    branch's policy come in both variants: `*_all` counts a paid trial as a purchase.
    Money and hours arrive as floats (the scores are float arithmetic); dates as dates.
    `terminated`: (student_id, t) of each student's latest termination: an episode
    counts only contracts recorded after it.
    """
    today = timezone.localdate(now)
    inner, params = _contract_sums_sql(lo, hi, year_ago=now - dt.timedelta(days=365),
                                       since_dts=since_dts)
    term_sql, term_params = terminated.query.sql_with_params()
    ops = connection.ops
    dead = ", ".join(["%s"] * len(_DEAD))
    alive = f"c.status NOT IN ({dead})"
    active = "c.status = %s"
    paid = "c.total > 0"
    episode = f"{paid} AND {alive} AND (t.t IS NULL OR c.created_at > t.t)"
    cheap = f"{paid} AND NOT c.is_trial AND {alive}"

    def fl(expression: str) -> str:
        return f"CAST({expression} AS double precision)"

    columns = [
        ("n", "COUNT(*)", []),
        ("paid_total", fl("SUM(c.total)"), []),
        ("paid_recent", fl("SUM(c.recent)"), []),
        ("remaining", fl("SUM(c.balance)"), []),
        *((f"c{i}", fl(f"SUM(c.c{i})"), []) for i in range(len(since_dts))),
        ("dead", f"COUNT(*) FILTER (WHERE NOT ({alive}))", [*_DEAD]),
        ("purchases_all", f"COUNT(*) FILTER (WHERE {paid})", []),
        ("purchases", f"COUNT(*) FILTER (WHERE {paid} AND NOT c.is_trial)", []),
        ("episode_all", f"COUNT(*) FILTER (WHERE {episode})", [*_DEAD]),
        ("episode", f"COUNT(*) FILTER (WHERE {episode} AND NOT c.is_trial)", [*_DEAD]),
        ("first_all", f"MIN(c.signed_on) FILTER (WHERE {episode})", [*_DEAD]),
        ("first", f"MIN(c.signed_on) FILTER (WHERE {episode} AND NOT c.is_trial)", [*_DEAD]),
        ("renewals", f"COUNT(*) FILTER (WHERE c.is_renewal AND NOT c.is_trial AND {alive})",
         [*_DEAD]),
        ("live", f"COUNT(*) FILTER (WHERE {active} AND c.valid_until >= %s "
                 "AND c.balance > 0)", [_ACTIVE, ops.adapt_datefield_value(today)]),
        ("amount", fl(f"SUM(c.amount) FILTER (WHERE {cheap})"), [*_DEAD]),
        ("list_value", fl(f"SUM(c.list_value) FILTER (WHERE {cheap})"), [*_DEAD]),
        ("subjects", f"COUNT(DISTINCT c.subject) FILTER (WHERE {alive} AND ({active} "
                     "OR c.signed_on >= %s))",
         [*_DEAD, _ACTIVE, ops.adapt_datefield_value(today - dt.timedelta(days=365))]),
        ("unpaid_since", f"MIN(c.signed_on) FILTER (WHERE {active} AND c.amount > 0 "
                         "AND COALESCE(c.total, 0) < c.amount)", [_ACTIVE]),
    ]
    select = ", ".join(f"{expression} AS {name}" for name, expression, _ in columns)
    return (f"SELECT c.student_id, {select} FROM ({inner}) c "
            f"LEFT JOIN ({term_sql}) t ON t.student_id = c.student_id GROUP BY c.student_id",
            [*(p for _, _, ps in columns for p in ps), *params, *term_params],
            ["student_id", *(name for name, _, _ in columns)])


def contract_rows(fetched: list[tuple], names: list[str]) -> dict[int, dict]:
    """`contract_figures_sql`'s rows by student, dates as dates."""
    rows = [dict(zip(names, row, strict=True)) for row in fetched]
    if connection.vendor != "postgresql":  # SQLite hands dates back as text
        for row in rows:
            for name in ("first_all", "first", "unpaid_since"):
                if isinstance(row[name], str):
                    row[name] = dt.date.fromisoformat(row[name])
    return {row["student_id"]: row for row in rows}


def _exam_percents(exams: QuerySet) -> QuerySet:
    """Each student's exam percents in date order, as (student_id, [percents]) rows on
    PostgreSQL (one array per student: a quarter of the rows, no per-exam tuple built
    in Python), as (student_id, percent) rows in date order elsewhere."""
    pct = ExpressionWrapper(_float("score") * 100.0 / _float("full_marks"),
                            output_field=FloatField())
    if connection.vendor == "postgresql":
        from django.contrib.postgres.aggregates import ArrayAgg

        return exams.order_by().values("student_id").annotate(
            pcts=ArrayAgg(pct, order_by=("exam_date", "id"))).values_list("student_id", "pcts")
    return exams.order_by("exam_date", "id").values_list("student_id", pct)


def _percents_by_student(rows: list[tuple]) -> dict[int, list[float]]:
    if connection.vendor == "postgresql":
        return dict(rows)
    out: dict[int, list[float]] = defaultdict(list)
    for sid, percent in rows:
        out[sid].append(percent)
    return out


def _float(expression: Any) -> Cast:
    """A numeric column or aggregate as float8, so the driver builds floats, not Decimals."""
    return Cast(expression, FloatField())


def _survey_avg(row: dict) -> float:
    values = [row["overall"]] + [row[k] for k in ("teaching", "service", "environment")
                                 if row[k] is not None]
    return sum(values) / len(values)


# Stand-ins for a chunk's id bounds while a reader compiles its SQL: no id is negative.
_LO, _HI = -(2**62) - 1, -(2**62) - 3


def load_accounts(ids: Iterable[int], *, policies: dict[int, PolicyValues],
                  now: dt.datetime, branch_avg: dict[int, float] | None = None,
                  clear_since: dict[int, dt.datetime | None] | None = None
                  ) -> dict[int, Account]:
    """Facts of the given students (one chunk: a compact id range), ~12 grouped queries.

    `clear_since`: since when each account's risk is clear, when the caller already
    holds the risk states (the nightly chunk does); read here otherwise.
    """
    return ChunkReader(policies=policies, now=now, branch_avg=branch_avg).load(
        ids, clear_since=clear_since)


class ChunkReader:
    """`load_accounts` for the many chunks of one run, each read's SQL compiled once.

    Why: building and compiling a dozen querysets cost several milliseconds of Python
    per chunk, hundreds of chunks a night, while only the chunk's id bounds change: the
    run's `now`, the policies' windows and the dates are fixed. On PostgreSQL each read
    is compiled on first use with stand-in bounds (`_LO`, `_HI`) that the later chunks'
    bounds replace among the parameters. Other databases build each queryset anew (their
    rows need Django's converters anyway). A reader belongs to one run: every read
    depends only on the chunk's bounds and on what is set here.
    """

    def __init__(self, *, policies: dict[int, PolicyValues], now: dt.datetime,
                 branch_avg: dict[int, float] | None = None) -> None:
        self.policies, self.now, self.branch_avg = policies, now, branch_avg or {}
        self.fallback = PolicyValues()
        today = self.today = timezone.localdate(now)
        # The windows are policy per branch: one conditional aggregate per distinct date,
        # for every branch of the run (a chunk may hold any of them).
        known = [*policies.values(), self.fallback]
        self.dates = sorted({attendance_since(w, today=today) for p in known for w in (
            p.growth_after_weeks, p.risk_window_weeks, 3 * p.risk_window_weeks)})
        self.since_dts = sorted({now - dt.timedelta(weeks=p.risk_window_weeks)
                                 for p in known})
        self._compiled: dict[str, tuple[str, list, list[str]]] = {}

    # --- the reads, each a queryset of the bounds only -------------------------------

    def _students(self, lo: int, hi: int) -> QuerySet:
        # The last lesson attended: one step back along each student's (student, date)
        # index, where a grouped MAX reads every roll call of their history.
        attended = Attendance.objects.filter(student=OuterRef("pk"), status__in=_PRESENT)
        return Student.objects.filter(pk__gte=lo, pk__lte=hi).order_by().values(
            "pk", "branch_id", "counselor_id", "period", "previous_period", "period_since",
            "decision_style",
            last_present=Subquery(attended.order_by("-date").values("date")[:1]))

    @staticmethod
    def _terminations(lo: int, hi: int) -> QuerySet:
        return (Transition.objects.filter(student_id__gte=lo, student_id__lte=hi,
                                          to_period=Period.TERMINATION)
                .values("student_id").annotate(t=Max("at")).values_list("student_id", "t"))

    @staticmethod
    def _refunds(lo: int, hi: int) -> QuerySet:
        return Refund.objects.filter(contract__student_id__gte=lo,
                                     contract__student_id__lte=hi).order_by().values(
            "contract__student_id", "status", "requested_at", amount_f=_float("amount"))

    def _attendance(self, lo: int, hi: int) -> QuerySet:
        # COUNT(student_id), not COUNT(id) (the same: both are never null): the counts
        # then come from the (student, date, status) index alone, an index-only
        # scan that never visits the table's rows. (Django refuses COUNT(*) with FILTER.)
        aggs: dict[str, Any] = {}
        for i, since in enumerate(self.dates):
            aggs[f"p{i}"] = Count("student_id", filter=Q(status__in=_PRESENT, date__gte=since))
            aggs[f"a{i}"] = Count("student_id", filter=Q(status=Attendance.Status.ABSENT,
                                                       date__gte=since))
        return (Attendance.objects.filter(student_id__gte=lo, student_id__lte=hi,
                                          date__gte=self.dates[0])
                .values("student_id").annotate(**aggs))

    def _absences(self, lo: int, hi: int) -> QuerySet:
        # Unordered: a streak is counted, not walked.
        since = self.today - dt.timedelta(days=STREAK_LOOKBACK_DAYS)
        return Attendance.objects.filter(
            student_id__gte=lo, student_id__lte=hi, status=Attendance.Status.ABSENT,
            date__gte=since).order_by().values_list("student_id", "date")

    def _contacts(self, lo: int, hi: int) -> QuerySet:
        now = self.now
        return Interaction.objects.filter(student_id__gte=lo, student_id__lte=hi).values(
            "student_id").annotate(
            last=Max("occurred_at"),
            c90=Count("pk", filter=Q(occurred_at__gte=now - dt.timedelta(days=90))),
            c180=Count("pk", filter=Q(occurred_at__gte=now - dt.timedelta(days=180))),
            pos180=Count("pk", filter=Q(occurred_at__gte=now - dt.timedelta(days=180),
                                        sentiment=Interaction.Sentiment.POSITIVE)))

    def _complaints(self, lo: int, hi: int) -> QuerySet:
        unresolved = ~Q(status=Complaint.Status.RESOLVED)
        return Complaint.objects.filter(student_id__gte=lo, student_id__lte=hi).values(
            "student_id").annotate(
            open=Count("pk", filter=unresolved),
            overdue=Count("pk", filter=unresolved & Q(sla_due__lt=self.now)),
            year=Count("pk", filter=Q(created_at__gte=self.now - dt.timedelta(days=365))))

    @staticmethod
    def _surveys(lo: int, hi: int) -> QuerySet:
        return SatisfactionSurvey.objects.filter(student_id__gte=lo, student_id__lte=hi).order_by(
            "surveyed_at", "id").values("student_id", "respondent", "overall", "teaching",
                                        "service", "environment", "recommend")

    def _exams(self, lo: int, hi: int) -> QuerySet:
        return _exam_percents(ExamScore.objects.filter(
            student_id__gte=lo, student_id__lte=hi,
            exam_date__gte=self.today - dt.timedelta(days=365)))

    @staticmethod
    def _risk_states(lo: int, hi: int) -> QuerySet:
        return RiskState.objects.filter(student_id__gte=lo, student_id__lte=hi).values_list(
            "student_id", "clear_since")

    # --- running them ---------------------------------------------------------------

    def _sql(self, name: str, lo: int, hi: int) -> tuple[str, list, list[str]]:
        """The read's SQL, parameters (this chunk's bounds) and column names (PostgreSQL)."""
        compiled = self._compiled.get(name)
        if compiled is None:
            if name == "contracts":
                compiled = contract_figures_sql(_LO, _HI, now=self.now,
                                                since_dts=self.since_dts,
                                                terminated=self._terminations(_LO, _HI))
            else:
                query = getattr(self, f"_{name}")(_LO, _HI).query
                compiled = (*query.sql_with_params(), column_names(query))
            self._compiled[name] = compiled
        sql, params, names = compiled
        return sql, [lo if p == _LO else hi if p == _HI else p for p in params], names

    def _fetch(self, name: str, lo: int, hi: int) -> tuple[list[tuple], list[str]]:
        """PostgreSQL: the read's rows for this chunk and their column names."""
        sql, params, names = self._sql(name, lo, hi)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall(), names

    def _rows(self, name: str, lo: int, hi: int) -> list[tuple]:
        if connection.vendor != "postgresql":
            return list(getattr(self, f"_{name}")(lo, hi))
        return self._fetch(name, lo, hi)[0]

    def _dicts(self, name: str, lo: int, hi: int) -> list[dict]:
        if connection.vendor != "postgresql":
            return list(getattr(self, f"_{name}")(lo, hi))
        rows, names = self._fetch(name, lo, hi)
        return [dict(zip(names, row, strict=True)) for row in rows]

    def _contract_figures(self, lo: int, hi: int) -> dict[int, dict]:
        if connection.vendor != "postgresql":
            return contract_figures(lo, hi, now=self.now, since_dts=self.since_dts,
                                    terminated=self._terminations(lo, hi))
        return contract_rows(*self._fetch("contracts", lo, hi))

    def load(self, ids: Iterable[int], *,
             clear_since: dict[int, dt.datetime | None] | None = None) -> dict[int, Account]:
        """Facts of the given students (one chunk: a compact id range), ~12 grouped queries.

        `clear_since`: as in `load_accounts`."""
        ids = sorted(set(ids))
        if not ids:
            return {}
        lo, hi = ids[0], ids[-1]
        wanted = set(ids)
        now, today, dates = self.now, self.today, self.dates
        students = self._dicts("students", lo, hi)
        if not students:
            return {}
        branch_policy = {b: self.policies.get(b, self.fallback)
                         for b in {s["branch_id"] for s in students}}
        # The windows of students.selectors.attendance_since (the pages' "last N weeks").
        growth_since = {b: attendance_since(p.growth_after_weeks, today=today)
                        for b, p in branch_policy.items()}
        risk_since = {b: attendance_since(p.risk_window_weeks, today=today)
                      for b, p in branch_policy.items()}
        # The account's own baseline: the two windows before the risk window.
        base_since = {b: attendance_since(3 * p.risk_window_weeks, today=today)
                      for b, p in branch_policy.items()}
        # Which of the contract figures' consumption sums is the branch's risk window.
        consumed_col = {
            b: f"c{self.since_dts.index(now - dt.timedelta(weeks=p.risk_window_weeks))}"
            for b, p in branch_policy.items()}
        terminated = dict(self._rows("terminations", lo, hi))
        contracts = self._contract_figures(lo, hi)
        refunds = self._dicts("refunds", lo, hi)
        attendance = {r["student_id"]: r for r in self._dicts("attendance", lo, hi)}
        absences: dict[int, list[dt.date]] = defaultdict(list)
        for sid, day in self._rows("absences", lo, hi):
            absences[sid].append(day)
        contacts = {r["student_id"]: r for r in self._dicts("contacts", lo, hi)}
        complaints = {r["student_id"]: r for r in self._dicts("complaints", lo, hi)}
        surveys: dict[int, list[dict]] = defaultdict(list)
        for row in self._dicts("surveys", lo, hi):
            surveys[row["student_id"]].append(row)
        exams = _percents_by_student(self._rows("exams", lo, hi))
        states = (clear_since if clear_since is not None
                  else dict(self._rows("risk_states", lo, hi)))
        referrals = referral_figures(wanted)
        branch_avg = self.branch_avg

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
            k = contracts.get(sid, _NO_CONTRACTS)
            everything = policy.trial_counts_as_purchase  # a paid trial is a purchase too
            purchases = k["purchases_all"] if everything else k["purchases"]
            episode = k["episode_all"] if everything else k["episode"]
            first_on = k["first_all"] if everything else k["first"]
            paid_total, paid_recent = k["paid_total"] or 0.0, k["paid_recent"] or 0.0
            remaining = k["remaining"] or 0.0
            consumed = k[consumed_col[bid]] or 0.0
            unpaid_days = (today - k["unpaid_since"]).days if k["unpaid_since"] else None
            refunds_paid, open_refunds = 0.0, 0
            for r in refunds_by.get(sid, ()):  # most accounts have none
                if r["status"] == _REFUND_PAID:
                    refunds_paid += r["amount_f"]
                elif r["status"] in _REFUND_OPEN and r["requested_at"] > cut:
                    open_refunds += 1
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
            last_present = s["last_present"]
            streak = sum(1 for d in absences.get(sid, ())
                         if last_present is None or d > last_present)
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
            renewals = k["renewals"] if term_at is None else max(episode - 1, 0)
            days_since_first = (today - first_on).days if first_on else None
            risk_fig = RiskFigures(
                consecutive_absences=streak,
                attendance_rate=attendance_rate(rp, ra),
                remaining_hours=remaining,
                weekly_consumption=weekly,
                days_since_interaction=(now - con["last"]).days if con and con["last"] else None,
                open_complaints=com["open"] if com else 0,
                overdue_complaints=com["overdue"] if com else 0,
                latest_satisfaction=latest_any,
                attendance_baseline=attendance_rate(bp, ba),
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
                contracts=k["n"], dead_contracts=k["dead"], live_contracts=k["live"],
                open_refunds=open_refunds, terminated_at=term_at,
                growth_attendance_rate=attendance_rate(gp, ga),
                latest_satisfaction=latest_any,
                risk_clear_since=states.get(sid),
                figures=risk_fig,
            )
            value = ValueFigures(
                paid_total=max(paid_total - refunds_paid, 0.0), list_value=k["list_value"] or 0.0,
                contract_amount=k["amount"] or 0.0, spend_365=paid_recent,
                subjects_365=k["subjects"],
                renewals=renewals, tenure_days=days_since_first,
                complaints_365=com["year"] if com else 0,
                contacts_90=con["c90"] if con else 0, contacts_180=con["c180"] if con else 0,
                positive_contacts_180=con["pos180"] if con else 0,
                student_satisfaction=stu_sat, parent_satisfaction=par_sat,
                recommend=float(recommends[-1]) if recommends else None,
                referral_count=word.referrals,
                referral_converted=word.converted,
                referral_revenue=float(word.revenue),
                branch_avg_first_purchase=branch_avg.get(bid, 0.0),
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

"""The dated lifecycle history of a demo account, walked through the legal periods.

Why: the dashboard's flows, churn by period, retention by month, patterns and win-backs
are all read from Transition rows, so an account whose period was only set (no history)
shows nowhere. Each demo account therefore gets the moves its facts imply, on the days
the facts happened (first paid contract, renewal, a year of tenure, the third absence in
a row, the refund request or the last lesson, 90 days without a contract, the comeback
contract).

One rule, not two: every move is proposed by lifecycle.rules.decide from the account's
facts as they stood that day, and checked against the table by services.check_transition
(the same checks account_transition makes); only the date differs from a live move. The
rows are then written in bulk with the rest of the chunk (a seed of 100,000 accounts
cannot take the per-row lock of the live door).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crm.db import db_datetime, temporals_as_text
from crm.demo import local_dt
from lifecycle.models import PolicyValues, Transition, Trigger
from lifecycle.periods import Period, is_win_back
from lifecycle.risk import RiskFigures, risk_score
from lifecycle.rules import AccountFacts, Decision, decide
from lifecycle.services import check_transition
from students.demo.plans import ContractPlan, StudentPlan
from students.demo.vocabulary import ABSENT, CONSUMING, SESSION_HOURS

if TYPE_CHECKING:
    from lifecycle.demo import ChunkBuilder

SCAN_HOUR = 21  # the evening the nightly rules saw the new fact


@dataclass
class Move:
    """One planned transition: where to, when, and the decision that made it."""

    from_period: str
    to_period: str
    at: dt.datetime
    decision: Decision
    pk: int | None = None  # once written


def _calm(hours_left: float = 20.0) -> RiskFigures:
    """Figures of an account attending normally (no signal fires)."""
    return RiskFigures(attendance_rate=1.0, remaining_hours=hours_left, weekly_consumption=2.0,
                       days_since_interaction=7)


def _attendance_rate(plan: ContractPlan, day: dt.date, weeks: int) -> float | None:
    """Present / (present + absent) of a package's roll calls in the weeks up to `day`."""
    since = day - dt.timedelta(weeks=weeks)
    window = [s for d, s in zip(plan.dates, plan.statuses[:plan.used], strict=True)
              if since <= d <= day]
    present = sum(1 for s in window if s in CONSUMING)
    absent = sum(1 for s in window if s == ABSENT)
    return present / (present + absent) if present + absent else None


class Walk:
    """Builds the moves of one account in date order, asking the rules for each."""

    def __init__(self, sp: StudentPlan, policy: PolicyValues) -> None:
        self.sp, self.policy = sp, policy
        self.period = Period.PROSPECTING
        self.previous = ""
        self.moves: list[Move] = []

    def _at(self, day: dt.date) -> dt.datetime:
        at = local_dt(day, SCAN_HOUR)
        if self.moves and at <= self.moves[-1].at:  # two facts on one day: keep the order
            at = self.moves[-1].at + dt.timedelta(minutes=1)
        return at

    def go(self, to: str, day: dt.date, trigger: str, facts: AccountFacts,
           figures_for_fallback: RiskFigures | None = None) -> None:
        """Record the move the rules make from these facts (they must call for `to`)."""
        at = self._at(day)
        facts.period, facts.previous_period = self.period, self.previous
        decision = decide(facts, self.policy, at)
        if decision is None or decision.to_period != to:
            # The rules' weights are policy (and may change); the fact itself stands.
            evidence: dict[str, Any] = {}
            if figures_for_fallback is not None:
                evidence = risk_score(figures_for_fallback, self.policy.risk).as_evidence(
                    self.policy.risk)
            decision = Decision(to, trigger, str(Trigger(trigger).label), evidence,
                                win_back=is_win_back(self.period, to))
        check_transition(from_period=self.period, to_period=to, previous_period=self.previous)
        self.moves.append(Move(self.period, to, at, decision))
        if to == Period.AT_RISK:
            self.previous = self.period
        elif self.period == Period.AT_RISK:
            self.previous = ""
        self.period = to

    # -- one relationship ---------------------------------------------------------------
    def relationship(self, paid: list[ContractPlan], *, won_back_from: dt.datetime | None,
                     maturity_on: dt.date | None, risk_on: dt.date | None,
                     risk_plan: ContractPlan | None) -> None:
        """First purchase (or win-back), renewal, maturity and an at-risk flag, in order."""
        first = paid[0]
        if won_back_from is None:
            self.go(Period.SOCIALIZATION, first.signed_on, Trigger.FIRST_PURCHASE,
                    AccountFacts(period="", purchases=1, episode_purchases=1, contracts=1))
        else:
            self.go(Period.SOCIALIZATION, first.signed_on, Trigger.WIN_BACK,
                    AccountFacts(period="", purchases=2, episode_purchases=1, contracts=2,
                                 terminated_at=won_back_from))
        later = sorted(paid[1:], key=lambda c: c.signed_on)
        if later and (risk_on is None or later[0].signed_on < risk_on):
            day = later[0].signed_on
            self.go(Period.GROWTH, day, Trigger.RENEWAL, AccountFacts(
                period="", purchases=2, episode_purchases=2, renewals=1, contracts=2,
                live_contracts=1, days_since_first_purchase=(day - first.signed_on).days,
                figures=_calm()))
        if maturity_on is not None and self.period == Period.GROWTH:
            renewals = sum(1 for c in later if c.signed_on <= maturity_on)
            self.go(Period.MATURITY, maturity_on, Trigger.MATURITY, AccountFacts(
                period="", purchases=renewals + 1, episode_purchases=renewals + 1,
                renewals=renewals, contracts=renewals + 1, live_contracts=1,
                days_since_first_purchase=(maturity_on - first.signed_on).days,
                latest_satisfaction=self.sp.maturity_satisfaction, figures=_calm()))
        if self.sp.spell is not None:  # an earlier spell at risk, recovered
            plan, flagged, clear_since, cleared = self.sp.spell
            self.flag(plan, flagged, len(paid))
            self.go(self.previous, cleared, Trigger.RISK_CLEARED, AccountFacts(
                period="", contracts=len(paid), live_contracts=1,
                period_since=self.moves[-1].at, risk_clear_since=local_dt(clear_since, 21),
                figures=_calm()))
        if risk_on is not None and risk_plan is not None:
            self.flag(risk_plan, risk_on, len(paid),
                      complaint=self.sp.period == Period.AT_RISK)

    def flag(self, plan: ContractPlan, day: dt.date, n_paid: int, *,
             complaint: bool = False) -> None:
        """At risk on the third absence in a row (with the attendance of those weeks);
        for an account at risk now, with the complaint it made before, still open and
        past its deadline (students.demo.engagement writes it)."""
        figures = RiskFigures(
            consecutive_absences=3,
            attendance_rate=_attendance_rate(plan, day, self.policy.risk_window_weeks),
            remaining_hours=float(SESSION_HOURS * 4), weekly_consumption=0.0,
            days_since_interaction=14, open_complaints=int(complaint),
            overdue_complaints=int(complaint))
        self.go(Period.AT_RISK, day, Trigger.RISK,
                AccountFacts(period="", purchases=n_paid, contracts=n_paid, live_contracts=1,
                             figures=figures), figures)

    def end(self, plan: ContractPlan, kind: str, day: dt.date, n_contracts: int) -> None:
        """Termination: a refund request (refund, cancel) or no live contract left."""
        if kind in ("refund", "cancel"):
            self.go(Period.TERMINATION, day, Trigger.REFUND, AccountFacts(
                period="", contracts=n_contracts, live_contracts=1, open_refunds=1,
                figures=_calm()))
        else:
            self.go(Period.TERMINATION, day, Trigger.EXPIRY, AccountFacts(
                period="", contracts=n_contracts, live_contracts=0, figures=_calm(0.0)))

    def lapse(self) -> None:
        """Termination -> lapsed on the first evening past the policy's days."""
        since = self.moves[-1].at
        day = since.date() + dt.timedelta(days=self.policy.lapse_after_days + 1)
        self.go(Period.LAPSED, day, Trigger.LAPSE, AccountFacts(
            period="", period_since=since, contracts=1, live_contracts=0, figures=_calm(0.0)))


def end_day(plan: ContractPlan, kind: str) -> dt.date:
    """The day the rules see the relationship end: the refund request, the day after the
    last hour was used, or the day after the package expired."""
    if kind in ("refund", "cancel"):
        return plan.refund_at
    if kind == "expired":
        return plan.valid_until + dt.timedelta(days=1)
    return plan.dates[-1] + dt.timedelta(days=1)


def risk_day(plan: ContractPlan, run: int) -> dt.date:
    """The third absence of the package's final run (the day the model flags it)."""
    run_dates = plan.dates[-run:]
    return run_dates[min(2, len(run_dates) - 1)]


def walk(sp: StudentPlan, policy: PolicyValues, today: dt.date) -> list[Move]:
    """Every move of the account from prospecting to `sp.period`, dated by its facts."""
    w = Walk(sp, policy)
    if sp.period == Period.PROSPECTING:
        return []
    if sp.old is not None:  # the first relationship, ended before the comeback
        old_paid = [c for c in sp.old.contracts if not c.is_trial]
        w.relationship(old_paid, won_back_from=None, maturity_on=None, risk_on=None,
                       risk_plan=None)
        last = old_paid[-1]
        w.end(last, last.end, end_day(last, last.end), len(old_paid))
        w.lapse()
    won_back_from = w.moves[-1].at if sp.old is not None else None
    paid = sp.paid
    ended = sp.period in (Period.TERMINATION, Period.LAPSED)
    main_paid = [c for c in sp.main.contracts if not c.is_trial]
    risk_on = risk_plan = None
    if sp.period == Period.AT_RISK or (ended and sp.risk_before_end):
        risk_plan = main_paid[-1]
        risk_on = risk_day(risk_plan, sp.absence_run or 3)
    w.relationship(paid, won_back_from=won_back_from, maturity_on=sp.maturity_on,
                   risk_on=risk_on, risk_plan=risk_plan)
    if ended:
        last = main_paid[-1]
        w.end(last, sp.end_kind, end_day(last, sp.end_kind), len(paid))
        if sp.period == Period.LAPSED:
            w.lapse()
    assert w.period == sp.period, (w.period, sp.period)
    assert not w.moves or w.moves[-1].at.date() <= today, (w.moves[-1].at, today)
    return w.moves


def write_history(b: ChunkBuilder) -> None:
    """The chunk's transitions (after its students are saved), as raw rows: a large seed
    writes several per account."""
    text = temporals_as_text()
    rows = []
    for sp in b.plans:
        for m in sp.moves:
            d = m.decision
            rows.append((sp.student.pk, m.from_period, m.to_period, db_datetime(m.at, text),
                         d.trigger, d.reason, json.dumps(d.evidence, ensure_ascii=False),
                         d.win_back or is_win_back(m.from_period, m.to_period)))
    ids = b.raw(Transition, ["student_id", "from_period", "to_period", "at", "trigger",
                             "reason", "evidence", "win_back"], rows, returning=True)
    moves = (m for sp in b.plans for m in sp.moves)
    for m, pk in zip(moves, ids, strict=True):
        m.pk = pk

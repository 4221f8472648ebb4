"""The automatic transition rules: a pure function from an account's facts to a move.

DOMAIN.md §4/§6. The facts are computed from the records (contracts, payments,
attendance, surveys...) by lifecycle.selectors.account_facts, never from flags set by
hand. `decide` proposes at most one move; the scan applies it through
services.account_transition and asks again until nothing more applies.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .explain import rule_reason
from .periods import MAINTENANCE_PERIODS, Period, is_allowed
from .risk import RiskFigures, RiskResult, risk_score

if TYPE_CHECKING:
    from .models import PolicyValues


@dataclass(slots=True)  # a value, but not frozen: see risk.RiskFigures
class AccountFacts:
    """What the rules read about one account (all derived from records)."""

    period: str
    previous_period: str = ""
    period_since: dt.datetime | None = None
    purchases: int = 0  # paid qualifying contracts, ever
    episode_purchases: int = 0  # ... since the last termination, not cancelled/refunded
    renewals: int = 0  # renewals / further purchases in the current relationship
    days_since_first_purchase: int | None = None  # of the current relationship
    contracts: int = 0  # any status
    dead_contracts: int = 0  # cancelled or refunded
    live_contracts: int = 0  # active, not past valid_until, hours left
    open_refunds: int = 0  # requested/approved since the last termination
    terminated_at: dt.datetime | None = None
    growth_attendance_rate: float | None = None  # over the policy's growth window
    latest_satisfaction: float | None = None
    risk_clear_since: dt.datetime | None = None
    figures: RiskFigures = field(default_factory=RiskFigures)


@dataclass(frozen=True)
class Decision:
    to_period: str
    trigger: str
    reason: str
    evidence: dict[str, Any]
    win_back: bool = False


def decide(facts: AccountFacts, policy: PolicyValues, now: dt.datetime, *,
           risk: RiskResult | None = None) -> Decision | None:
    """The move the rules call for now, or None. Order: ending first, then risk, then growth.

    `risk`: the account's score under `policy.risk` when the caller already has it (the
    nightly job scores each account once); computed here otherwise.
    """
    p = facts.period
    decision: Decision | None = None
    if p == Period.PROSPECTING:
        decision = _first_purchase(facts)
    elif p in MAINTENANCE_PERIODS:
        decision = (_ending(facts) or _risk(facts, policy, now, risk)
                    or _progress(facts, policy))
    elif p == Period.TERMINATION:
        decision = _win_back(facts) or _lapse(facts, policy, now)
    elif p == Period.LAPSED:
        decision = _win_back(facts)
    # The table is the last word: a rule can never propose an illegal move.
    if decision is not None and not is_allowed(p, decision.to_period):
        return None
    return decision


def _move(to_period: str, trigger: str, evidence: dict[str, Any],
          win_back: bool = False) -> Decision:
    """A rule's move; its stored reason is the renderer's words without scores (pages
    render it again for each viewer and language: lifecycle.explain.rule_reason)."""
    return Decision(to_period, trigger, rule_reason(trigger, evidence, scores=False) or trigger,
                    evidence, win_back)


def _first_purchase(f: AccountFacts) -> Decision | None:
    if f.purchases < 1:
        return None
    return _move(Period.SOCIALIZATION, "first_purchase", {"paid_contracts": f.purchases})


def _ending(f: AccountFacts) -> Decision | None:
    """Maintenance -> termination: refund request, cancellation, or expiry without renewal."""
    if f.open_refunds > 0:
        return _move(Period.TERMINATION, "refund", {"open_refunds": f.open_refunds})
    if f.live_contracts > 0:
        return None
    if f.dead_contracts > 0:
        return _move(Period.TERMINATION, "cancellation",
                     {"cancelled_or_refunded": f.dead_contracts, "active_contracts": 0})
    if f.contracts > 0:
        return _move(Period.TERMINATION, "expiry",
                     {"contracts": f.contracts, "active_contracts": 0})
    return None


def _risk(f: AccountFacts, policy: PolicyValues, now: dt.datetime,
          result: RiskResult | None = None) -> Decision | None:
    if result is None:
        result = risk_score(f.figures, policy.risk)
    if f.period != Period.AT_RISK:
        if not result.is_at_risk(policy.risk):
            return None
        # The stored reason carries no score (front desk and teachers read timelines).
        return _move(Period.AT_RISK, "risk", result.as_evidence(policy.risk))
    if result.is_at_risk(policy.risk) or f.risk_clear_since is None or not f.previous_period:
        return None
    # Clear while at risk: a manual at-risk flag is not undone by an older clear spell.
    since = max(f.risk_clear_since, f.period_since or f.risk_clear_since)
    days = (now - since).days
    if days < policy.risk_clear_days:
        return None
    return _move(f.previous_period, "risk_cleared",
                 {**result.as_evidence(policy.risk), "clear_days": days})


def _progress(f: AccountFacts, policy: PolicyValues) -> Decision | None:
    if f.period == Period.SOCIALIZATION:
        if f.renewals >= 1:
            return _move(Period.GROWTH, "renewal", {"renewals": f.renewals})
        weeks = (f.days_since_first_purchase or 0) // 7
        rate = f.growth_attendance_rate
        if (f.days_since_first_purchase is not None and weeks >= policy.growth_after_weeks
                and rate is not None and rate >= policy.growth_attendance_rate):
            return _move(Period.GROWTH, "steady_attendance",
                         {"weeks": weeks, "attendance_rate": round(rate, 4),
                          "threshold": policy.growth_attendance_rate})
    if f.period == Period.GROWTH:
        tenure = f.days_since_first_purchase
        sat = f.latest_satisfaction
        if (tenure is not None and tenure >= policy.maturity_tenure_days
                and f.renewals >= policy.maturity_min_renewals
                and sat is not None and sat >= policy.maturity_min_satisfaction):
            return _move(Period.MATURITY, "maturity",
                         {"tenure_days": tenure, "renewals": f.renewals,
                          "satisfaction": round(sat, 2)})
    return None


def _win_back(f: AccountFacts) -> Decision | None:
    if f.terminated_at is None or f.episode_purchases < 1:
        return None
    return _move(Period.SOCIALIZATION, "win_back",
                 {"new_contracts": f.episode_purchases,
                  "terminated_at": f.terminated_at.isoformat()}, win_back=True)


def _lapse(f: AccountFacts, policy: PolicyValues, now: dt.datetime) -> Decision | None:
    if f.live_contracts > 0 or f.period_since is None:
        return None
    days = (now - f.period_since).days
    if days < policy.lapse_after_days:
        return None
    return _move(Period.LAPSED, "lapse", {"days_without_contract": days})

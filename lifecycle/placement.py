"""Where an account brought over from a previous system starts: a pure function from
its facts (DOMAIN.md §4) to a period, instead of walking every customer through
socialization on the first scan under newcomer rules.

- A leaving status from the old system wins: 退学 (dropped out) and 结课 (finished, no
  renewal) place it in termination, 休学 (suspended) in lapsed, on the leaving date
  with the leaving reason, so its history is there for churn analysis.
- No paid contract: still a prospect (no placement).
- Paid contracts but none live: termination (expired or used up, no renewal).
- Otherwise the policy's own thresholds: maturity (tenure, renewals, satisfaction when
  known), growth (a renewal, or steady attendance over the growth window), else
  socialization.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from .periods import Period
from .rules import AccountFacts

if TYPE_CHECKING:
    from .models import PolicyValues


class LeavingStatus:
    """The old system's status of a former customer."""

    DROPPED = "dropped"  # 退学
    FINISHED = "finished"  # 结课
    SUSPENDED = "suspended"  # 休学


@dataclass(frozen=True)
class Leaving:
    status: str
    on: dt.date | None
    reason: str = ""


@dataclass(frozen=True)
class Placement:
    to_period: str
    at: dt.datetime
    reason: str
    evidence: dict[str, Any]


def _leaving_placement(leaving: Leaving, now: dt.datetime) -> Placement:
    to = Period.LAPSED if leaving.status == LeavingStatus.SUSPENDED else Period.TERMINATION
    at = (dt.datetime.combine(leaving.on, dt.time(12), tzinfo=now.tzinfo)
          if leaving.on else now)
    labels = {LeavingStatus.DROPPED: _("dropped out (退学)"),
              LeavingStatus.FINISHED: _("finished without renewing (结课)"),
              LeavingStatus.SUSPENDED: _("suspended (休学)")}
    reason = _("Previous system: %(status)s.") % {"status": labels[leaving.status]}
    if leaving.reason:
        reason = f"{reason} {leaving.reason}"
    return Placement(to, at, reason, {"status": leaving.status,
                                      "left_on": leaving.on.isoformat() if leaving.on else None,
                                      "leaving_reason": leaving.reason})


def place(facts: AccountFacts, policy: PolicyValues, now: dt.datetime, *,
          leaving: Leaving | None = None) -> Placement | None:
    """The period an imported account starts in, or None to leave it a prospect."""
    if leaving is not None:
        return _leaving_placement(leaving, now)
    if facts.purchases < 1:
        return None
    tenure = facts.days_since_first_purchase
    evidence: dict[str, Any] = {"paid_contracts": facts.purchases, "renewals": facts.renewals,
                                "tenure_days": tenure}
    if facts.live_contracts == 0:
        return Placement(Period.TERMINATION, now,
                         _("No active contract when imported (expired or used up)."),
                         {**evidence, "active_contracts": 0})
    sat = facts.latest_satisfaction
    if (tenure is not None and tenure >= policy.maturity_tenure_days
            and facts.renewals >= policy.maturity_min_renewals
            and (sat is None or sat >= policy.maturity_min_satisfaction)):
        return Placement(Period.MATURITY, now, _(
            "Imported: %(days)d days as a customer, %(renewals)d renewals.")
            % {"days": tenure, "renewals": facts.renewals}, evidence)
    rate = facts.growth_attendance_rate
    steady = (tenure is not None and tenure // 7 >= policy.growth_after_weeks
              and rate is not None and rate >= policy.growth_attendance_rate)
    if facts.renewals >= 1 or steady:
        return Placement(Period.GROWTH, now, _(
            "Imported: %(renewals)d renewals, recent attendance %(rate)s.")
            % {"renewals": facts.renewals,
               "rate": f"{round(rate * 100)}%" if rate is not None else "-"},
            {**evidence, "attendance_rate": rate})
    return Placement(Period.SOCIALIZATION, now, _("Imported: first paid contract."), evidence)

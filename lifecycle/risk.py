"""The early-warning risk score: a pure function over figures (no ORM).

DOMAIN.md §6 (at-risk): the early-warning model finds disappointed accounts while they
can still be recovered. This is the first, additive version: each signal that crosses
its policy threshold adds its policy weight; the score is capped at 100. The weighted
model of a later issue can replace `risk_score` while keeping `RiskFigures`,
`RiskResult` and `Factor`, which the scan, the history evidence and the API rely on.
The figures come from one set-based selector (lifecycle.selectors.account_facts).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext


@dataclass(frozen=True)
class RiskFigures:
    """The signals available now, for one account. None means 'no data'."""

    consecutive_absences: int = 0
    attendance_rate: float | None = None  # present / (present + absent) in the window
    remaining_hours: float = 0.0
    weekly_consumption: float = 0.0  # hours consumed per week over the window
    days_since_interaction: int | None = None  # None: no contact on record
    open_complaints: int = 0
    overdue_complaints: int = 0
    latest_satisfaction: float | None = None  # 1-5, average of the latest survey

    @property
    def weeks_of_hours_left(self) -> float | None:
        """At the current pace; None when nothing is being consumed (no pace to project)."""
        if self.weekly_consumption <= 0:
            return None
        return max(self.remaining_hours, 0.0) / self.weekly_consumption


@dataclass(frozen=True)
class RiskPolicy:
    """Thresholds and weights (points) of each signal; built from LifecyclePolicy."""

    threshold: int = 50
    absence_streak: int = 3
    weight_absences: int = 30
    attendance_rate: float = 0.7
    weight_attendance: int = 20
    hours_weeks: float = 3.0
    weight_hours: int = 15
    contact_days: int = 30
    weight_contact: int = 10
    weight_open_complaint: int = 15
    weight_overdue_complaint: int = 15
    satisfaction: float = 3.0
    weight_satisfaction: int = 20


@dataclass(frozen=True)
class Factor:
    """One signal that fired: what, how much, and how many points it added."""

    code: str
    value: float | int | None
    points: int

    @property
    def text(self) -> str:
        """The human explanation, in the active language (e.g. 连续缺勤 3 次)."""
        return factor_text(self.code, self.value)

    def as_dict(self) -> dict:
        return {"code": self.code, "value": self.value, "points": self.points,
                "text": self.text}


@dataclass(frozen=True)
class RiskResult:
    score: int
    factors: list[Factor] = field(default_factory=list)

    def is_at_risk(self, policy: RiskPolicy) -> bool:
        return self.score >= policy.threshold

    def as_evidence(self, policy: RiskPolicy) -> dict:
        """JSON for a history row: the score, the threshold and the factors that fired."""
        return {"score": self.score, "threshold": policy.threshold,
                "factors": [f.as_dict() for f in self.factors]}


def factor_text(code: str, value: float | int | None) -> str:
    """Translatable text of a factor; the codes are stable, the wording may change."""
    if code == "absences":
        n = int(value or 0)
        return ngettext("%(n)d consecutive absence", "%(n)d consecutive absences", n) % {"n": n}
    if code == "attendance":
        return _("attendance %(pct)d%% in recent weeks") % {"pct": round((value or 0) * 100)}
    if code == "hours":
        return _("%(weeks).1f weeks of lesson hours left, no renewal") % {"weeks": value or 0}
    if code == "contact":
        if value is None:
            return _("no contact on record")
        return _("no contact for %(days)d days") % {"days": int(value)}
    if code == "open_complaints":
        n = int(value or 0)
        return ngettext("%(n)d open complaint", "%(n)d open complaints", n) % {"n": n}
    if code == "overdue_complaints":
        n = int(value or 0)
        return ngettext("%(n)d complaint past its deadline",
                        "%(n)d complaints past their deadline", n) % {"n": n}
    if code == "satisfaction":
        return _("latest satisfaction %(score).1f / 5") % {"score": value or 0}
    return code


def risk_score(figures: RiskFigures, policy: RiskPolicy) -> RiskResult:
    """Score 0-100: the sum of the weights of the signals past their thresholds."""
    factors: list[Factor] = []
    if figures.consecutive_absences >= policy.absence_streak > 0:
        factors.append(Factor("absences", figures.consecutive_absences, policy.weight_absences))
    if figures.attendance_rate is not None and figures.attendance_rate < policy.attendance_rate:
        factors.append(Factor("attendance", round(figures.attendance_rate, 3),
                              policy.weight_attendance))
    weeks_left = figures.weeks_of_hours_left
    if weeks_left is not None and weeks_left < policy.hours_weeks:
        factors.append(Factor("hours", round(weeks_left, 1), policy.weight_hours))
    days = figures.days_since_interaction
    if days is None or days >= policy.contact_days:
        factors.append(Factor("contact", days, policy.weight_contact))
    if figures.open_complaints > 0:
        factors.append(Factor("open_complaints", figures.open_complaints,
                              policy.weight_open_complaint))
    if figures.overdue_complaints > 0:
        factors.append(Factor("overdue_complaints", figures.overdue_complaints,
                              policy.weight_overdue_complaint))
    sat = figures.latest_satisfaction
    if sat is not None and sat < policy.satisfaction:
        factors.append(Factor("satisfaction", round(sat, 2), policy.weight_satisfaction))
    factors = [f for f in factors if f.points > 0]
    return RiskResult(score=min(100, sum(f.points for f in factors)), factors=factors)


def figures_as_dict(figures: RiskFigures) -> dict:
    """The raw figures for evidence JSON (so a reader can re-check the score)."""
    return asdict(figures)

"""The early-warning risk score (流失预警): a pure function over figures (no ORM).

DOMAIN.md §6 (at-risk): the early-warning model finds disappointed accounts while they
can still be recovered. Each signal that crosses its policy threshold adds its policy
weight (points); the score is capped at 100. Signals that come from one of the two
decision makers (DOMAIN.md §2) are weighted by the account's decision style: in a
student-led family the student's satisfaction counts more, in a parent-led one the
parent's satisfaction and the exam trend (what parents care about most).

One fact counts once: signals that read the same records (a streak of absences, a low
attendance rate, a fall of attendance) add the points of the strongest of them only
(CORRELATED, count_once). A factor is stored as data (code, value, points); its words
are made when it is shown (lifecycle.explain), in the viewer's language.

The figures come from set-based selectors (lifecycle.figures / lifecycle.selectors);
the policy per branch and period from RiskProfile / LifecyclePolicy.
"""
from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field

from .explain import factor_text

STUDENT_LED, PARENT_LED, JOINT = "student_led", "parent_led", "joint"


# slots, not frozen: built for every account every night, and a frozen dataclass's
# __init__ sets each field through object.__setattr__ (several times the cost).
# Treat it as a value all the same: `dataclasses.replace`, never assignment.
@dataclass(slots=True)
class RiskFigures:
    """The signals available now, for one account. None means 'no data'."""

    consecutive_absences: int = 0
    attendance_rate: float | None = None  # present / (present + absent) in the window
    remaining_hours: float = 0.0
    weekly_consumption: float = 0.0  # hours consumed per week over the window
    days_since_interaction: int | None = None  # None: no contact on record
    open_complaints: int = 0
    overdue_complaints: int = 0
    latest_satisfaction: float | None = None  # 1-5, latest survey of anyone (fallback)
    # --- the extended model (issue #4) ---
    attendance_baseline: float | None = None  # the same rate in the earlier baseline window
    student_satisfaction: float | None = None  # 1-5, latest survey the student answered
    parent_satisfaction: float | None = None  # 1-5, latest survey a parent answered
    exam_slope: float | None = None  # percent points per exam over the latest exams
    unpaid_contract_days: int | None = None  # days since signing the oldest underpaid contract
    refund_requests: int = 0  # refunds requested or approved, not yet paid/rejected
    decision_style: str = JOINT

    @property
    def weeks_of_hours_left(self) -> float | None:
        """At the current pace; None when nothing is being consumed (no pace to project)."""
        if self.weekly_consumption <= 0:
            return None
        return max(self.remaining_hours, 0.0) / self.weekly_consumption

    @property
    def attendance_drop(self) -> float | None:
        """How far attendance fell below the account's own baseline (0.3 = 30 points)."""
        if self.attendance_rate is None or self.attendance_baseline is None:
            return None
        return self.attendance_baseline - self.attendance_rate


@dataclass(frozen=True)
class RiskPolicy:
    """Thresholds and weights (points) of each signal; built from RiskProfile/LifecyclePolicy."""

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
    # --- the extended model ---
    attendance_drop: float = 0.2  # a fall of 20 points against the baseline
    weight_attendance_drop: int = 15
    weight_student_satisfaction: int = 20
    weight_parent_satisfaction: int = 20
    exam_slope: float = -3.0  # losing 3 percent points per exam or more
    weight_exam: int = 15
    payment_grace_days: int = 14
    weight_payment: int = 15
    weight_refund: int = 40
    # DOMAIN.md §2: the decider's signals count more, the other side's less.
    decider_factor: float = 1.5
    other_factor: float = 0.5


@dataclass(slots=True)  # a value, but not frozen: see risk.RiskFigures
class Factor:
    """One signal that fired: what, how much, and how many points it added.

    `within`: the code of the correlated signal this one was counted inside (it then adds
    0 points; see CORRELATED)."""

    code: str
    value: float | int | list | None
    points: int
    within: str = ""

    @property
    def text(self) -> str:
        """The human explanation, in the active language (e.g. 连续缺勤 3 次): made by
        lifecycle.explain when shown, never stored."""
        return factor_text(self.code, self.value)

    def as_dict(self) -> dict:
        """The stored form: data only (code, value, points[, within]); no words."""
        out = {"code": self.code, "value": self.value, "points": self.points}
        if self.within:
            out["within"] = self.within
        return out


@dataclass(slots=True)  # a value, but not frozen: see risk.RiskFigures
class RiskResult:
    score: int
    factors: list[Factor] = field(default_factory=list)

    def is_at_risk(self, policy: RiskPolicy) -> bool:
        return self.score >= policy.threshold

    def as_evidence(self, policy: RiskPolicy) -> dict:
        """JSON for a history row: the score, the threshold and the factors that fired."""
        return {"score": self.score, "threshold": policy.threshold,
                "factors": [f.as_dict() for f in self.factors]}


# Signals that read the same facts. Within a group one fact counts once: the group adds
# the points of its strongest signal that fired; the others stay in the explanation
# (counted inside it, 0 points). Attendance: a streak of absences, a low rate in the
# window and a fall against the baseline are all read from the same roll calls (a
# streak of 4 absences *is* a 0% rate over those weeks). Complaints are not grouped: a
# complaint past its deadline is a second fact (we missed our own promise), and the two
# satisfaction signals are already exclusive (per respondent, or one undifferentiated).
CORRELATED: tuple[tuple[str, ...], ...] = (("absences", "attendance", "attendance_drop"),)


def count_once(factors: list[Factor]) -> list[Factor]:
    """Apply CORRELATED: in each group keep the points of the strongest signal (ties go to
    the group's first code), the others are folded into it with 0 points."""
    for group in CORRELATED:
        fired = [f for f in factors if f.code in group and f.points > 0]
        if len(fired) < 2:
            continue
        lead = max(fired, key=lambda f: (f.points, -group.index(f.code)))
        for f in fired:
            if f is not lead:
                f.points, f.within = 0, lead.code
    return factors


def _style_factor(policy: RiskPolicy, style: str, side: str) -> float:
    """Multiplier of a signal from `side` ('student' or 'parent') under a decision style."""
    if style == STUDENT_LED:
        return policy.decider_factor if side == "student" else policy.other_factor
    if style == PARENT_LED:
        return policy.decider_factor if side == "parent" else policy.other_factor
    return 1.0


def risk_score(figures: RiskFigures, policy: RiskPolicy) -> RiskResult:
    """Score 0-100: the sum of the (style-weighted) weights of the signals past their
    thresholds, each fact counted once (CORRELATED: correlated signals add the points
    of the strongest of them only)."""
    factors: list[Factor] = []
    style = figures.decision_style
    if figures.consecutive_absences >= policy.absence_streak > 0:
        factors.append(Factor("absences", figures.consecutive_absences, policy.weight_absences))
    if figures.attendance_rate is not None and figures.attendance_rate < policy.attendance_rate:
        factors.append(Factor("attendance", round(figures.attendance_rate, 3),
                              policy.weight_attendance))
    drop = figures.attendance_drop
    if drop is not None and drop >= policy.attendance_drop > 0:
        factors.append(Factor("attendance_drop", [round(figures.attendance_baseline or 0, 3),
                                                  round(figures.attendance_rate or 0, 3)],
                              policy.weight_attendance_drop))
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
    s_sat, p_sat = figures.student_satisfaction, figures.parent_satisfaction
    if s_sat is None and p_sat is None:
        # Only an undifferentiated figure: the first model's single satisfaction signal.
        sat = figures.latest_satisfaction
        if sat is not None and sat < policy.satisfaction:
            factors.append(Factor("satisfaction", round(sat, 2), policy.weight_satisfaction))
    else:
        if s_sat is not None and s_sat < policy.satisfaction:
            factors.append(Factor("student_satisfaction", round(s_sat, 2), round(
                policy.weight_student_satisfaction * _style_factor(policy, style, "student"))))
        if p_sat is not None and p_sat < policy.satisfaction:
            factors.append(Factor("parent_satisfaction", round(p_sat, 2), round(
                policy.weight_parent_satisfaction * _style_factor(policy, style, "parent"))))
    slope = figures.exam_slope
    if slope is not None and slope <= policy.exam_slope:
        factors.append(Factor("exam_trend", round(slope, 1), round(
            policy.weight_exam * _style_factor(policy, style, "parent"))))
    unpaid = figures.unpaid_contract_days
    overdue = None if unpaid is None else unpaid - policy.payment_grace_days
    if overdue is not None and overdue > 0:
        factors.append(Factor("payment_overdue", overdue, policy.weight_payment))
    if figures.refund_requests > 0:
        factors.append(Factor("refund", figures.refund_requests, policy.weight_refund))
    factors = count_once([f for f in factors if f.points > 0])
    return RiskResult(score=min(100, sum(f.points for f in factors)), factors=factors)


def exam_slope(percents: list[float]) -> float | None:
    """Least-squares slope (points per exam) of exam percents in date order; None below 3."""
    n = len(percents)
    if n < 3:
        return None
    deviations, den = _x_deviations(n)
    mean_y = sum(percents) / n
    return sum([dx * (y - mean_y) for dx, y in zip(deviations, percents, strict=True)]) / den


@functools.lru_cache(maxsize=16)
def _x_deviations(n: int) -> tuple[tuple[float, ...], float]:
    """The exam positions' distances from their mean, and their sum of squares (the same
    for every account with n exams: computed once, not 100,000 times a night)."""
    mean_x = (n - 1) / 2
    deviations = tuple(i - mean_x for i in range(n))
    return deviations, sum(d ** 2 for d in deviations)


def figures_as_dict(figures: RiskFigures) -> dict:
    """The raw figures for evidence JSON (so a reader can re-check the score)."""
    return asdict(figures)

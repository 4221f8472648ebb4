"""An account's scores as its 360° page shows them: value and risk with their reasons, the
risk trend from the stored scores, and the open retention tasks (issue #17).

Only for roles that see scores (crm.permissions.can_see_scores): for front desk and
teachers `score_card` returns None, so nothing of it reaches their page.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils import formats

from crm.permissions import can_see_scores
from students.models import Student

from .explain import Reason, customer_type_label, explain, segment_label
from .models import AccountScore, RetentionTask, RiskState, ScoreHistory
from .retention import tasks_visible_to

TREND_POINTS = 30  # the latest stored scores drawn on the trend chart


@dataclass
class ScoreCard:
    risk: int | None
    risk_week_ago: int | None
    reasons: list[Reason]
    current_value: int | None = None
    potential_value: int | None = None
    segment: str = ""
    segment_label: str = ""
    customer_type: str = ""
    customer_type_label: str = ""
    scored_at: Any = None
    trend: dict[str, list] = field(default_factory=lambda: {"labels": [], "data": []})
    tasks: list[RetentionTask] = field(default_factory=list)

    @property
    def risk_change(self) -> int | None:
        if self.risk is None or self.risk_week_ago is None:
            return None
        return self.risk - self.risk_week_ago


def risk_trend(student: Student, latest: AccountScore | None) -> dict[str, list]:
    """The stored risk scores, oldest first: a ScoreHistory row per run that changed a
    score, and the latest score (one query, bounded)."""
    rows = list(ScoreHistory.objects.filter(student=student, risk__isnull=False)
                .order_by("-scored_at", "-id").values_list("scored_at", "risk")[:TREND_POINTS])
    rows.reverse()
    if latest is not None and latest.risk is not None and (
            not rows or rows[-1][0] < latest.scored_at):
        rows.append((latest.scored_at, latest.risk))
    return {"labels": [formats.date_format(at, "SHORT_DATE_FORMAT") for at, _ in rows],
            "data": [risk for _, risk in rows]}


def score_card(student: Student, *, user: Any) -> ScoreCard | None:
    """The scores block of the 360° page, or None for a role that does not see scores."""
    if not can_see_scores(user):
        return None
    latest = AccountScore.objects.filter(student=student).first()
    state = RiskState.objects.filter(student=student).first()
    if latest is not None:
        card = ScoreCard(
            risk=latest.risk, risk_week_ago=latest.risk_week_ago,
            reasons=explain(latest.risk_factors), current_value=latest.current_value,
            potential_value=latest.potential_value, segment=latest.segment,
            segment_label=segment_label(latest.segment), customer_type=latest.customer_type,
            customer_type_label=customer_type_label(latest.customer_type),
            scored_at=latest.scored_at)
    elif state is not None:
        card = ScoreCard(risk=state.score, risk_week_ago=None, reasons=explain(state.factors),
                         scored_at=state.changed_at)
    else:
        card = ScoreCard(risk=None, risk_week_ago=None, reasons=[])
    card.trend = risk_trend(student, latest)
    card.tasks = list(tasks_visible_to(user).filter(
        student=student, status=RetentionTask.Status.OPEN)
        .select_related("playbook", "target_parent", "assignee").order_by("due_at", "pk"))
    return card

"""Explanations of scores and rule moves, rendered at display time for the viewer (issue #17).

What is stored is data, never sentences: a risk factor is {code, value, points} (plus
`within` when it was counted inside a correlated signal, see lifecycle.risk), a rule move
is a Transition's trigger and evidence. The words are made here, when a page, the API or
an export shows them, in the active language, so a Chinese counselor and an English
manager read the same flag in their own language, a reworded message reaches old rows,
and nothing waits in the database to be leaked.

Viewer-aware: the points and the score are for the roles that see scores
(crm.permissions.can_see_scores). For front desk and teachers a rule move reads as what
happened (e.g. "the early-warning model flagged the account"), without score, threshold
or reasons; the risk card, the lists and the API's score fields are not shown to them
at all (their views check the same permission).

One renderer for every door: the at-risk list, the account page, the task list and
task page, the at-risk export and the API all call the functions below.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from .periods import Phase, phase_of
from .value import Segment

TOP_REASONS = 3


def factor_text(code: str, value: Any) -> str:
    """One risk factor in words (the active language); an unknown code reads as a generic
    signal, never as the code itself."""
    if code == "absences":
        n = int(value or 0)
        return ngettext("%(n)d consecutive absence", "%(n)d consecutive absences", n) % {"n": n}
    if code == "attendance":
        return _("attendance %(pct)d%% in recent weeks") % {"pct": round((value or 0) * 100)}
    if code == "attendance_drop":
        before, now = value if isinstance(value, list | tuple) else (None, value)
        return _("attendance fell from %(before)d%% to %(now)d%%") % {
            "before": round((before or 0) * 100), "now": round((now or 0) * 100)}
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
    if code == "student_satisfaction":
        return _("student's latest satisfaction %(score).1f / 5") % {"score": value or 0}
    if code == "parent_satisfaction":
        return _("parent's latest satisfaction %(score).1f / 5") % {"score": value or 0}
    if code == "exam_trend":
        return _("exam scores falling about %(pts).1f points per exam") % {
            "pts": abs(float(value or 0))}
    if code == "payment_overdue":
        return _("payment overdue by %(days)d days") % {"days": int(value or 0)}
    if code == "refund":
        return _("refund requested")
    return _("another warning signal")


@dataclass(slots=True)
class Reason:
    """A counted factor in words, with the correlated signals counted inside it."""

    code: str
    value: Any
    points: int
    text: str
    also: list[str] = field(default_factory=list)  # the same fact seen by other signals

    @property
    def full_text(self) -> str:
        if not self.also:
            return self.text
        return _("%(reason)s (same fact: %(also)s)") % {"reason": self.text,
                                                        "also": join_list(self.also)}

    def as_api(self) -> dict[str, Any]:
        """What the API gives: the code and value (machine), the points, the words."""
        return {"code": self.code, "value": self.value, "points": self.points,
                "text": self.full_text}


def join_list(texts: Iterable[str]) -> str:
    """Items of one fact, joined the way the language does (", " / "、")."""
    return pgettext("list of items", ", ").join(texts)


def join_reasons(texts: Iterable[str]) -> str:
    """Separate reasons in one line ("; " / "；")."""
    return pgettext("list of reasons", "; ").join(texts)


def _clean(factors: Any) -> list[dict]:
    if not isinstance(factors, list):
        return []
    return [f for f in factors if isinstance(f, dict) and f.get("code")]


def explain(factors: Any, *, limit: int | None = None) -> list[Reason]:
    """The counted factors, most points first, each with the signals folded into it.

    `factors` is the stored list (AccountScore.risk_factors, RiskState.factors, a task's
    or a transition's evidence). Stored rows written before the texts left the database
    may still carry a "text" key: it is ignored, the words are always made here."""
    rows = _clean(factors)
    counted = [f for f in rows if not f.get("within")]
    reasons = {f["code"]: Reason(code=f["code"], value=f.get("value"),
                                 points=int(f.get("points") or 0),
                                 text=factor_text(f["code"], f.get("value")))
               for f in counted}
    for f in rows:
        lead = reasons.get(f.get("within") or "")
        if lead is not None:
            lead.also.append(factor_text(f["code"], f.get("value")))
    ordered = sorted(reasons.values(), key=lambda r: -r.points)
    return ordered[:limit] if limit is not None else ordered


def reason_texts(factors: Any, n: int = TOP_REASONS) -> list[str]:
    """The words of the n factors that added the most points (list pages, exports)."""
    return [r.full_text for r in explain(factors, limit=n)]


def factors_for_api(factors: Any) -> list[dict[str, Any]]:
    return [r.as_api() for r in explain(factors)]


# --- labels -------------------------------------------------------------------------------

def segment_label(code: str | None) -> str:
    return str(Segment(code).label) if code in Segment.values else ""


def customer_type_label(code: str | None) -> str:
    """'core.maintenance' -> 'Core customers · Maintenance' (DOMAIN.md §5: segment x phase)."""
    if not code or "." not in code:
        return ""
    segment, phase = code.split(".", 1)
    if segment not in Segment.values or phase not in Phase.values:
        return ""
    return _("%(segment)s · %(phase)s") % {"segment": Segment(segment).label,
                                           "phase": Phase(phase).label}


def phase_label(period: str) -> str:
    return str(Phase(phase_of(period)).label)


# --- rule moves -----------------------------------------------------------------------------

def rule_reason(trigger: str, evidence: Any, *, scores: bool) -> str | None:
    """The words of a rule's move from its trigger and evidence, for a viewer who sees
    scores (`scores`) or not. None: a trigger whose words are the person's own (manual)
    or whose evidence says too little (the stored reason is shown then)."""
    ev = evidence if isinstance(evidence, dict) else {}
    if trigger == "risk":
        if not scores:
            return _("The early-warning model flagged the account.")
        score, threshold = int(ev.get("score") or 0), int(ev.get("threshold") or 0)
        figures = {"score": score, "threshold": threshold}
        # "Reached" only when it did: a move recorded with its evidence but decided
        # otherwise (an imported or replayed history) states the figures, no claim.
        head = (_("Risk score %(score)d reached the threshold %(threshold)d.") % figures
                if score >= threshold else
                _("Risk score %(score)d (threshold %(threshold)d).") % figures)
        texts = reason_texts(ev.get("factors"))
        return _("%(head)s Why: %(reasons)s") % {"head": head,
                                                  "reasons": join_reasons(texts)
                                                  } if texts else head
    if trigger == "risk_cleared":
        days = ev.get("clear_days")
        if days is None:
            return _("The early-warning signals cleared.")
        return _("Risk clear for %(days)d days.") % {"days": int(days)}
    if trigger == "first_purchase":
        return _("First paid contract.")
    if trigger == "refund":
        return _("A refund was requested.")
    if trigger == "cancellation":
        return _("Contract cancelled or refunded and no other active contract.")
    if trigger == "expiry":
        return _("All contracts expired or used up, no renewal.")
    if trigger == "renewal":
        return _("Renewal or second purchase.")
    if trigger == "win_back":
        return _("New paid contract after the termination.")
    if trigger == "steady_attendance" and "weeks" in ev and "attendance_rate" in ev:
        return _("%(weeks)d weeks with attendance %(pct)d%%.") % {
            "weeks": int(ev["weeks"]), "pct": round(float(ev["attendance_rate"]) * 100)}
    if trigger == "maturity" and {"tenure_days", "renewals", "satisfaction"} <= set(ev):
        return _("%(days)d days as a customer, %(renewals)d renewals, "
                 "satisfaction %(sat).1f.") % {"days": int(ev["tenure_days"]),
                                              "renewals": int(ev["renewals"]),
                                              "sat": float(ev["satisfaction"])}
    if trigger == "lapse" and "days_without_contract" in ev:
        return _("No active contract for %(days)d days.") % {
            "days": int(ev["days_without_contract"])}
    return None


def transition_reason(transition: Any, *, scores: bool) -> str:
    """Why an account moved, for this viewer: a rule's move in words made now (never the
    stored sentence for a risk move, which older rows wrote with the score in it); a
    person's move in their own words."""
    trigger = getattr(transition, "trigger", "")
    text = rule_reason(trigger, getattr(transition, "evidence", None), scores=scores)
    return text if text is not None else (getattr(transition, "reason", "") or "")


def with_reasons(transitions: Iterable[Any], *, scores: bool) -> list[Any]:
    """The timeline's rows, each with `reason_shown` for this viewer (and no evidence
    for a viewer who does not see scores: the figures behind a rule are scores)."""
    rows = list(transitions)
    for row in rows:
        row.reason_shown = transition_reason(row, scores=scores)
        if not scores:
            row.evidence = {}
    return rows

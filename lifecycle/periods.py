"""The seven lifecycle periods (DOMAIN.md §4) and the phase each belongs to.

This module is plain Python so that models, scoring and tests can import it
without touching the ORM. The allowed-transition table lives here too, in one
place, once the lifecycle engine uses it.
"""
from django.db import models
from django.utils.translation import gettext_lazy as _


class Period(models.TextChoices):
    PROSPECTING = "prospecting", _("Prospecting (开拓期)")
    SOCIALIZATION = "socialization", _("Socialization (社会化期)")
    GROWTH = "growth", _("Growth (成长期)")
    MATURITY = "maturity", _("Maturity (成熟期)")
    AT_RISK = "at_risk", _("At risk (危险期)")
    TERMINATION = "termination", _("Termination (解约期)")
    LAPSED = "lapsed", _("Lapsed (中断期)")


class Phase(models.TextChoices):
    EXPECTED = "expected", _("Expected (预期)")
    MAINTENANCE = "maintenance", _("Maintenance (维系)")
    RECOVERY = "recovery", _("Recovery (恢复)")


PHASE_OF: dict[str, str] = {
    Period.PROSPECTING: Phase.EXPECTED,
    Period.SOCIALIZATION: Phase.MAINTENANCE,
    Period.GROWTH: Phase.MAINTENANCE,
    Period.MATURITY: Phase.MAINTENANCE,
    Period.AT_RISK: Phase.MAINTENANCE,
    Period.TERMINATION: Phase.RECOVERY,
    Period.LAPSED: Phase.RECOVERY,
}


def phase_of(period: str) -> str:
    """DOMAIN.md §4: the phase is derived from the period, never stored separately."""
    return PHASE_OF[period]


# DOMAIN.md §4: the one table of allowed moves. Every door (ORM service, admin, API,
# scan) checks it through `is_allowed`; nothing else decides what may follow what.
# Leaving at_risk for a maintenance period is further limited by the service to the
# period the account came from (Student.previous_period).
MAINTENANCE_PERIODS: frozenset[str] = frozenset(
    {Period.SOCIALIZATION, Period.GROWTH, Period.MATURITY, Period.AT_RISK}
)
ENDED_PERIODS: frozenset[str] = frozenset({Period.TERMINATION, Period.LAPSED})

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    # the first paid contract
    Period.PROSPECTING: frozenset({Period.SOCIALIZATION}),
    Period.SOCIALIZATION: frozenset({Period.GROWTH, Period.AT_RISK, Period.TERMINATION}),
    Period.GROWTH: frozenset({Period.MATURITY, Period.AT_RISK, Period.TERMINATION}),
    Period.MATURITY: frozenset({Period.AT_RISK, Period.TERMINATION}),
    # recovery back where it came from, or the end
    Period.AT_RISK: frozenset(
        {Period.SOCIALIZATION, Period.GROWTH, Period.MATURITY, Period.TERMINATION}
    ),
    Period.TERMINATION: frozenset({Period.LAPSED, Period.SOCIALIZATION}),
    # a won-back customer starts again in socialization
    Period.LAPSED: frozenset({Period.SOCIALIZATION}),
}


def is_allowed(from_period: str, to_period: str) -> bool:
    """True when the table lets `from_period` be followed by `to_period` (never itself)."""
    return to_period in ALLOWED_TRANSITIONS.get(from_period, frozenset())


def allowed_targets(from_period: str, previous_period: str = "") -> list[str]:
    """Legal next periods for an account, in the table's order of the seven.

    From at_risk only the remembered period (and termination) are offered, the same
    limit the service enforces.
    """
    targets = ALLOWED_TRANSITIONS.get(from_period, frozenset())
    if from_period == Period.AT_RISK:
        targets = frozenset(
            t for t in targets if t == Period.TERMINATION or t == previous_period
        )
    return [p for p in Period.values if p in targets]


def is_win_back(from_period: str, to_period: str) -> bool:
    """A move out of the recovery phase back into socialization is a won-back customer."""
    return from_period in ENDED_PERIODS and to_period == Period.SOCIALIZATION


class Pattern(models.TextChoices):
    """DOMAIN.md §4: the lifecycle pattern of a relationship (four-stage theory)."""

    EARLY_ABORT = "I", _("I early abort (早期流产型)")
    MID_WAY = "II", _("II mid-way (半途夭折型)")
    EARLY_EXIT = "III", _("III early exit (提前退出型)")
    LONG_TERM = "IV", _("IV long-term (长久保持型)")


def pattern_of(visited: list[str] | tuple[str, ...]) -> str | None:
    """Classify a relationship from the periods it visited, in order (last = current).

    Only the latest relationship counts: a win-back (termination/lapsed -> socialization)
    starts a new one. Ended (termination/lapsed) after maturity is III, after growth II,
    otherwise I. Not ended but reached maturity is IV (kept in stability; an at-risk
    spell after maturity has not left yet). Anything else is still open: None.
    """
    if not visited:
        return None
    start = 0
    for i in range(1, len(visited)):
        if is_win_back(visited[i - 1], visited[i]):
            start = i
    episode = visited[start:]
    reached_maturity = Period.MATURITY in episode
    reached_growth = reached_maturity or Period.GROWTH in episode
    if episode[-1] in ENDED_PERIODS:
        if reached_maturity:
            return Pattern.EARLY_EXIT
        if reached_growth:
            return Pattern.MID_WAY
        return Pattern.EARLY_ABORT
    if reached_maturity:
        return Pattern.LONG_TERM
    return None

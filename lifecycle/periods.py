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

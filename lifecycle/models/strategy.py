"""What to do with each of the 12 customer types (DOMAIN.md §5: "strategy is chosen per
type, not one for all"): a strategy and its recommended actions, per institution with an
optional branch override. Edited by managers through lifecycle.strategies only."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ..value import CUSTOMER_TYPES

MAX_STRATEGY = 1000
MAX_ACTIONS = 2000


class TypeStrategy(models.Model):
    """The playbook of one customer type: the institution's (branch empty) or a branch's,
    which replaces the institution's for that branch's accounts."""

    branch = models.ForeignKey("crm.Branch", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="type_strategies", verbose_name=_("branch"),
                               help_text=_("Empty: the institution-wide default."),
                               db_index=False)  # (branch, customer_type) leads with it
    customer_type = models.CharField(_("customer type"), max_length=24,
                                     choices=[(t, t) for t in CUSTOMER_TYPES])
    strategy_zh = models.TextField(_("strategy (Chinese)"), max_length=MAX_STRATEGY)
    strategy_en = models.TextField(_("strategy (English)"), max_length=MAX_STRATEGY,
                                   blank=True)
    actions_zh = models.TextField(_("recommended actions (Chinese), one per line"),
                                  max_length=MAX_ACTIONS, blank=True)
    actions_en = models.TextField(_("recommended actions (English), one per line"),
                                  max_length=MAX_ACTIONS, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("updated by"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("customer type strategy")
        verbose_name_plural = _("customer type strategies")
        ordering = ["customer_type"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "customer_type"],
                                    name="type_strategy_once_per_branch"),
            models.UniqueConstraint(fields=["customer_type"], condition=Q(branch__isnull=True),
                                    name="type_strategy_default_once"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_type} ({self.branch_id or '-'})"

    def _zh(self) -> bool:
        return (translation.get_language() or "").startswith("zh")

    @property
    def strategy(self) -> str:
        """In the viewer's language; the Chinese text when no English one was written."""
        return self.strategy_zh if self._zh() or not self.strategy_en else self.strategy_en

    @property
    def actions(self) -> list[str]:
        text = self.actions_zh if self._zh() or not self.actions_en.strip() else self.actions_en
        return [line.strip(" -•\t") for line in text.splitlines() if line.strip(" -•\t")]

"""Branch policy for contracts and lesson hours: prepayment caps, consumption, refunds, notices.

One row with an empty branch is the institution default; a branch row overrides it
for that branch. Without any row the built-in defaults apply (no caps, block
lessons without hours, absence consumes nothing), so a fresh install behaves as
the ledger did before policies existed.
"""
from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class ContractPolicy(models.Model):
    class Shortfall(models.TextChoices):
        BLOCK = "block", _("Block the lesson (roll call is refused)")
        OWE = "owe", _("Let the family owe hours (balance goes negative, flagged)")

    branch = models.OneToOneField(
        "crm.Branch", on_delete=models.CASCADE, null=True, blank=True,
        related_name="contract_policy", verbose_name=_("branch"),
        help_text=_("Empty: the institution default, used by branches without their own row."),
    )
    # Prepayment caps (many cities: at most 3 months or 60 lesson hours collected in advance).
    max_prepaid_hours = models.DecimalField(
        _("max hours per contract"), max_digits=7, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("Empty: no cap. Example: 60."))
    max_prepaid_months = models.PositiveSmallIntegerField(
        _("max months per contract"), null=True, blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Longest validity a contract may prepay, in calendar months. "
                    "Empty: no cap. Example: 3."))
    renewal_threshold_hours = models.DecimalField(
        _("renew only below (hours)"), max_digits=7, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("A renewal may be signed only when the student's remaining hours are "
                    "below this. Empty: any time."))
    # Consumption.
    shortfall = models.CharField(_("lesson without enough hours"), max_length=5,
                                 choices=Shortfall.choices, default=Shortfall.BLOCK)
    absence_consumes = models.BooleanField(_("absence consumes hours"), default=False)
    # Renewal warnings and expiry.
    low_balance_hours = models.DecimalField(
        _("low balance below (hours)"), max_digits=7, decimal_places=2, default=Decimal("5"),
        validators=[MinValueValidator(Decimal("0"))])
    expiring_within_days = models.PositiveSmallIntegerField(
        _("expiring-soon window (days)"), default=30)
    expiry_grace_days = models.PositiveSmallIntegerField(
        _("grace days after validity"), default=0,
        help_text=_("Hours expire this many days after the contract's last valid day."))
    # Refunds.
    refund_setup_fee = models.DecimalField(
        _("refund set-up fee"), max_digits=10, decimal_places=2, default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Deducted from every refund (materials, enrolment)."))
    # Complaints (DOMAIN.md §1: every problem has an owner and a deadline).
    complaint_sla_hours = models.PositiveSmallIntegerField(
        _("resolve complaints within (hours)"), default=48,
        validators=[MinValueValidator(1)],
        help_text=_("A new complaint's resolve-by time is this many hours after it was "
                    "raised."))
    # Notices.
    message_daily_limit = models.PositiveSmallIntegerField(
        _("messages per parent per day"), default=5,
        help_text=_("Further notices that day are logged as rate-limited, not sent."))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("contract policy")
        verbose_name_plural = _("contract policies")
        constraints = [
            # One institution default: NULLs are distinct in a plain unique index, so the
            # index is on COALESCE(branch_id, 0).
            models.UniqueConstraint(Coalesce("branch", Value(0)),
                                    name="contract_policy_one_per_branch",
                                    violation_error_message=_("There is already a policy for "
                                                              "this branch (or an institution "
                                                              "default).")),
            models.CheckConstraint(condition=Q(max_prepaid_hours__isnull=True)
                                   | Q(max_prepaid_hours__gt=0),
                                   name="contract_policy_hours_cap_positive"),
            models.CheckConstraint(condition=Q(refund_setup_fee__gte=0),
                                   name="contract_policy_fee_not_negative"),
        ]

    def __str__(self) -> str:
        return str(self.branch) if self.branch_id else str(_("Institution default"))

    def clean(self) -> None:
        if (self.renewal_threshold_hours is not None and self.max_prepaid_hours is not None
                and self.renewal_threshold_hours > self.max_prepaid_hours):
            raise ValidationError({"renewal_threshold_hours": _(
                "The renewal threshold cannot exceed the hours cap per contract.")})

    @classmethod
    def for_branch(cls, branch: object | None) -> ContractPolicy:
        """The branch's row, else the institution default, else the built-in defaults."""
        branch_id = getattr(branch, "pk", branch)
        rows = {p.branch_id: p for p in cls.objects.filter(
            Q(branch__isnull=True) | Q(branch_id=branch_id))}
        return rows.get(branch_id) or rows.get(None) or cls()

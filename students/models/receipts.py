"""Receipts (收据) and the per-branch number sequences they and contracts draw from.

A receipt number must never skip (auditors and tax offices count them): the counter row
is locked and advanced inside the payment's own transaction, so a rolled-back payment
gives its number back and two desks never print the same number.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class NumberSequence(models.Model):
    """The last number issued per (branch, kind); advanced only under a row lock."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("Receipt")
        CONTRACT = "contract", _("Contract")

    # The unique (branch, kind) index leads with the branch: no index of its own.
    branch = models.ForeignKey("crm.Branch", on_delete=models.CASCADE, related_name="+",
                               verbose_name=_("branch"), db_index=False)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    last = models.PositiveIntegerField(_("last number issued"), default=0)

    class Meta:
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")
        constraints = [models.UniqueConstraint(fields=["branch", "kind"],
                                               name="number_sequence_one_per_branch_kind")]

    def __str__(self) -> str:
        return f"{self.branch} {self.get_kind_display()} {self.last}"


class Receipt(models.Model):
    """The printed proof of one payment; numbered per branch without gaps."""

    # The unique (branch, seq) index leads with the branch: no index of its own.
    branch = models.ForeignKey("crm.Branch", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("branch"), db_index=False)
    seq = models.PositiveIntegerField(_("sequence number"))
    number = models.CharField(_("receipt number"), max_length=40, unique=True)
    payment = models.OneToOneField("students.Payment", on_delete=models.PROTECT,
                                   related_name="receipt", verbose_name=_("payment"))
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                  null=True, blank=True, related_name="+",
                                  verbose_name=_("issued by"))

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "seq"], name="receipt_seq_per_branch"),
            models.CheckConstraint(condition=Q(seq__gt=0), name="receipt_seq_positive"),
        ]

    def __str__(self) -> str:
        return self.number

"""Refund retention attempts (挽单) and transfers of remaining hours (结转/转班)."""
from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class RetentionAttempt(models.Model):
    """A save attempt opened by every refund request, owned by the student's counselor.

    DOMAIN.md §6 (termination): still possible to win back, so a refund is not just
    paperwork; the outcome feeds the churn analysis.
    """

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Pending")
        SAVED = "saved", _("Saved (family stays)")
        LOST = "lost", _("Lost (refund goes ahead)")

    refund = models.OneToOneField("students.Refund", on_delete=models.CASCADE,
                                  related_name="retention_attempt", verbose_name=_("refund"))
    student = models.ForeignKey("students.Student", on_delete=models.CASCADE,
                                related_name="retention_attempts", verbose_name=_("student"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="retention_attempts",
                              verbose_name=_("owner"))
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices,
                               default=Outcome.PENDING, db_index=True)
    note = models.TextField(_("note"), blank=True)
    opened_at = models.DateTimeField(_("opened at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("retention attempt")
        verbose_name_plural = _("retention attempts")
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return f"{self.student} {self.get_outcome_display()}"


class Transfer(models.Model):
    """Remaining hours moved to another course / class group or to a sibling.

    Value-preserving: the remaining paid hours' value buys hours at the target price;
    remaining gifted hours move one for one. Requested, then approved by a manager.
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    source = models.ForeignKey("students.Contract", on_delete=models.PROTECT,
                               related_name="transfers_out", verbose_name=_("from contract"))
    target_student = models.ForeignKey("students.Student", on_delete=models.PROTECT,
                                       related_name="transfers_in",
                                       verbose_name=_("to student"))
    target_course = models.ForeignKey("students.Course", on_delete=models.PROTECT,
                                      related_name="+", verbose_name=_("to course"))
    target_class_group = models.ForeignKey("students.ClassGroup", on_delete=models.SET_NULL,
                                           null=True, blank=True, related_name="+",
                                           verbose_name=_("to class group"))
    target_contract = models.ForeignKey("students.Contract", on_delete=models.PROTECT,
                                        null=True, blank=True, related_name="transfers_in",
                                        verbose_name=_("to contract"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.REQUESTED, db_index=True)
    reason = models.TextField(_("reason"), blank=True)
    hours_out = models.DecimalField(_("hours out"), max_digits=7, decimal_places=2,
                                    default=Decimal("0"))
    hours_in = models.DecimalField(_("hours in"), max_digits=7, decimal_places=2,
                                   default=Decimal("0"))
    value = models.DecimalField(_("value moved"), max_digits=10, decimal_places=2,
                                default=Decimal("0"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("requested by"))
    requested_at = models.DateTimeField(_("requested at"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(fields=["source"], condition=Q(status="requested"),
                                    name="transfer_one_open_request_per_contract",
                                    violation_error_message=_("A transfer of this contract is "
                                                              "already requested.")),
            models.CheckConstraint(condition=Q(hours_out__gte=0) & Q(hours_in__gte=0)
                                   & Q(value__gte=0), name="transfer_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.source} → {self.target_student} ({self.get_status_display()})"

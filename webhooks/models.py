"""Outbound webhooks: who wants which events (subscriptions) and each event's delivery.

A delivery row is the unit of work and of proof: it is created once per (subscription,
event) (a unique key, so an event emitted twice is delivered once), then the Celery task
POSTs it, counts attempts and records the last answer.
"""
from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    LIFECYCLE_TRANSITION = "lifecycle.transition", _("Lifecycle period change")
    RISK_FLAGGED = "risk.flagged", _("New at-risk flag")


def new_secret() -> str:
    """The signing key a receiver uses to verify X-CRM-Signature (shown once on creation)."""
    return secrets.token_hex(32)


class WebhookSubscription(models.Model):
    """An integrator's endpoint for some event types, for one branch or (head office) all."""

    branch = models.ForeignKey(
        "crm.Branch", on_delete=models.CASCADE, null=True, blank=True,
        related_name="webhook_subscriptions", verbose_name=_("branch"),
        help_text=_("Events of this branch only; empty (head office only): every branch."))
    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=128, default=new_secret)
    event_types = models.JSONField(_("event types"), default=list)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """The admin's checks (the API serializer checks the same)."""
        from .services import check_url

        types = self.event_types
        if (not isinstance(types, list) or not types
                or any(t not in EventType.values for t in types)):
            raise ValidationError({"event_types": _("Choose one or more of: %(types)s.")
                                   % {"types": ", ".join(EventType.values)}})
        if self.url:
            check_url(self.url)

    def wants(self, event_type: str, branch_id: int | None) -> bool:
        return (self.is_active and event_type in (self.event_types or [])
                and (self.branch_id is None or self.branch_id == branch_id))


class WebhookDelivery(models.Model):
    """One event for one subscription: its payload, attempts and outcome."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE,
                                     related_name="deliveries",
                                     verbose_name=_("subscription"), db_index=False)
    event_id = models.CharField(_("event id"), max_length=100)
    event_type = models.CharField(_("event type"), max_length=40, choices=EventType.choices)
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    response_code = models.PositiveSmallIntegerField(_("response code"), null=True,
                                                     blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event_id"],
                                    name="webhook_delivery_once_per_event"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.subscription} ({self.status})"

"""Outbound notices to parents: one MessageLog row per (notice, guardian), whatever happens.

Skipped (no consent) and rate-limited notices are logged too, so staff can see why a
family did not hear from us.
"""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class MessageChannel(models.TextChoices):
    # The same codes as parents.ContactConsent.Channel, so consent looks up directly.
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    EMAIL = "email", _("Email")


class MessageLog(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED_NO_CONSENT = "skipped_no_consent", _("Skipped: no consent")
        RATE_LIMITED = "rate_limited", _("Rate-limited")

    parent = models.ForeignKey("parents.Parent", on_delete=models.CASCADE,
                               related_name="messages", verbose_name=_("parent"), db_index=False)
    guardianship = models.ForeignKey("parents.Guardianship", on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("as guardian of"))
    student = models.ForeignKey("students.Student", on_delete=models.CASCADE, null=True,
                                blank=True, related_name="messages",
                                verbose_name=_("about student"))
    channel = models.CharField(_("channel"), max_length=10, choices=MessageChannel.choices,
                               blank=True)
    address = models.CharField(_("address"), max_length=100, blank=True)
    template_code = models.CharField(_("template"), max_length=40, db_index=True)
    context = models.JSONField(_("context"), default=dict, blank=True)
    text = models.TextField(_("rendered text"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices,
                              default=Status.QUEUED, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("last error"), blank=True)
    provider_id = models.CharField(_("provider message id"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("message log")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["parent", "created_at"])]

    def __str__(self) -> str:
        return f"{self.parent} {self.template_code} {self.get_status_display()}"


class ChannelPreference(models.Model):
    """The channel a parent prefers for notices (consent is still required on it)."""

    parent = models.OneToOneField("parents.Parent", on_delete=models.CASCADE,
                                  related_name="channel_preference", verbose_name=_("parent"))
    channel = models.CharField(_("preferred channel"), max_length=10,
                               choices=MessageChannel.choices)

    class Meta:
        verbose_name = _("channel preference")
        verbose_name_plural = _("channel preferences")

    def __str__(self) -> str:
        return f"{self.parent}: {self.get_channel_display()}"

"""Cross-cutting core: branches, staff profiles (role + branch) and the audit log."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .roles import Role


class Branch(models.Model):
    """A campus (校区/分部) of the chain; every account belongs to exactly one."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    city = models.CharField(_("city"), max_length=50, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class StaffProfile(models.Model):
    """Binds a login to a role and a branch; head office has no branch (sees all)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, null=True, blank=True, related_name="staff",
        verbose_name=_("branch"),
    )
    display_name = models.CharField(_("display name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")
        constraints = [
            # Everyone but head office works in one branch; scoping depends on it.
            models.CheckConstraint(
                condition=models.Q(role=Role.HEAD_OFFICE) | models.Q(branch__isnull=False),
                name="staff_branch_required_unless_head_office",
                violation_error_message=_("Every role except head office needs a branch."),
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.user.get_username()


class AuditLog(models.Model):
    """Sensitive actions (merges, exports, consent changes): who did what, when, to what."""

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("actor"),
    )
    action = models.CharField(_("action"), max_length=50, db_index=True)
    object_type = models.CharField(_("object type"), max_length=50)
    object_id = models.CharField(_("object id"), max_length=50, blank=True)
    branch = models.ForeignKey(
        Branch, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("branch"),
    )
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"


class IdempotencyKey(models.Model):
    """A POST the API already answered: a retry with the same key replays the answer.

    Written by crm.api.idempotency in the same transaction as the create it guards, so
    a key exists exactly when the object does. Keys are per user and per endpoint.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+", verbose_name=_("user"), db_index=False)
    key = models.CharField(_("key"), max_length=100)
    endpoint = models.CharField(_("endpoint"), max_length=200)
    request_hash = models.CharField(_("request hash"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status code"))
    response_body = models.JSONField(_("response body"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["user", "key", "endpoint"],
                                    name="idempotency_key_once_per_user_endpoint"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.endpoint}"

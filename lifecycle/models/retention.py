"""Playbooks (what to do per period and value segment) and the counselors' task queue."""
from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ..periods import Period
from ..value import Segment


class Playbook(models.Model):
    """DOMAIN.md §6 as data: when an account in `period` (and `segment`) needs an action.

    The nightly job opens a RetentionTask per matching account, at most one open per
    account and playbook, and not again within `cooldown_days` of the last one closed.
    A branch row with the same code replaces the default row for that branch.
    """

    class Condition(models.TextChoices):
        IN_PERIOD = "in_period", _("Whenever the account is in the period")
        FIRST_LESSON = "first_lesson", _("After the first lesson attended in the period")
        HOURS_LEFT = "hours_left", _("When the weeks of hours left fall to the value")
        AT_RISK_SCORE = "risk_at_least", _("When the risk score reaches the value")

    class Assignee(models.TextChoices):
        COUNSELOR = "counselor", _("The account's counselor (else the branch manager)")
        MANAGER = "manager", _("The branch manager")

    class Due(models.TextChoices):
        HOURS = "hours", _("Within the given hours")
        NEXT_TERM = "next_term", _("At the next term start or after exams")

    code = models.SlugField(_("code"), max_length=40, db_index=False)
    branch = models.ForeignKey("crm.Branch", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="playbooks", verbose_name=_("branch"),
                               help_text=_("Empty: the institution-wide default."))
    period = models.CharField(_("period"), max_length=20, choices=Period.choices)
    segment = models.CharField(_("value segment"), max_length=10, choices=Segment.choices,
                               blank=True, help_text=_("Empty: every segment."))
    condition = models.CharField(_("condition"), max_length=20, choices=Condition.choices,
                                 default=Condition.IN_PERIOD)
    condition_value = models.DecimalField(_("condition value"), max_digits=6, decimal_places=1,
                                          null=True, blank=True)
    assignee = models.CharField(_("assigned to"), max_length=10, choices=Assignee.choices,
                                default=Assignee.COUNSELOR)
    due = models.CharField(_("due"), max_length=10, choices=Due.choices, default=Due.HOURS)
    due_hours = models.PositiveIntegerField(_("hours to do it in"), default=72,
                                            validators=[MaxValueValidator(24 * 365)])
    cooldown_days = models.PositiveIntegerField(
        _("days before it may fire again after a task was closed"), default=30,
        validators=[MaxValueValidator(3650)])
    priority = models.PositiveSmallIntegerField(
        _("base priority (0-100)"), default=50,
        validators=[MinValueValidator(0), MaxValueValidator(100)])
    title_zh = models.CharField(_("title (Chinese)"), max_length=120)
    title_en = models.CharField(_("title (English)"), max_length=120)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("retention playbook")
        verbose_name_plural = _("retention playbooks")
        ordering = ["period", "segment", "code"]
        constraints = [
            models.UniqueConstraint(fields=["code", "branch"], name="playbook_code_per_branch",
                                    violation_error_message=_("This branch already has a "
                                                              "playbook with this code.")),
            models.UniqueConstraint(Coalesce("branch", Value(0)), "code",
                                    condition=Q(branch__isnull=True),
                                    name="playbook_code_default_once",
                                    violation_error_message=_("There is already a default "
                                                              "playbook with this code.")),
            models.CheckConstraint(
                condition=(Q(condition__in=["in_period", "first_lesson"])
                           | Q(condition_value__isnull=False)),
                name="playbook_condition_value_when_needed",
                violation_error_message=_("This condition needs a value.")),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        lang = translation.get_language() or ""
        return self.title_zh if lang.startswith("zh") else self.title_en

    @property
    def description(self) -> str:
        lang = translation.get_language() or ""
        return self.description_zh if lang.startswith("zh") else self.description_en


class RetentionTask(models.Model):
    """One action for one account in a counselor's queue (DOMAIN.md §6, §8)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        SKIPPED = "skipped", _("Skipped")

    class Target(models.TextChoices):
        STUDENT = "student", _("The student")
        PARENT = "parent", _("The deciding parent")
        BOTH = "both", _("Student and primary parent")

    student = models.ForeignKey("students.Student", on_delete=models.CASCADE,
                                related_name="retention_tasks", verbose_name=_("student"),
                                db_index=False)
    branch = models.ForeignKey("crm.Branch", on_delete=models.CASCADE, related_name="+",
                               verbose_name=_("branch"), db_index=False)
    playbook = models.ForeignKey(Playbook, on_delete=models.PROTECT, related_name="tasks",
                                 verbose_name=_("playbook"))
    target = models.CharField(_("talk to"), max_length=10, choices=Target.choices)
    target_parent = models.ForeignKey("parents.Parent", on_delete=models.SET_NULL, null=True,
                                      blank=True, related_name="+",
                                      verbose_name=_("parent to talk to"))
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="retention_tasks",
                                 verbose_name=_("assigned to"), db_index=False)
    priority = models.PositiveSmallIntegerField(_("priority (0-100)"), default=50)
    due_at = models.DateTimeField(_("due"), db_index=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.OPEN)
    snoozed_until = models.DateField(_("snoozed until"), null=True, blank=True)
    snooze_reason = models.CharField(_("snooze reason"), max_length=200, blank=True)
    skip_reason = models.CharField(_("skip reason"), max_length=200, blank=True)
    outcome = models.TextField(_("outcome notes"), blank=True)
    evidence = models.JSONField(_("why (scores at creation)"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                  null=True, blank=True, related_name="+",
                                  verbose_name=_("closed by"))
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    escalated_to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("escalated to"))
    scan_run = models.ForeignKey("lifecycle.ScanRun", on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="tasks", verbose_name=_("scan run"))

    class Meta:
        verbose_name = _("retention task")
        verbose_name_plural = _("retention tasks")
        ordering = ["status", "-priority", "due_at", "id"]
        constraints = [
            # The dedup key: a rule that keeps firing never opens a second task.
            models.UniqueConstraint(fields=["student", "playbook"], condition=Q(status="open"),
                                    name="one_open_task_per_playbook",
                                    violation_error_message=_("This account already has an "
                                                              "open task of this playbook.")),
            models.CheckConstraint(condition=~Q(status="skipped") | ~Q(skip_reason=""),
                                   name="task_skip_needs_reason",
                                   violation_error_message=_("Say why the task is skipped.")),
            models.CheckConstraint(condition=Q(status="open") | Q(closed_at__isnull=False),
                                   name="task_closed_has_closed_at"),
        ]
        indexes = [
            models.Index(fields=["assignee", "status", "due_at"]),
            models.Index(fields=["branch", "status", "due_at"]),
            models.Index(fields=["student", "playbook", "closed_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.playbook} · {self.student}"

    @property
    def is_overdue(self) -> bool:
        return self.status == self.Status.OPEN and self.due_at < timezone.now()

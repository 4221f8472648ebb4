from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm.text import pinyin_keys
from crm.validators import plausible_date
from lifecycle.periods import Period, phase_of
from students.choices import DecisionStyle, Gender, Grade, LearningStyle

# Grades whose pupils are (almost) all under 14: used when the birth date is unknown.
UNDER_14_GRADES = {"P1", "P2", "P3", "P4", "P5", "P6", "J1", "J2"}


class Student(models.Model):
    """The account: the student who attends (DOMAIN.md §2-§3).

    `period`/`previous_period` are written only by the lifecycle services.
    """

    branch = models.ForeignKey(
        "crm.Branch", on_delete=models.PROTECT, related_name="students", verbose_name=_("branch"),
        db_index=False,  # (branch, period) leads with it
    )
    counselor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="caseload", verbose_name=_("counselor"),
        db_index=False,  # (counselor, period) leads with it
    )
    # basic
    # The previous system's student number (学员编号): imports of contracts, attendance,
    # visits... name the student by it. Unique per branch; blank when there was none.
    external_id = models.CharField(_("student number (previous system)"), max_length=40,
                                   blank=True, default="")
    name_zh = models.CharField(_("Chinese name"), max_length=50)
    name_en = models.CharField(_("English name"), max_length=80, blank=True)
    name_pinyin = models.CharField(_("pinyin"), max_length=200, blank=True, editable=False,
                                   db_index=True)
    name_initials = models.CharField(_("initials"), max_length=50, blank=True, editable=False,
                                     db_index=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices,
                              default=Gender.UNKNOWN)
    birth_date = models.DateField(_("birth date"), null=True, blank=True,
                                  validators=[plausible_date])
    school = models.CharField(_("school"), max_length=100, blank=True)
    grade = models.CharField(_("grade"), max_length=2, choices=Grade.choices)
    # background
    family_situation = models.TextField(_("family situation"), blank=True)
    goals = models.TextField(_("learning goals"), blank=True)
    target_university = models.CharField(_("target university"), max_length=100, blank=True)
    source = models.ForeignKey(
        "marketing.Channel", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="students", verbose_name=_("source (how they heard of us)"),
    )
    source_detail = models.CharField(_("source detail / referrer"), max_length=200, blank=True)
    # characteristic
    decision_style = models.CharField(_("decision style"), max_length=20,
                                      choices=DecisionStyle.choices, default=DecisionStyle.JOINT)
    personality = models.TextField(_("personality"), blank=True)
    learning_style = models.CharField(_("learning style"), max_length=20,
                                      choices=LearningStyle.choices, blank=True,
                                      default=LearningStyle.UNKNOWN)
    preferences = models.TextField(_("preferences (teachers, times, subjects)"), blank=True)
    # lifecycle state (owned by lifecycle.services)
    period = models.CharField(_("lifecycle period"), max_length=20, choices=Period.choices,
                              default=Period.PROSPECTING, db_index=True)
    previous_period = models.CharField(_("period before at-risk"), max_length=20,
                                       choices=Period.choices, blank=True)
    period_since = models.DateTimeField(_("in period since"), default=timezone.now)
    # stamps
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("created by"),
    )

    history = HistoricalRecords(excluded_fields=["name_pinyin", "name_initials", "updated_at"])

    class Meta:
        verbose_name = _("student")
        verbose_name_plural = _("students")
        ordering = ["name_pinyin", "id"]
        indexes = [
            models.Index(fields=["branch", "period"]),
            models.Index(fields=["counselor", "period"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "external_id"], condition=~models.Q(external_id=""),
                name="student_external_id_unique_per_branch",
                violation_error_message=_("Another student of this branch already has this "
                                          "student number.")),
        ]

    def __str__(self) -> str:
        return self.name_zh

    def save(self, *args, **kwargs) -> None:
        self.name_pinyin, self.name_initials = pinyin_keys(self.name_zh)
        if kwargs.get("update_fields") is not None and "name_zh" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "name_pinyin", "name_initials"}
        super().save(*args, **kwargs)

    @property
    def phase(self) -> str:
        return phase_of(self.period)

    def age_on(self, day: dt.date) -> int | None:
        if not self.birth_date:
            return None
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))

    def needs_guardian_consent(self, today: dt.date | None = None) -> bool:
        """PIPL: under-14s' data needs a guardian's consent; unknown age falls back to grade."""
        age = self.age_on(today or timezone.localdate())
        if age is None:
            return self.grade in UNDER_14_GRADES
        return age < settings.PIPL_CONSENT_AGE

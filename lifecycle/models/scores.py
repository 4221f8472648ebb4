"""Risk profiles per (branch, period), stored scores with their history, branch snapshots."""
from __future__ import annotations

from dataclasses import fields
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm.fields import StoredJSONField

from ..periods import Period
from ..risk import RiskPolicy
from ..value import CUSTOMER_TYPES, Segment

_R = RiskPolicy()
# The periods an account is judged in; an account at risk is judged as the period it
# came from, so clearing it uses the same yardstick as flagging it.
PROFILE_PERIODS = [(p, Period(p).label) for p in
                   (Period.SOCIALIZATION, Period.GROWTH, Period.MATURITY)]


def _w() -> list:
    return [MinValueValidator(0), MaxValueValidator(100)]


def _d(max_digits: int, places: int, default: float, lo: str, hi: str) -> dict:
    return {"max_digits": max_digits, "decimal_places": places,
            "default": Decimal(str(default)),
            "validators": [MinValueValidator(Decimal(lo)), MaxValueValidator(Decimal(hi))]}


class RiskProfile(models.Model):
    """Risk thresholds and weights for one period (of one branch, or the default).

    Socialization in its first weeks is judged differently from maturity. Lookup:
    (branch, period) -> (default, period) -> the branch's LifecyclePolicy risk fields.
    """

    branch = models.ForeignKey("crm.Branch", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="risk_profiles", verbose_name=_("branch"),
                               help_text=_("Empty: the institution-wide default."), db_index=False)
    period = models.CharField(_("period"), max_length=20, choices=PROFILE_PERIODS)
    threshold = models.PositiveSmallIntegerField(
        _("risk score that makes an account at risk (0-100)"), default=_R.threshold,
        validators=_w())
    absence_streak = models.PositiveSmallIntegerField(
        _("consecutive absences that count"), default=_R.absence_streak,
        validators=[MinValueValidator(1), MaxValueValidator(50)])
    weight_absences = models.PositiveSmallIntegerField(
        _("points: consecutive absences"), default=_R.weight_absences, validators=_w())
    attendance_rate = models.DecimalField(
        _("attendance rate below which it counts (0-1)"),
        **_d(4, 3, _R.attendance_rate, "0", "1"))
    weight_attendance = models.PositiveSmallIntegerField(
        _("points: low attendance"), default=_R.weight_attendance, validators=_w())
    attendance_drop = models.DecimalField(
        _("drop against the account's own baseline that counts (0-1)"),
        **_d(4, 3, _R.attendance_drop, "0", "1"))
    weight_attendance_drop = models.PositiveSmallIntegerField(
        _("points: attendance dropping"), default=_R.weight_attendance_drop, validators=_w())
    hours_weeks = models.DecimalField(
        _("weeks of hours left below which it counts"), **_d(5, 1, _R.hours_weeks, "0", "52"))
    weight_hours = models.PositiveSmallIntegerField(
        _("points: hours running out"), default=_R.weight_hours, validators=_w())
    contact_days = models.PositiveSmallIntegerField(
        _("days without contact that count"), default=_R.contact_days,
        validators=[MinValueValidator(0), MaxValueValidator(365)])
    weight_contact = models.PositiveSmallIntegerField(
        _("points: no recent contact"), default=_R.weight_contact, validators=_w())
    weight_open_complaint = models.PositiveSmallIntegerField(
        _("points: open complaint"), default=_R.weight_open_complaint, validators=_w())
    weight_overdue_complaint = models.PositiveSmallIntegerField(
        _("points: overdue complaint"), default=_R.weight_overdue_complaint, validators=_w())
    satisfaction = models.DecimalField(
        _("satisfaction below which it counts (1-5)"), **_d(3, 2, _R.satisfaction, "1", "5"))
    weight_satisfaction = models.PositiveSmallIntegerField(
        _("points: low satisfaction (when nobody is identified)"),
        default=_R.weight_satisfaction, validators=_w())
    weight_student_satisfaction = models.PositiveSmallIntegerField(
        _("points: student's low satisfaction"), default=_R.weight_student_satisfaction,
        validators=_w())
    weight_parent_satisfaction = models.PositiveSmallIntegerField(
        _("points: parent's low satisfaction"), default=_R.weight_parent_satisfaction,
        validators=_w())
    exam_slope = models.DecimalField(
        _("exam trend (points per exam) at or below which it counts"),
        **_d(5, 1, _R.exam_slope, "-100", "0"))
    weight_exam = models.PositiveSmallIntegerField(
        _("points: falling exam scores"), default=_R.weight_exam, validators=_w())
    payment_grace_days = models.PositiveSmallIntegerField(
        _("days after signing before an unpaid contract is overdue"),
        default=_R.payment_grace_days, validators=[MaxValueValidator(365)])
    weight_payment = models.PositiveSmallIntegerField(
        _("points: payment overdue"), default=_R.weight_payment, validators=_w())
    weight_refund = models.PositiveSmallIntegerField(
        _("points: refund requested"), default=_R.weight_refund, validators=_w())
    decider_factor = models.DecimalField(
        _("multiplier of the decider's signals"), **_d(3, 2, _R.decider_factor, "0", "5"))
    other_factor = models.DecimalField(
        _("multiplier of the other side's signals"), **_d(3, 2, _R.other_factor, "0", "5"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("risk profile")
        verbose_name_plural = _("risk profiles")
        ordering = ["branch__code", "period"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "period"], name="one_risk_profile_per_period",
                                    violation_error_message=_("This branch already has a risk "
                                                              "profile for this period.")),
            models.UniqueConstraint(Coalesce("branch", Value(0)), "period",
                                    condition=Q(branch__isnull=True),
                                    name="one_default_risk_profile_per_period",
                                    violation_error_message=_("There is already an "
                                                              "institution-wide profile for "
                                                              "this period.")),
        ]

    def __str__(self) -> str:
        scope = str(self.branch) if self.branch_id else str(_("default"))
        return f"{scope} · {self.get_period_display()}"

    def policy(self) -> RiskPolicy:
        """The plain policy for risk.risk_score (floats so comparisons match SQL figures)."""
        values = {}
        for f in fields(RiskPolicy):
            v = getattr(self, f.name)
            values[f.name] = float(v) if isinstance(v, Decimal) else v
        return RiskPolicy(**values)


class AccountScore(models.Model):
    """The latest value and risk scores of an account, with the breakdown that explains them.

    Written by the nightly job (one upsert per chunk); pages read this row instead of
    aggregating the facts per request.
    """

    student = models.OneToOneField("students.Student", on_delete=models.CASCADE,
                                   related_name="score", verbose_name=_("student"))
    # Every row is rewritten each night: no index of its own on branch (the composite
    # indexes below start with it) nor on run, so PostgreSQL can update the row in
    # place (HOT) when its indexed scores did not change (fillfactor in 0004).
    branch = models.ForeignKey("crm.Branch", on_delete=models.CASCADE, related_name="+",
                               verbose_name=_("branch"), db_index=False)
    run = models.ForeignKey("lifecycle.ScanRun", on_delete=models.SET_NULL, null=True,
                            blank=True, related_name="+", verbose_name=_("scan run"),
                            db_index=False)
    scored_at = models.DateTimeField(_("scored at"), default=timezone.now)
    period = models.CharField(_("period"), max_length=20, choices=Period.choices)
    current_value = models.PositiveSmallIntegerField(_("current value"))
    potential_value = models.PositiveSmallIntegerField(_("potential value"))
    segment = models.CharField(_("value segment"), max_length=10, choices=Segment.choices)
    customer_type = models.CharField(_("customer type"), max_length=24,
                                     choices=[(t, t) for t in CUSTOMER_TYPES])
    risk = models.PositiveSmallIntegerField(_("risk score"), null=True, blank=True,
                                            help_text=_("Only maintenance-phase accounts."))
    risk_factors = models.JSONField(_("risk factors"), default=list, blank=True)
    # [[iso date, score], ...] of the last days, so 'rose from 35 to 72 this week' needs
    # no history query.
    risk_trail = models.JSONField(_("recent risk scores"), default=list, blank=True)
    risk_week_ago = models.PositiveSmallIntegerField(_("risk a week ago"), null=True,
                                                     blank=True)
    # Stored and shown whole, never queried inside: json, not jsonb (crm.fields).
    breakdown = StoredJSONField(_("value breakdown"), default=dict, blank=True)
    figures = StoredJSONField(_("figures"), default=dict, blank=True)

    class Meta:
        verbose_name = _("account score")
        verbose_name_plural = _("account scores")
        indexes = [
            models.Index(fields=["branch", "customer_type"]),
            models.Index(fields=["branch", "segment"]),
            models.Index(fields=["branch", "risk"]),
        ]

    def __str__(self) -> str:
        return f"{self.student_id}: {self.current_value}/{self.potential_value} r{self.risk}"

    @property
    def risk_change(self) -> int | None:
        if self.risk is None or self.risk_week_ago is None:
            return None
        return self.risk - self.risk_week_ago


class ScoreHistory(models.Model):
    """An account's scores when a run found them changed (or first scored): the trend.

    The run's done-marker is AccountScore.run; this row is written in the same
    transaction, at most once per account and run.
    """

    student = models.ForeignKey("students.Student", on_delete=models.CASCADE,
                                related_name="score_history", verbose_name=_("student"),
                                db_index=False)
    run = models.ForeignKey("lifecycle.ScanRun", on_delete=models.CASCADE,
                            related_name="scores", verbose_name=_("scan run"))
    scored_at = models.DateTimeField(_("scored at"), default=timezone.now)
    period = models.CharField(_("period"), max_length=20, choices=Period.choices)
    current_value = models.PositiveSmallIntegerField(_("current value"))
    potential_value = models.PositiveSmallIntegerField(_("potential value"))
    segment = models.CharField(_("value segment"), max_length=10, choices=Segment.choices)
    customer_type = models.CharField(_("customer type"), max_length=24)
    risk = models.PositiveSmallIntegerField(_("risk score"), null=True, blank=True)
    risk_factors = models.JSONField(_("risk factors"), default=list, blank=True)

    class Meta:
        verbose_name = _("score history")
        verbose_name_plural = _("score history")
        ordering = ["-scored_at", "-id"]
        constraints = [
            # A run scores an account once, whatever retries, redeliveries or a
            # concurrent second worker do: the resume point of a crashed run.
            models.UniqueConstraint(fields=["student", "run"], name="one_score_per_run"),
        ]
        indexes = [models.Index(fields=["student", "scored_at"])]

    def __str__(self) -> str:
        return f"{self.student_id} run {self.run_id}: r{self.risk}"


class BranchSnapshot(models.Model):
    """Per-branch counts a dashboard reads (refreshed by the nightly job), one row a day."""

    branch = models.ForeignKey("crm.Branch", on_delete=models.CASCADE,
                               related_name="lifecycle_snapshots", verbose_name=_("branch"),
                               db_index=False)
    day = models.DateField(_("day"))
    run = models.ForeignKey("lifecycle.ScanRun", on_delete=models.SET_NULL, null=True,
                            blank=True, related_name="+", verbose_name=_("scan run"))
    accounts = models.PositiveIntegerField(_("accounts"), default=0)
    at_risk = models.PositiveIntegerField(_("at risk"), default=0)
    by_period = models.JSONField(_("accounts per period"), default=dict, blank=True)
    by_type = models.JSONField(_("accounts per customer type"), default=dict, blank=True)
    tasks = models.JSONField(_("retention tasks"), default=dict, blank=True)
    # Figures too costly to aggregate per request at scale (empty = not computed yet,
    # the dashboard then counts live): {"I": n, "II": n, "III": n, "IV": n, "": open}
    # and {"core.maintenance": {"n": n, "revenue": "1234.00"}, ...} (12 types).
    by_pattern = models.JSONField(_("accounts per lifecycle pattern"), default=dict,
                                  blank=True)
    type_revenue = models.JSONField(_("accounts and revenue per customer type"),
                                    default=dict, blank=True)
    created_at = models.DateTimeField(_("refreshed at"), default=timezone.now)

    class Meta:
        verbose_name = _("branch lifecycle snapshot")
        verbose_name_plural = _("branch lifecycle snapshots")
        ordering = ["-day", "branch__code"]
        constraints = [models.UniqueConstraint(fields=["branch", "day"],
                                               name="one_snapshot_per_branch_day")]

    def __str__(self) -> str:
        return f"{self.branch} {self.day}"

"""Lifecycle history, policies, scan runs and the latest risk state (see lifecycle/periods.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ..periods import Period
from ..risk import RiskPolicy
from ..value import ValuePolicy


class Trigger(models.TextChoices):
    """Why a transition happened: a person, or the rule that fired."""

    MANUAL = "manual", _("Manual")
    FIRST_PURCHASE = "first_purchase", _("First paid contract")
    RENEWAL = "renewal", _("Renewal / second purchase")
    STEADY_ATTENDANCE = "steady_attendance", _("Steady attendance")
    MATURITY = "maturity", _("Tenure, renewals and satisfaction")
    RISK = "risk", _("Risk model")
    RISK_CLEARED = "risk_cleared", _("Risk cleared")
    REFUND = "refund", _("Refund requested")
    CANCELLATION = "cancellation", _("Contract cancelled")
    EXPIRY = "expiry", _("Expired without renewal")
    LAPSE = "lapse", _("No active contract")
    WIN_BACK = "win_back", _("New contract after termination")
    # Placed in the period its records imply when brought over from a previous system
    # (lifecycle.services.accounts_place_imported), not walked there from prospecting.
    IMPORT = "import", _("Imported from a previous system")


class Transition(models.Model):
    """One change of period: the timeline of an account. Written only by account_transition."""

    student = models.ForeignKey("students.Student", on_delete=models.CASCADE,
                                related_name="transitions", verbose_name=_("student"),
                                db_index=False)
    from_period = models.CharField(_("from"), max_length=20, choices=Period.choices)
    to_period = models.CharField(_("to"), max_length=20, choices=Period.choices)
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("by"))
    reason = models.TextField(_("reason"))
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    win_back = models.BooleanField(_("win-back"), default=False)
    scan_run = models.ForeignKey("lifecycle.ScanRun", on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="transitions",
                                 verbose_name=_("scan run"))

    class Meta:
        verbose_name = _("period transition")
        verbose_name_plural = _("period transitions")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["student", "at"]),
            models.Index(fields=["to_period", "at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(from_period=models.F("to_period")),
                                   name="transition_changes_period"),
            # A manual move names its person; a rule move has none.
            models.CheckConstraint(condition=Q(trigger="manual") | Q(actor__isnull=True),
                                   name="transition_actor_only_if_manual"),
        ]

    def __str__(self) -> str:
        return f"{self.student} {self.from_period} -> {self.to_period} ({self.trigger})"


def _rate() -> list:
    return [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))]


def _weight() -> list:
    return [MinValueValidator(0), MaxValueValidator(100)]


def _days(limit: int = 3650) -> list:
    return [MinValueValidator(0), MaxValueValidator(limit)]


def _satisfaction() -> list:
    return [MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("5"))]


@dataclass(frozen=True)
class PolicyValues:
    """The policy as plain values for the rules and the risk model (no ORM inside)."""

    trial_counts_as_purchase: bool = False
    growth_after_weeks: int = 8
    growth_attendance_rate: float = 0.85
    maturity_tenure_days: int = 365
    maturity_min_renewals: int = 2
    maturity_min_satisfaction: float = 4.0
    risk_clear_days: int = 14
    risk_window_weeks: int = 4
    lapse_after_days: int = 90
    risk: RiskPolicy = field(default_factory=RiskPolicy)
    value: ValuePolicy = field(default_factory=ValuePolicy)


_D = PolicyValues()
_R = RiskPolicy()
_V = ValuePolicy()

# Value-score fields in their groups: each group's weights must sum to 100 (DOMAIN.md §5).
CURRENT_WEIGHTS = ("value_w_margin", "value_w_volume", "value_w_cost")
POTENTIAL_WEIGHTS = ("value_w_satisfaction", "value_w_loyalty", "value_w_trust",
                     "value_w_influence")


class LifecyclePolicy(models.Model):
    """Thresholds and durations of the lifecycle rules and the risk model.

    The row without a branch is the institution-wide default; a branch row overrides
    it as a whole. Versioned: managers' edits are kept with who made them.
    """

    branch = models.OneToOneField("crm.Branch", on_delete=models.CASCADE, null=True, blank=True,
                                  related_name="lifecycle_policy", verbose_name=_("branch"),
                                  help_text=_("Empty: the institution-wide default."))
    # socialization
    trial_counts_as_purchase = models.BooleanField(
        _("a paid trial counts as the first purchase"), default=_D.trial_counts_as_purchase)
    # socialization -> growth
    growth_after_weeks = models.PositiveSmallIntegerField(
        _("weeks of steady attendance before growth"), default=_D.growth_after_weeks,
        validators=_days(104))
    growth_attendance_rate = models.DecimalField(
        _("steady attendance rate (0-1)"), max_digits=4, decimal_places=3,
        default=Decimal(str(_D.growth_attendance_rate)), validators=_rate())
    # growth -> maturity
    maturity_tenure_days = models.PositiveIntegerField(
        _("days since the first contract before maturity"), default=_D.maturity_tenure_days,
        validators=_days())
    maturity_min_renewals = models.PositiveSmallIntegerField(
        _("renewals needed for maturity"), default=_D.maturity_min_renewals,
        validators=[MaxValueValidator(100)])
    maturity_min_satisfaction = models.DecimalField(
        _("satisfaction needed for maturity (1-5)"), max_digits=3, decimal_places=2,
        default=Decimal(str(_D.maturity_min_satisfaction)), validators=_satisfaction())
    # at risk
    risk_threshold = models.PositiveSmallIntegerField(
        _("risk score that makes an account at risk (0-100)"), default=_R.threshold,
        validators=_weight())
    risk_clear_days = models.PositiveSmallIntegerField(
        _("days the risk must stay clear before recovery"), default=_D.risk_clear_days,
        validators=_days(365))
    risk_window_weeks = models.PositiveSmallIntegerField(
        _("weeks of attendance and consumption the risk model looks at"),
        default=_D.risk_window_weeks, validators=[MinValueValidator(1), MaxValueValidator(52)])
    risk_absence_streak = models.PositiveSmallIntegerField(
        _("consecutive absences that count"), default=_R.absence_streak,
        validators=[MinValueValidator(1), MaxValueValidator(50)])
    risk_attendance_rate = models.DecimalField(
        _("attendance rate below which it counts (0-1)"), max_digits=4, decimal_places=3,
        default=Decimal(str(_R.attendance_rate)), validators=_rate())
    risk_hours_weeks = models.DecimalField(
        _("weeks of hours left below which it counts"), max_digits=5, decimal_places=1,
        default=Decimal(str(_R.hours_weeks)),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("52"))])
    risk_contact_days = models.PositiveSmallIntegerField(
        _("days without contact that count"), default=_R.contact_days, validators=_days(365))
    risk_satisfaction = models.DecimalField(
        _("satisfaction below which it counts (1-5)"), max_digits=3, decimal_places=2,
        default=Decimal(str(_R.satisfaction)), validators=_satisfaction())
    weight_absences = models.PositiveSmallIntegerField(
        _("points: consecutive absences"), default=_R.weight_absences, validators=_weight())
    weight_attendance = models.PositiveSmallIntegerField(
        _("points: low attendance"), default=_R.weight_attendance, validators=_weight())
    weight_hours = models.PositiveSmallIntegerField(
        _("points: hours running out"), default=_R.weight_hours, validators=_weight())
    weight_contact = models.PositiveSmallIntegerField(
        _("points: no recent contact"), default=_R.weight_contact, validators=_weight())
    weight_open_complaint = models.PositiveSmallIntegerField(
        _("points: open complaint"), default=_R.weight_open_complaint, validators=_weight())
    weight_overdue_complaint = models.PositiveSmallIntegerField(
        _("points: overdue complaint"), default=_R.weight_overdue_complaint,
        validators=_weight())
    weight_satisfaction = models.PositiveSmallIntegerField(
        _("points: low satisfaction"), default=_R.weight_satisfaction, validators=_weight())
    # termination -> lapsed
    lapse_after_days = models.PositiveSmallIntegerField(
        _("days in termination without an active contract before lapsed"),
        default=_D.lapse_after_days, validators=_days(3650))
    # value segmentation (DOMAIN.md §5)
    value_high_cut = models.PositiveSmallIntegerField(
        _("value score over which it is high (0-100)"), default=_V.high_cut,
        validators=_weight())
    value_w_margin = models.PositiveSmallIntegerField(
        _("current value weight: unit gross margin"), default=_V.w_margin, validators=_weight())
    value_w_volume = models.PositiveSmallIntegerField(
        _("current value weight: total purchase volume"), default=_V.w_volume,
        validators=_weight())
    value_w_cost = models.PositiveSmallIntegerField(
        _("current value weight: service cost (higher cost lowers it)"), default=_V.w_cost,
        validators=_weight())
    value_w_satisfaction = models.PositiveSmallIntegerField(
        _("potential value weight: satisfaction"), default=_V.w_satisfaction,
        validators=_weight())
    value_w_loyalty = models.PositiveSmallIntegerField(
        _("potential value weight: loyalty"), default=_V.w_loyalty, validators=_weight())
    value_w_trust = models.PositiveSmallIntegerField(
        _("potential value weight: trust"), default=_V.w_trust, validators=_weight())
    value_w_influence = models.PositiveSmallIntegerField(
        _("potential value weight: word-of-mouth influence"), default=_V.w_influence,
        validators=_weight())
    value_volume_full = models.DecimalField(
        _("yuan paid that scores 10 on purchase volume"), max_digits=10, decimal_places=2,
        default=Decimal(str(_V.volume_full)), validators=[MinValueValidator(Decimal("1"))])
    value_wallet_subjects = models.PositiveSmallIntegerField(
        _("subjects a family typically tutors (share of wallet)"),
        default=_V.wallet_subjects, validators=[MinValueValidator(1), MaxValueValidator(12)])
    value_gross_margin_rate = models.DecimalField(
        _("gross margin rate at list price (0-1)"), max_digits=4, decimal_places=3,
        default=Decimal(str(_V.gross_margin_rate)), validators=_rate())
    value_reach = models.DecimalField(
        _("people a satisfied customer reaches (word of mouth)"), max_digits=5,
        decimal_places=1, default=Decimal(str(_V.reach)),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1000"))])
    value_close_rate = models.DecimalField(
        _("share of those reached who buy (0-1)"), max_digits=4, decimal_places=3,
        default=Decimal(str(_V.close_rate)), validators=_rate())
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("lifecycle policy")
        verbose_name_plural = _("lifecycle policies")
        ordering = ["branch__code"]
        constraints = [
            # One institution-wide default: NULLs are distinct in a plain unique index,
            # so index COALESCE(branch, 0) over the rows without a branch.
            models.UniqueConstraint(Coalesce("branch", Value(0)),
                                    condition=Q(branch__isnull=True),
                                    name="one_default_lifecycle_policy",
                                    violation_error_message=_("There is already an "
                                                              "institution-wide policy.")),
        ]

    def __str__(self) -> str:
        return str(self.branch) if self.branch_id else str(_("Institution-wide default"))

    def clean(self) -> None:
        """Each group of value weights must sum to 100, reported on the group's first field."""
        super().clean()
        errors: dict[str, str] = {}
        for group, label in ((CURRENT_WEIGHTS, _("current value")),
                             (POTENTIAL_WEIGHTS, _("potential value"))):
            values = [getattr(self, name) for name in group]
            if any(v is None for v in values):
                continue
            total = sum(values)
            if total != 100:
                errors[group[0]] = _("The %(group)s weights must sum to 100 (now %(total)d).") % {
                    "group": label, "total": total}
        if errors:
            raise ValidationError(errors)

    def value_policy(self) -> ValuePolicy:
        return ValuePolicy(
            high_cut=self.value_high_cut, w_margin=self.value_w_margin,
            w_volume=self.value_w_volume, w_cost=self.value_w_cost,
            w_satisfaction=self.value_w_satisfaction, w_loyalty=self.value_w_loyalty,
            w_trust=self.value_w_trust, w_influence=self.value_w_influence,
            volume_full=float(self.value_volume_full),
            wallet_subjects=self.value_wallet_subjects,
            gross_margin_rate=float(self.value_gross_margin_rate),
            reach=float(self.value_reach), close_rate=float(self.value_close_rate))

    def values(self) -> PolicyValues:
        """Plain values for the rules; floats so that rate comparisons match SQL figures."""
        return PolicyValues(
            trial_counts_as_purchase=self.trial_counts_as_purchase,
            growth_after_weeks=self.growth_after_weeks,
            growth_attendance_rate=float(self.growth_attendance_rate),
            maturity_tenure_days=self.maturity_tenure_days,
            maturity_min_renewals=self.maturity_min_renewals,
            maturity_min_satisfaction=float(self.maturity_min_satisfaction),
            risk_clear_days=self.risk_clear_days,
            risk_window_weeks=self.risk_window_weeks,
            lapse_after_days=self.lapse_after_days,
            risk=RiskPolicy(
                threshold=self.risk_threshold,
                absence_streak=self.risk_absence_streak,
                weight_absences=self.weight_absences,
                attendance_rate=float(self.risk_attendance_rate),
                weight_attendance=self.weight_attendance,
                hours_weeks=float(self.risk_hours_weeks),
                weight_hours=self.weight_hours,
                contact_days=self.risk_contact_days,
                weight_contact=self.weight_contact,
                weight_open_complaint=self.weight_open_complaint,
                weight_overdue_complaint=self.weight_overdue_complaint,
                satisfaction=float(self.risk_satisfaction),
                weight_satisfaction=self.weight_satisfaction,
                # Without a RiskProfile the student's and the parent's satisfaction weigh
                # what the single satisfaction signal weighs.
                weight_student_satisfaction=self.weight_satisfaction,
                weight_parent_satisfaction=self.weight_satisfaction,
            ),
            value=self.value_policy(),
        )


class RiskState(models.Model):
    """The latest risk score of an account, kept so 'clear for N days' can be measured.

    Written by the scan only when something changed, so a repeated scan writes nothing.
    """

    student = models.OneToOneField("students.Student", on_delete=models.CASCADE,
                                   related_name="risk_state", verbose_name=_("student"))
    score = models.PositiveSmallIntegerField(_("risk score"))
    factors = models.JSONField(_("factors"), default=list, blank=True)
    # Since when the score has been below the branch's threshold; None while above it.
    clear_since = models.DateTimeField(_("below the threshold since"), null=True, blank=True)
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("risk state")
        verbose_name_plural = _("risk states")
        indexes = [models.Index(fields=["score"])]

    def __str__(self) -> str:
        return f"{self.student_id}: {self.score}"


class ScanRun(models.Model):
    """One run of the lifecycle scan, so managers can see what the rules did and when."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")
        FAILED = "failed", _("Failed")

    class Source(models.TextChoices):
        COMMAND = "command", _("Management command")
        SCHEDULE = "schedule", _("Schedule / task")
        API = "api", _("API")

    branch = models.ForeignKey("crm.Branch", on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+", verbose_name=_("branch"),
                               help_text=_("Empty: all branches."))
    # Idempotence of the schedule: one nightly run per day ("nightly:2025-05-20"); a
    # second enqueue or a redelivered message resumes that run instead of starting one.
    key = models.CharField(_("key"), max_length=40, unique=True, null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.QUEUED, db_index=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices,
                              default=Source.SCHEDULE)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("started by"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    scanned = models.PositiveIntegerField(_("accounts scanned"), default=0)
    scored = models.PositiveIntegerField(_("accounts scored"), default=0)
    moved = models.JSONField(_("moves by transition"), default=dict, blank=True)
    moved_total = models.PositiveIntegerField(_("accounts moved"), default=0)
    moved_into_risk = models.PositiveIntegerField(_("moved into at-risk"), default=0)
    moved_out_of_risk = models.PositiveIntegerField(_("moved out of at-risk"), default=0)
    tasks_created = models.PositiveIntegerField(_("retention tasks created"), default=0)
    tasks_escalated = models.PositiveIntegerField(_("overdue tasks escalated"), default=0)
    chunks_done = models.PositiveIntegerField(_("chunks done"), default=0)
    attempts = models.PositiveSmallIntegerField(
        _("attempts"), default=0, help_text=_("More than one: the run was resumed after a "
                                              "crash or a redelivery."))
    errors = models.JSONField(_("errors"), default=list, blank=True)

    class Meta:
        verbose_name = _("lifecycle scan run")
        verbose_name_plural = _("lifecycle scan runs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.get_status_display()}"

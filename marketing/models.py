"""Acquisition and recovery (DOMAIN.md §6): sources, prospects and their pools, the
follow-up pipeline, enquiries, referrals, campaigns, exit interviews.

Student.period is never written here: the first paid contract moves an account out of
prospecting through the lifecycle rules (lifecycle.services), not through this app.
"""
from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lifecycle.periods import Period
from students.choices import Grade


class Channel(models.Model):
    """A source/channel (walk-in, phone, referral, lecture, ...); managers can add more."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=50)
    name_en = models.CharField(_("name (English)"), max_length=50)
    is_referral = models.BooleanField(_("word of mouth"), default=False,
                                      help_text=_("Families from this channel came through "
                                                  "someone's recommendation."))
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("source channel")
        verbose_name_plural = _("source channels")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        from django.utils.translation import get_language

        return self.name_zh if (get_language() or "").startswith("zh") else self.name_en


# --- policy --------------------------------------------------------------------------

class AssignmentMode(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_LOADED = "least_loaded", _("Least loaded")


def default_win_back_windows() -> list[dict[str, str]]:
    """DOMAIN.md §6: re-approach at the right moment, new term and after exams.

    Month-day ranges (inclusive); gaokao/zhongkao end in June, finals in January.
    """
    return [
        {"name": "new_term_autumn", "start": "08-10", "end": "09-15"},
        {"name": "new_term_spring", "start": "02-01", "end": "03-05"},
        {"name": "after_exams_summer", "start": "06-10", "end": "07-15"},
        {"name": "after_exams_winter", "start": "01-10", "end": "01-31"},
    ]


def default_exam_year_grades() -> list[str]:
    return [Grade.S3.value]


def _points() -> list:
    return [MinValueValidator(0), MaxValueValidator(100)]


class MarketingPolicy(models.Model):
    """Prospect tiering points and thresholds, pool rules and enquiry limits.

    Like the lifecycle policy: the row without a branch is the institution-wide default,
    a branch row overrides it as a whole; nothing here is hard-coded in services.
    """

    branch = models.OneToOneField("crm.Branch", on_delete=models.CASCADE, null=True, blank=True,
                                  related_name="marketing_policy", verbose_name=_("branch"),
                                  help_text=_("Empty: the institution-wide default."))
    # tiering (DOMAIN.md §6: tier prospects quality / ordinary / poor)
    points_urgency_high = models.PositiveSmallIntegerField(_("points: urgent need"), default=30,
                                                           validators=_points())
    points_urgency_medium = models.PositiveSmallIntegerField(_("points: medium need"),
                                                             default=15, validators=_points())
    points_urgency_low = models.PositiveSmallIntegerField(_("points: low need"), default=0,
                                                          validators=_points())
    points_referral = models.PositiveSmallIntegerField(_("points: came by word of mouth"),
                                                       default=25, validators=_points())
    points_exam_year = models.PositiveSmallIntegerField(_("points: exam-year grade"), default=15,
                                                        validators=_points())
    exam_year_grades = models.JSONField(_("exam-year grades"), default=default_exam_year_grades,
                                        blank=True)
    points_contacted = models.PositiveSmallIntegerField(_("points: contact made"), default=10,
                                                        validators=_points())
    points_trial_booked = models.PositiveSmallIntegerField(_("points: trial booked"), default=20,
                                                           validators=_points())
    quality_min_points = models.PositiveSmallIntegerField(_("points for a quality prospect"),
                                                          default=60,
                                                          validators=[MaxValueValidator(1000)])
    ordinary_min_points = models.PositiveSmallIntegerField(_("points for an ordinary prospect"),
                                                           default=30,
                                                           validators=[MaxValueValidator(1000)])
    # pools
    private_pool_cap = models.PositiveSmallIntegerField(
        _("private leads a counselor may hold"), default=50,
        validators=[MinValueValidator(1), MaxValueValidator(10000)])
    idle_release_days = models.PositiveSmallIntegerField(
        _("days without activity before a lead returns to the public pool"), default=7,
        validators=[MinValueValidator(1), MaxValueValidator(365)])
    assignment_mode = models.CharField(_("assignment"), max_length=20,
                                       choices=AssignmentMode.choices,
                                       default=AssignmentMode.ROUND_ROBIN)
    unassigned_alert_hours = models.PositiveSmallIntegerField(
        _("hours a new lead may stay unassigned before an alert"), default=24,
        validators=[MaxValueValidator(24 * 30)])
    # public enquiry page
    enquiry_limit_per_hour = models.PositiveSmallIntegerField(
        _("enquiries per hour from one address or phone"), default=5,
        validators=[MinValueValidator(1), MaxValueValidator(1000)])
    enquiry_min_seconds = models.PositiveSmallIntegerField(
        _("minimum seconds to fill the enquiry form"), default=3,
        validators=[MaxValueValidator(600)])
    # win-back
    win_back_windows = models.JSONField(_("win-back moments"), default=default_win_back_windows,
                                        blank=True)
    win_back_min_revenue = models.DecimalField(
        _("lifetime revenue for a win-back offer"), max_digits=12, decimal_places=2,
        default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))])
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("marketing policy")
        verbose_name_plural = _("marketing policies")
        constraints = [
            # One institution-wide default (NULLs are distinct in a plain unique index).
            models.UniqueConstraint(Coalesce("branch", Value(0)),
                                    condition=Q(branch__isnull=True),
                                    name="one_default_marketing_policy",
                                    violation_error_message=_("There is already an "
                                                              "institution-wide policy.")),
        ]

    def __str__(self) -> str:
        return str(self.branch) if self.branch_id else str(_("Institution-wide default"))

    def clean(self) -> None:
        if self.ordinary_min_points > self.quality_min_points:
            raise ValidationError({"ordinary_min_points": _(
                "The ordinary threshold cannot be above the quality threshold.")})
        grades = self.exam_year_grades or []
        if not isinstance(grades, list) or any(g not in Grade.values for g in grades):
            raise ValidationError({"exam_year_grades": _("List grade codes such as S3.")})


# --- campaigns -----------------------------------------------------------------------

class Campaign(models.Model):
    """A marketing action with a target segment, a cost and measurable results."""

    class Kind(models.TextChoices):
        PUBLIC_LECTURE = "public_lecture", _("Public lecture")
        POST_EXAM = "post_exam", _("Post-exam push")
        NEW_TERM = "new_term", _("New-term offer")
        WIN_BACK = "win_back", _("Win-back offer")
        REFERRAL = "referral", _("Referral drive")
        LOYALTY = "loyalty", _("Loyalty / renewal offer")

    # DOMAIN.md §7: winning a customer costs 5-8x keeping one; the two are compared by kind.
    RETENTION_KINDS = frozenset({Kind.WIN_BACK, Kind.LOYALTY})

    class Audience(models.TextChoices):
        SMS = "sms", _("SMS")
        WECHAT = "wechat", _("WeChat")
        PHONE = "phone", _("Phone calls")
        EMAIL = "email", _("Email")

    code = models.SlugField(_("code"), max_length=40, unique=True,
                            help_text=_("Used in the enquiry link (?c=code)."))
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    branch = models.ForeignKey("crm.Branch", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="campaigns", verbose_name=_("branch"),
                               help_text=_("Empty: every branch (head office only)."))
    channel = models.ForeignKey(Channel, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="campaigns",
                                verbose_name=_("source recorded for its prospects"))
    contact_channel = models.CharField(_("contact channel"), max_length=10,
                                       choices=Audience.choices, default=Audience.SMS,
                                       help_text=_("Only parents who consented to this "
                                                   "channel are in the audience."))
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    cost = models.DecimalField(_("cost"), max_digits=12, decimal_places=2, default=Decimal("0"),
                               validators=[MinValueValidator(Decimal("0"))])
    # target segment (empty = no restriction)
    target_periods = models.JSONField(_("lifecycle periods"), default=list, blank=True)
    target_grades = models.JSONField(_("grades"), default=list, blank=True)
    # Stored value segments (lifecycle AccountScore, DOMAIN.md §5); accounts not yet
    # scored are left out when this filter is set.
    target_segments = models.JSONField(_("value segments"), default=list, blank=True)
    exam_from = models.DateField(_("exam taken from"), null=True, blank=True)
    exam_until = models.DateField(_("exam taken until"), null=True, blank=True)
    message = models.TextField(_("message text"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(cost__gte=0), name="campaign_cost_not_negative"),
            models.CheckConstraint(condition=Q(ends_on__isnull=True)
                                   | Q(ends_on__gte=models.F("starts_on")),
                                   name="campaign_ends_after_start"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_retention(self) -> bool:
        return self.kind in self.RETENTION_KINDS

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if any(p not in Period.values for p in self.target_periods or []):
            errors["target_periods"] = _("Unknown lifecycle period.")
        if any(g not in Grade.values for g in self.target_grades or []):
            errors["target_grades"] = _("Unknown grade.")
        from lifecycle.value import Segment

        if any(v not in Segment.values for v in self.target_segments or []):
            errors["target_segments"] = _("Unknown value segment.")
        if self.exam_from and self.exam_until and self.exam_until < self.exam_from:
            errors["exam_until"] = _("The exam window must end after it starts.")
        if self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = _("The campaign must end on or after its start date.")
        if errors:
            raise ValidationError(errors)


class AudienceHandoff(models.Model):
    """What a campaign's audience handed to messaging (or exported): to whom and when.

    Nothing is sent here: the queued MessageLog rows are delivered by the messaging
    backends (students.tasks.send_message_task), which re-check consent at send time.
    """

    class Kind(models.TextChoices):
        MESSAGING = "messaging", _("Queued for messaging")
        EXPORT = "export", _("CSV export")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="handoffs",
                                 verbose_name=_("campaign"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=10, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    recipients = models.PositiveIntegerField(_("recipients"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    text = models.TextField(_("message text"), blank=True)

    class Meta:
        verbose_name = _("audience handoff")
        verbose_name_plural = _("audience handoffs")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.campaign} {self.get_kind_display()} {self.at:%Y-%m-%d}"


class HandoffRecipient(models.Model):
    """One family in a handoff; lets win-back results be traced to the offer."""

    handoff = models.ForeignKey(AudienceHandoff, on_delete=models.CASCADE,
                                related_name="recipient_rows", verbose_name=_("handoff"),
                                db_index=False)
    student = models.ForeignKey("students.Student", on_delete=models.CASCADE, related_name="+",
                                verbose_name=_("student"))
    parent = models.ForeignKey("parents.Parent", on_delete=models.CASCADE, related_name="+",
                               verbose_name=_("parent"))
    message = models.ForeignKey("students.MessageLog", on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="+", verbose_name=_("message"))

    class Meta:
        verbose_name = _("handoff recipient")
        verbose_name_plural = _("handoff recipients")
        constraints = [
            models.UniqueConstraint(fields=["handoff", "student", "parent"],
                                    name="handoff_recipient_once"),
        ]

    def __str__(self) -> str:
        return f"{self.handoff_id}: {self.student_id}/{self.parent_id}"


# --- prospects -----------------------------------------------------------------------

class Urgency(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


class Tier(models.TextChoices):
    QUALITY = "quality", _("Quality")
    ORDINARY = "ordinary", _("Ordinary")
    POOR = "poor", _("Poor")


class Stage(models.TextChoices):
    NEW = "new", _("New")
    INVITED = "invited", _("Invited")
    VISITED = "visited", _("Visited")
    TRIAL_BOOKED = "trial_booked", _("Trial booked")
    TRIAL_ATTENDED = "trial_attended", _("Trial attended")
    ENROLLED = "enrolled", _("Enrolled")
    LOST = "lost", _("Lost")


class Pool(models.TextChoices):
    PUBLIC = "public", _("Branch public pool")
    PRIVATE = "private", _("Counselor's private pool")


class Prospect(models.Model):
    """The acquisition side of an account (1:1 with Student): owner, pool, tier, stage.

    The pool follows the owner (a constraint keeps them consistent): an owned lead is in
    its counselor's private pool, an unowned one in its branch's public pool.
    """

    student = models.OneToOneField("students.Student", on_delete=models.CASCADE,
                                   related_name="prospect", verbose_name=_("student"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="leads", verbose_name=_("owner"),
                              db_index=False)
    pool = models.CharField(_("pool"), max_length=10, choices=Pool.choices, default=Pool.PUBLIC,
                            db_index=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    campaign = models.ForeignKey(Campaign, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="prospects", verbose_name=_("campaign"))
    urgency = models.CharField(_("need urgency"), max_length=10, choices=Urgency.choices,
                               default=Urgency.MEDIUM)
    tier = models.CharField(_("tier (by rules)"), max_length=10, choices=Tier.choices,
                            default=Tier.ORDINARY)
    tier_points = models.PositiveSmallIntegerField(_("tier points"), default=0)
    tier_override = models.CharField(_("tier set by staff"), max_length=10, choices=Tier.choices,
                                     blank=True)
    tier_override_reason = models.CharField(_("why the tier was set by hand"), max_length=200,
                                            blank=True)
    tier_override_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                         null=True, blank=True, related_name="+",
                                         verbose_name=_("tier set by"))
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices, default=Stage.NEW,
                             db_index=True)
    stage_changed_at = models.DateTimeField(_("stage changed at"), default=timezone.now)
    lost_reason = models.CharField(_("lost because"), max_length=200, blank=True)
    next_follow_up = models.DateField(_("next follow-up"), null=True, blank=True, db_index=True)
    # Touched by claims, assignments and stage changes; interactions are read from their
    # own table, so idleness is max(this, latest interaction).
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("prospect")
        verbose_name_plural = _("prospects")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=(Q(pool="private", owner__isnull=False)
                                              | Q(pool="public", owner__isnull=True)),
                                   name="prospect_pool_follows_owner"),
            models.CheckConstraint(condition=Q(tier_override="")
                                   | ~Q(tier_override_reason=""),
                                   name="prospect_override_has_reason"),
        ]
        indexes = [models.Index(fields=["owner", "stage"])]

    def __str__(self) -> str:
        return str(self.student)

    @property
    def effective_tier(self) -> str:
        return self.tier_override or self.tier


class PipelineStep(models.Model):
    """One dated, owned step of a prospect's follow-up (the timeline); appended, never edited."""

    prospect = models.ForeignKey(Prospect, on_delete=models.CASCADE, related_name="steps",
                                 verbose_name=_("prospect"), db_index=False)
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices)
    on = models.DateField(_("on"))
    at = models.DateTimeField(_("recorded at"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("by"))
    note = models.TextField(_("note"), blank=True)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)

    class Meta:
        verbose_name = _("pipeline step")
        verbose_name_plural = _("pipeline steps")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["prospect", "stage"])]

    def __str__(self) -> str:
        return f"{self.prospect} {self.get_stage_display()} {self.on}"


class AssignmentCursor(models.Model):
    """Round robin's memory per branch: who got the last automatically assigned lead."""

    branch = models.OneToOneField("crm.Branch", on_delete=models.CASCADE, related_name="+",
                                  verbose_name=_("branch"))
    last_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                  null=True, blank=True, related_name="+",
                                  verbose_name=_("last assigned to"))

    class Meta:
        verbose_name = _("assignment cursor")
        verbose_name_plural = _("assignment cursors")

    def __str__(self) -> str:
        return f"{self.branch_id}: {self.last_user_id}"


class Enquiry(models.Model):
    """A parent's request from the public page, kept as it was submitted.

    PIPL (art. 28/31): for a child under 14 the checkbox of an unidentified visitor is
    not a verifiable guardian consent, so no student record is created for them: the
    enquiry waits here until front desk calls, records a proper consent and converts it.
    """

    class Status(models.TextChoices):
        CONVERTED = "converted", _("Prospect created")
        ATTACHED = "attached", _("Attached to a registered family")
        PENDING = "pending", _("Waiting for front desk (consent needed)")
        DISMISSED = "dismissed", _("Dismissed")

    branch = models.ForeignKey("crm.Branch", on_delete=models.PROTECT, related_name="enquiries",
                               verbose_name=_("branch"))
    campaign = models.ForeignKey(Campaign, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="enquiries", verbose_name=_("campaign"))
    parent_name = models.CharField(_("parent name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20, db_index=True)
    child_name = models.CharField(_("child name"), max_length=50)
    grade = models.CharField(_("grade"), max_length=2, choices=Grade.choices)
    message = models.TextField(_("message"), blank=True)
    consent_contact = models.BooleanField(_("agreed to be contacted"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, db_index=True)
    parent = models.ForeignKey("parents.Parent", on_delete=models.SET_NULL, null=True,
                               blank=True, related_name="enquiries", verbose_name=_("parent"))
    student = models.ForeignKey("students.Student", on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="enquiries", verbose_name=_("student"))
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("handled by"))
    created_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("enquiry")
        verbose_name_plural = _("enquiries")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.parent_name} / {self.child_name}"


# --- referrals -----------------------------------------------------------------------

class RewardPolicy(models.Model):
    """What a referrer earns (DOMAIN.md §6: ask every happy customer for a referral)."""

    name = models.CharField(_("name"), max_length=100)
    reward = models.CharField(_("reward"), max_length=200,
                              help_text=_("e.g. 4 free lesson hours, a 300 yuan voucher."))
    value = models.DecimalField(_("value"), max_digits=10, decimal_places=2, default=Decimal("0"),
                                validators=[MinValueValidator(Decimal("0"))])
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("referral reward policy")
        verbose_name_plural = _("referral reward policies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Referral(models.Model):
    """Who recommended whom. One referrer per referred account (attribution is single)."""

    class Kind(models.TextChoices):
        STUDENT = "student", _("Student")
        PARENT = "parent", _("Parent")
        STAFF = "staff", _("Teacher / staff")
        OUTSIDE = "outside", _("Outside person")

    class RewardStatus(models.TextChoices):
        PENDING = "pending", pgettext_lazy("referral reward", "Pending")
        EARNED = "earned", _("Earned")
        PAID = "paid", _("Paid")
        VOID = "void", _("Void")

    referred = models.OneToOneField("students.Student", on_delete=models.CASCADE,
                                    related_name="referral", verbose_name=_("referred student"))
    kind = models.CharField(_("referrer is"), max_length=10, choices=Kind.choices)
    referrer_student = models.ForeignKey("students.Student", on_delete=models.SET_NULL,
                                         null=True, blank=True, related_name="referrals_made",
                                         verbose_name=_("referring student"))
    referrer_parent = models.ForeignKey("parents.Parent", on_delete=models.SET_NULL, null=True,
                                        blank=True, related_name="referrals_made",
                                        verbose_name=_("referring parent"))
    referrer_staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                       null=True, blank=True, related_name="referrals_made",
                                       verbose_name=_("referring staff"))
    referrer_name = models.CharField(_("referrer name"), max_length=50, blank=True)
    referrer_phone = models.CharField(_("referrer phone"), max_length=20, blank=True)
    reward_policy = models.ForeignKey(RewardPolicy, on_delete=models.SET_NULL, null=True,
                                      blank=True, related_name="referrals",
                                      verbose_name=_("reward policy"))
    reward_status = models.CharField(_("reward status"), max_length=10,
                                     choices=RewardStatus.choices, default=RewardStatus.PENDING,
                                     db_index=True)
    reward_changed_at = models.DateTimeField(_("reward status changed"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("recorded by"))
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="student", referrer_student__isnull=False)
                           | Q(kind="parent", referrer_parent__isnull=False)
                           | Q(kind="staff", referrer_staff__isnull=False)
                           | (Q(kind="outside") & ~Q(referrer_name=""))),
                name="referral_names_its_referrer"),
            models.CheckConstraint(condition=~Q(referrer_student=models.F("referred")),
                                   name="referral_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.referrer_label} → {self.referred}"

    @property
    def referrer_label(self) -> str:
        if self.kind == self.Kind.STUDENT and self.referrer_student_id:
            return str(self.referrer_student)
        if self.kind == self.Kind.PARENT and self.referrer_parent_id:
            return str(self.referrer_parent)
        if self.kind == self.Kind.STAFF and self.referrer_staff_id:
            return str(self.referrer_staff)
        return self.referrer_name


# --- recovery ------------------------------------------------------------------------

class ChurnReason(models.Model):
    """Why a family left: a managed list (seeded), so losses can be counted by cause."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=50)
    name_en = models.CharField(_("name (English)"), max_length=50)
    win_back_eligible = models.BooleanField(
        _("worth a win-back offer"), default=True,
        help_text=_("Off for reasons no offer can fix (moved away, need ended)."))
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("churn reason")
        verbose_name_plural = _("churn reasons")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        from django.utils.translation import get_language

        return self.name_zh if (get_language() or "").startswith("zh") else self.name_en


class ExitInterview(models.Model):
    """The exit interview of a terminated account (DOMAIN.md §6: record the reason)."""

    student = models.ForeignKey("students.Student", on_delete=models.CASCADE,
                                related_name="exit_interviews", verbose_name=_("student"))
    transition = models.OneToOneField("lifecycle.Transition", on_delete=models.SET_NULL,
                                      null=True, blank=True, related_name="exit_interview",
                                      verbose_name=_("termination"))
    reason = models.ForeignKey(ChurnReason, on_delete=models.PROTECT, related_name="interviews",
                               verbose_name=_("reason"))
    detail = models.TextField(_("what they said"), blank=True)
    period_lost_in = models.CharField(_("period lost in"), max_length=20, choices=Period.choices)
    interviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("interviewer"))
    held_on = models.DateField(_("held on"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("exit interview")
        verbose_name_plural = _("exit interviews")
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"{self.student} {self.reason} {self.held_on}"


# --- trial lessons -----------------------------------------------------------------------

class TrialLesson(models.Model):
    """A booked trial lesson (试听课): a seat in a real class session, or a one-to-one slot,
    with its teacher and its outcome. The outcome, not a note, moves the prospect's funnel
    stage (marketing.services.trials)."""

    class Outcome(models.TextChoices):
        BOOKED = "booked", _("Booked")
        ATTENDED = "attended", _("Attended")
        NO_SHOW = "no_show", _("No-show")
        ENROLLED = "enrolled", _("Enrolled")
        NOT_INTERESTED = "not_interested", _("Not interested")

    # Outcomes that mean the student sat the lesson.
    ATTENDED_OUTCOMES = frozenset({Outcome.ATTENDED, Outcome.ENROLLED})

    student = models.ForeignKey("students.Student", on_delete=models.CASCADE,
                                related_name="trial_lessons", verbose_name=_("student"),
                                db_index=False)  # (student, outcome) leads with it
    course = models.ForeignKey("students.Course", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("course"))
    session = models.ForeignKey("students.ClassSession", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="trial_lessons",
                                verbose_name=_("class lesson"),
                                help_text=_("Empty for a one-to-one slot."))
    # Copied from the session for a class seat, so every trial lists and sorts the same way.
    date = models.DateField(_("date"), db_index=True)
    start_time = models.TimeField(_("start time"))
    end_time = models.TimeField(_("end time"))
    teacher = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="trial_lessons",
                                verbose_name=_("teacher"))
    booked_with = models.CharField(_("booked with"), max_length=10,
                                   choices=[("student", _("Student")), ("parent", _("Parent"))],
                                   default="parent")
    parent = models.ForeignKey("parents.Parent", on_delete=models.SET_NULL, null=True,
                               blank=True, related_name="+", verbose_name=_("parent"))
    note = models.TextField(_("note"), blank=True)
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                  null=True, blank=True, related_name="+",
                                  verbose_name=_("booked by"))
    booked_at = models.DateTimeField(_("booked at"), default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices,
                               default=Outcome.BOOKED, db_index=True)
    outcome_at = models.DateTimeField(_("outcome recorded at"), null=True, blank=True)
    outcome_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("outcome recorded by"))
    outcome_note = models.TextField(_("outcome note"), blank=True)

    class Meta:
        verbose_name = _("trial lesson")
        verbose_name_plural = _("trial lessons")
        ordering = ["date", "start_time", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "student"],
                                    condition=Q(session__isnull=False),
                                    name="trial_seat_once",
                                    violation_error_message=_("This student already has a "
                                                              "trial seat in that lesson.")),
            models.CheckConstraint(condition=Q(end_time__gt=F("start_time")),
                                   name="trial_end_after_start",
                                   violation_error_message=_("A lesson must end after it "
                                                             "starts.")),
            models.CheckConstraint(condition=Q(outcome="booked") | Q(outcome_at__isnull=False),
                                   name="trial_outcome_dated"),
        ]
        indexes = [models.Index(fields=["student", "outcome"])]

    def __str__(self) -> str:
        return f"{self.student} {self.course} {self.date}"

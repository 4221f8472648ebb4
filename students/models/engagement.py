from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Counterpart(models.TextChoices):
    """Whom an interaction, complaint or survey is with: the student or a parent."""

    STUDENT = "student", _("Student")
    PARENT = "parent", _("Parent")


def _parent_matches_counterpart(prefix: str) -> Q:
    # A parent is named exactly when the counterpart is a parent.
    return (Q(**{f"{prefix}": Counterpart.STUDENT}, parent__isnull=True)
            | Q(**{f"{prefix}": Counterpart.PARENT}, parent__isnull=False))


class Interaction(models.Model):
    """A logged contact (call, visit, WeChat, meeting) with the student or one parent."""

    class Channel(models.TextChoices):
        CALL = "call", _("Phone call")
        VISIT = "visit", _("Visit")
        WECHAT = "wechat", _("WeChat")
        MEETING = "meeting", _("Meeting")
        SMS = "sms", _("SMS")

    class Sentiment(models.TextChoices):
        POSITIVE = "positive", _("Positive")
        NEUTRAL = "neutral", _("Neutral")
        NEGATIVE = "negative", _("Negative")

    student = models.ForeignKey("students.Student", on_delete=models.CASCADE,
                                related_name="interactions", verbose_name=_("student"),
                                db_index=False)
    with_whom = models.CharField(_("with"), max_length=10, choices=Counterpart.choices,
                                 default=Counterpart.PARENT)
    parent = models.ForeignKey("parents.Parent", on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="interactions", verbose_name=_("parent"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="interactions", verbose_name=_("by"))
    occurred_at = models.DateTimeField(_("when"), db_index=True)
    summary = models.TextField(_("summary"))
    sentiment = models.CharField(_("sentiment"), max_length=10, choices=Sentiment.choices,
                                 default=Sentiment.NEUTRAL)
    next_follow_up = models.DateField(_("next follow-up"), null=True, blank=True)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["student", "occurred_at"])]
        constraints = [
            models.CheckConstraint(condition=_parent_matches_counterpart("with_whom"),
                                   name="interaction_parent_iff_with_parent",
                                   violation_error_message=_("Name the parent when the contact "
                                                             "was with a parent, and only then.")),
        ]

    def __str__(self) -> str:
        return f"{self.student} {self.get_channel_display()} {self.occurred_at:%Y-%m-%d}"


class Complaint(models.Model):
    """Complaint or feedback with an owner and an SLA: the best source of at-risk causes."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        RESOLVED = "resolved", _("Resolved")

    class Category(models.TextChoices):
        TEACHING = "teaching", _("Teaching quality")
        TEACHER = "teacher", _("Teacher")
        SCHEDULE = "schedule", _("Schedule")
        SERVICE = "service", _("Service")
        BILLING = "billing", _("Billing")
        ENVIRONMENT = "environment", _("Premises")
        OTHER = "other", _("Other")

    student = models.ForeignKey("students.Student", on_delete=models.CASCADE,
                                related_name="complaints", verbose_name=_("student"))
    raised_by = models.CharField(_("raised by"), max_length=10, choices=Counterpart.choices,
                                 default=Counterpart.PARENT)
    parent = models.ForeignKey("parents.Parent", on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="complaints", verbose_name=_("parent"))
    category = models.CharField(_("category"), max_length=12, choices=Category.choices)
    description = models.TextField(_("description"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices,
                              default=Status.OPEN, db_index=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="owned_complaints", verbose_name=_("owner"))
    sla_due = models.DateTimeField(_("resolve by"))
    created_at = models.DateTimeField(_("created at"), db_index=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="resolved", resolved_at__isnull=False)
                           | (~Q(status="resolved") & Q(resolved_at__isnull=True))),
                name="complaint_resolved_iff_resolved_at",
                violation_error_message=_("A resolved complaint needs its resolution time, "
                                          "and only a resolved one has it."),
            ),
            models.CheckConstraint(condition=_parent_matches_counterpart("raised_by"),
                                   name="complaint_parent_iff_raised_by_parent",
                                   violation_error_message=_("Name the parent when a parent "
                                                             "raised the complaint, and only "
                                                             "then.")),
        ]

    def __str__(self) -> str:
        return f"{self.student} {self.get_category_display()} ({self.get_status_display()})"


class SatisfactionSurvey(models.Model):
    """A satisfaction response, from the student and from parents separately (1-5 scales)."""

    student = models.ForeignKey("students.Student", on_delete=models.CASCADE,
                                related_name="surveys", verbose_name=_("student"))
    respondent = models.CharField(_("respondent"), max_length=10, choices=Counterpart.choices)
    parent = models.ForeignKey("parents.Parent", on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="surveys", verbose_name=_("parent"))
    surveyed_at = models.DateTimeField(_("surveyed at"), db_index=True)
    overall = models.PositiveSmallIntegerField(_("overall (1-5)"))
    teaching = models.PositiveSmallIntegerField(_("teaching (1-5)"), null=True, blank=True)
    service = models.PositiveSmallIntegerField(_("service (1-5)"), null=True, blank=True)
    environment = models.PositiveSmallIntegerField(_("premises (1-5)"), null=True, blank=True)
    recommend = models.PositiveSmallIntegerField(_("would recommend (0-10)"), null=True,
                                                 blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        ordering = ["-surveyed_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(overall__gte=1, overall__lte=5)
                           & (Q(teaching__isnull=True) | Q(teaching__gte=1, teaching__lte=5))
                           & (Q(service__isnull=True) | Q(service__gte=1, service__lte=5))
                           & (Q(environment__isnull=True)
                              | Q(environment__gte=1, environment__lte=5))
                           & (Q(recommend__isnull=True) | Q(recommend__lte=10))),
                name="survey_scores_in_range",
                violation_error_message=_("Ratings are 1-5; 'would recommend' is 0-10."),
            ),
            models.CheckConstraint(condition=_parent_matches_counterpart("respondent"),
                                   name="survey_parent_iff_parent_respondent",
                                   violation_error_message=_("Name the parent when a parent "
                                                             "answered, and only then.")),
        ]

    def __str__(self) -> str:
        return f"{self.student} {self.get_respondent_display()} {self.overall}/5"

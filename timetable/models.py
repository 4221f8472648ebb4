"""Scheduling (排课): rooms, availability, closed days, terms, weekly rules and the
timetable-side facts about each lesson (its room, the rule that made it, changes).

The lesson itself stays `students.ClassSession` (roll call, hours and the early warning
read it); a `SessionSlot` row beside it holds what scheduling adds, so every existing
reader keeps working and a session typed in by hand simply has no slot.
"""
from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Weekday(models.IntegerChoices):
    """ISO weekdays (Monday = 1), as date.isoweekday() counts them."""

    MONDAY = 1, _("Monday")
    TUESDAY = 2, _("Tuesday")
    WEDNESDAY = 3, _("Wednesday")
    THURSDAY = 4, _("Thursday")
    FRIDAY = 5, _("Friday")
    SATURDAY = 6, _("Saturday")
    SUNDAY = 7, _("Sunday")


class Room(models.Model):
    """A classroom of a branch; its capacity bounds the class placed in it."""

    branch = models.ForeignKey("crm.Branch", on_delete=models.PROTECT, related_name="rooms",
                               verbose_name=_("branch"), db_index=False)
    name = models.CharField(_("name"), max_length=50)
    capacity = models.PositiveSmallIntegerField(_("capacity"), validators=[MinValueValidator(1)])
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["branch", "name"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "name"], name="room_unique_name_in_branch",
                                    violation_error_message=_("This branch already has a room "
                                                              "with this name.")),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="room_capacity_positive",
                                   violation_error_message=_("A room holds at least one "
                                                             "person.")),
        ]

    def __str__(self) -> str:
        return self.name


class TeacherAvailability(models.Model):
    """When a teacher can be scheduled: a weekly hours cap and weekdays off."""

    teacher = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                   related_name="availability", verbose_name=_("teacher"))
    weekly_hours = models.DecimalField(
        _("weekly hours (max)"), max_digits=5, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Empty: no cap on teaching hours a week."))
    days_off = models.JSONField(_("days off"), default=list, blank=True,
                                help_text=_("Weekdays off, 1 = Monday ... 7 = Sunday."))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("teacher availability")
        verbose_name_plural = _("teacher availability")

    def __str__(self) -> str:
        return str(self.teacher)


class Holiday(models.Model):
    """The national calendar: public holidays (closed) and 调休 working weekends.

    Shipped by a data migration (China 2026 and 2027); head office adds later years in
    the admin when the State Council publishes them.
    """

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Public holiday (closed)")
        WORKDAY = "workday", _("Working weekend (调休上班)")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=50)
    provisional = models.BooleanField(
        _("provisional"), default=False,
        help_text=_("Statutory day known, the year's official arrangement not yet loaded."))

    class Meta:
        verbose_name = _("public holiday")
        verbose_name_plural = _("public holiday calendar")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class ClosedDay(models.Model):
    """A day one branch is closed besides the public holidays (renovation, exams...)."""

    branch = models.ForeignKey("crm.Branch", on_delete=models.CASCADE, related_name="closed_days",
                               verbose_name=_("branch"), db_index=False)
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=100)

    class Meta:
        verbose_name = _("branch closed day")
        verbose_name_plural = _("branch closed days")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "date"], name="closedday_once",
                                    violation_error_message=_("This day is already closed.")),
        ]

    def __str__(self) -> str:
        return f"{self.branch} {self.date}"


class Term(models.Model):
    """A teaching term (学期/寒暑假班) that weekly rules run through."""

    branch = models.ForeignKey("crm.Branch", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="terms", verbose_name=_("branch"),
                               help_text=_("Empty: a term of every branch."))
    name = models.CharField(_("name"), max_length=50)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    skip_working_weekends = models.BooleanField(
        _("skip working weekends"), default=True,
        help_text=_("No lessons on a 调休 working Saturday or Sunday: pupils are at school."))

    class Meta:
        verbose_name = _("term")
        verbose_name_plural = _("terms")
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")),
                                   name="term_end_after_start",
                                   violation_error_message=_("The term must end on or after "
                                                             "its start date.")),
        ]

    def __str__(self) -> str:
        return self.name


class ScheduleRule(models.Model):
    """A class meets every <weekday> <start>-<end> in <room> with <teacher> from ... to ....

    The rule generates the class's sessions (skipping closed days); editing it rewrites
    the sessions from today on and never touches the past.
    """

    class_group = models.ForeignKey("students.ClassGroup", on_delete=models.CASCADE,
                                    related_name="schedule_rules", verbose_name=_("class group"))
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices,
                                               validators=[MinValueValidator(1),
                                                           MaxValueValidator(7)])
    start_time = models.TimeField(_("start time"))
    end_time = models.TimeField(_("end time"))
    room = models.ForeignKey(Room, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="rules", verbose_name=_("room"))
    teacher = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="schedule_rules",
                                verbose_name=_("teacher"))
    term = models.ForeignKey(Term, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="rules", verbose_name=_("term"))
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until"))
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("weekly schedule rule")
        verbose_name_plural = _("weekly schedule rules")
        ordering = ["class_group", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(condition=Q(end_time__gt=F("start_time")),
                                   name="rule_end_after_start",
                                   violation_error_message=_("A lesson must end after it "
                                                             "starts.")),
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")),
                                   name="rule_until_after_from",
                                   violation_error_message=_("The rule must end on or after "
                                                             "its first day.")),
        ]

    def __str__(self) -> str:
        return (f"{self.class_group} {self.get_weekday_display()} "
                f"{self.start_time:%H:%M}-{self.end_time:%H:%M}")


class SessionSlot(models.Model):
    """What scheduling knows about one lesson: its room and the rule date it came from.

    `rule_date` stays the date the rule meant when the lesson is moved, so re-running
    the rule recognises it instead of writing a second lesson.
    """

    session = models.OneToOneField("students.ClassSession", on_delete=models.CASCADE,
                                   primary_key=True, related_name="slot",
                                   verbose_name=_("session"))
    room = models.ForeignKey(Room, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="slots", verbose_name=_("room"))
    rule = models.ForeignKey(ScheduleRule, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="slots", verbose_name=_("rule"))
    rule_date = models.DateField(_("date in the rule"), null=True, blank=True)

    class Meta:
        verbose_name = _("scheduled lesson")
        verbose_name_plural = _("scheduled lessons")
        constraints = [
            models.UniqueConstraint(fields=["rule", "rule_date"], name="slot_once_per_rule_date",
                                    condition=Q(rule__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.session} {self.room or ''}"


class SessionChange(models.Model):
    """A lesson moved (调课) or cancelled (停课): who, when, why, from where to where.

    A cancelled rule date is remembered here so regenerating the rule does not bring the
    lesson back.
    """

    class Kind(models.TextChoices):
        MOVED = "moved", _("Moved")
        CANCELLED = "cancelled", _("Cancelled")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    class_group = models.ForeignKey("students.ClassGroup", on_delete=models.CASCADE,
                                    related_name="session_changes",
                                    verbose_name=_("class group"))
    session = models.ForeignKey("students.ClassSession", on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="changes", verbose_name=_("session"))
    rule = models.ForeignKey(ScheduleRule, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="changes", verbose_name=_("rule"), db_index=False)
    rule_date = models.DateField(_("date in the rule"), null=True, blank=True)
    from_date = models.DateField(_("was on"))
    from_start = models.TimeField(_("was from"))
    from_end = models.TimeField(_("was until"))
    to_date = models.DateField(_("now on"), null=True, blank=True)
    to_start = models.TimeField(_("now from"), null=True, blank=True)
    to_end = models.TimeField(_("now until"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    notified = models.PositiveSmallIntegerField(_("guardians notified"), default=0)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("lesson change")
        verbose_name_plural = _("lesson changes")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["rule", "rule_date"], name="change_rule_date")]

    def __str__(self) -> str:
        return f"{self.class_group} {self.from_date} {self.get_kind_display()}"


class ConflictOverride(models.Model):
    """A manager let a conflicting lesson through: the conflict, the reason, who and when."""

    branch = models.ForeignKey("crm.Branch", on_delete=models.CASCADE, related_name="+",
                               verbose_name=_("branch"))
    session = models.ForeignKey("students.ClassSession", on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="conflict_overrides",
                                verbose_name=_("session"))
    kind = models.CharField(_("conflict"), max_length=20)
    message = models.TextField(_("message"))
    reason = models.CharField(_("reason"), max_length=200)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              related_name="+", verbose_name=_("overridden by"))
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("conflict override")
        verbose_name_plural = _("conflict overrides")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.reason}"


class LeaveRequest(models.Model):
    """A leave (请假) asked for before a lesson; it may turn into a make-up booking."""

    session = models.ForeignKey("students.ClassSession", on_delete=models.CASCADE,
                                related_name="leave_requests", verbose_name=_("session"),
                                db_index=False)
    student = models.ForeignKey("students.Student", on_delete=models.CASCADE,
                                related_name="leave_requests", verbose_name=_("student"))
    attendance = models.OneToOneField("students.Attendance", on_delete=models.SET_NULL,
                                      null=True, blank=True, related_name="leave_request",
                                      verbose_name=_("leave record"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("recorded by"))
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)

    class Meta:
        verbose_name = _("leave request")
        verbose_name_plural = _("leave requests")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(fields=["session", "student"], name="leave_once_per_session",
                                    violation_error_message=_("This student already asked "
                                                              "for leave from this lesson.")),
        ]

    def __str__(self) -> str:
        return f"{self.student} {self.session}"


def new_feed_token() -> str:
    return secrets.token_urlsafe(24)


class CalendarFeed(models.Model):
    """A teacher's iCalendar subscription; the token in the URL is the key, revocable."""

    teacher = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="calendar_feeds", verbose_name=_("teacher"))
    token = models.CharField(_("token"), max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.teacher} {self.created_at:%Y-%m-%d}"

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from students.choices import Subject


class Course(models.Model):
    """A product sold in lesson-hour packages (e.g. 高二数学一对一)."""

    class Format(models.TextChoices):
        ONE_TO_ONE = "one_to_one", _("One-to-one")
        SMALL_GROUP = "small_group", _("Small group")
        CLASS = "class", _("Class")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    subject = models.CharField(_("subject"), max_length=20, choices=Subject.choices)
    format = models.CharField(_("format"), max_length=20, choices=Format.choices,
                              default=Format.SMALL_GROUP)
    level = models.CharField(_("level / grades"), max_length=50, blank=True)
    unit_price = models.DecimalField(_("price per hour"), max_digits=9, decimal_places=2,
                                     validators=[MinValueValidator(Decimal("0"))])
    branch = models.ForeignKey("crm.Branch", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="courses",
                               help_text=_("Empty: offered by every branch."),
                               verbose_name=_("branch"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(unit_price__gte=0),
                                   name="course_price_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class ClassGroup(models.Model):
    """A class (班级) of a course in a branch, with its teacher."""

    branch = models.ForeignKey("crm.Branch", on_delete=models.PROTECT, related_name="class_groups",
                               verbose_name=_("branch"), db_index=False)
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="class_groups",
                               verbose_name=_("course"))
    name = models.CharField(_("name"), max_length=100)
    teacher = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="class_groups", verbose_name=_("teacher"))
    capacity = models.PositiveSmallIntegerField(_("capacity"), default=12)
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("class group")
        verbose_name_plural = _("class groups")
        ordering = ["branch", "name"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "name"],
                                    name="classgroup_unique_name_in_branch",
                                    violation_error_message=_("This branch already has a class "
                                                              "with this name.")),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(start_date__isnull=True)
                | Q(end_date__gte=F("start_date")),
                name="classgroup_end_after_start",
                violation_error_message=_("The end date must not be before the start date."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ClassSession(models.Model):
    """One lesson of a class group; roll call is taken per session."""

    class_group = models.ForeignKey(ClassGroup, on_delete=models.CASCADE, related_name="sessions",
                                    verbose_name=_("class group"), db_index=False)
    date = models.DateField(_("date"), db_index=True)
    start_time = models.TimeField(_("start time"))
    end_time = models.TimeField(_("end time"))
    hours = models.DecimalField(_("lesson hours"), max_digits=4, decimal_places=2,
                                default=Decimal("2.00"))
    teacher = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="+", verbose_name=_("teacher"))
    room = models.CharField(_("room"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("class session")
        verbose_name_plural = _("class sessions")
        ordering = ["-date", "-start_time"]
        constraints = [
            models.UniqueConstraint(fields=["class_group", "date", "start_time"],
                                    name="session_unique_slot",
                                    violation_error_message=_("This class already has a lesson "
                                                              "at that date and time.")),
            models.CheckConstraint(condition=Q(end_time__gt=F("start_time")),
                                   name="session_end_after_start",
                                   violation_error_message=_("A lesson must end after it starts.")),
            models.CheckConstraint(condition=Q(hours__gt=0), name="session_hours_positive",
                                   violation_error_message=_("Lesson hours must be positive.")),
        ]

    def __str__(self) -> str:
        return f"{self.class_group} {self.date} {self.start_time:%H:%M}"


class Attendance(models.Model):
    """A student's presence at one session; attended/late lessons consume hours."""

    class Status(models.TextChoices):
        ATTENDED = "attended", _("Attended")
        LATE = "late", _("Late")
        LEAVE = "leave", _("On leave")
        ABSENT = "absent", _("Absent")

    # Statuses that draw hours from the ledger (leave does not; absence policy: does not).
    CONSUMING = frozenset({Status.ATTENDED, Status.LATE})
    PRESENT = frozenset({Status.ATTENDED, Status.LATE})

    session = models.ForeignKey(ClassSession, on_delete=models.CASCADE, related_name="attendances",
                                verbose_name=_("session"), db_index=False)
    student = models.ForeignKey("students.Student", on_delete=models.CASCADE,
                                related_name="attendances", verbose_name=_("student"),
                                db_index=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    # Denormalised from the session so per-student attendance figures need no join.
    date = models.DateField(_("date"))
    contract = models.ForeignKey("students.Contract", on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="attendances",
                                 verbose_name=_("contract charged"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["session", "student"],
                                    name="attendance_once_per_session",
                                    violation_error_message=_("Attendance for this student and "
                                                              "lesson is already recorded.")),
        ]
        # Every per-student read (by date, newest first, counted by status) from one
        # index; on PostgreSQL the nightly counts read it alone. Key columns, not INCLUDE:
        # other databases skip covering indexes.
        indexes = [models.Index(fields=["student", "date", "status"],
                                name="attendance_student_cover")]

    def __str__(self) -> str:
        return f"{self.student} {self.date} {self.get_status_display()}"


class ExamScore(models.Model):
    """School exam results: what parents care about most (DOMAIN.md §2)."""

    class Kind(models.TextChoices):
        QUIZ = "quiz", _("Quiz / monthly test")
        MIDTERM = "midterm", _("Mid-term")
        FINAL = "final", _("Final")
        MOCK = "mock", _("Mock exam")
        ZHONGKAO = "zhongkao", _("Zhongkao")
        GAOKAO = "gaokao", _("Gaokao")

    student = models.ForeignKey("students.Student", on_delete=models.CASCADE,
                                related_name="exam_scores", verbose_name=_("student"),
                                db_index=False)
    subject = models.CharField(_("subject"), max_length=20, choices=Subject.choices)
    exam_name = models.CharField(_("exam"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.QUIZ)
    exam_date = models.DateField(_("exam date"))
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=1)
    full_marks = models.DecimalField(_("full marks"), max_digits=6, decimal_places=1,
                                     default=Decimal("150"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("exam score")
        verbose_name_plural = _("exam scores")
        ordering = ["-exam_date"]
        constraints = [
            models.CheckConstraint(condition=Q(full_marks__gt=0), name="exam_full_marks_positive",
                                   violation_error_message=_("Full marks must be positive.")),
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=F("full_marks")),
                                   name="exam_score_within_full_marks",
                                   violation_error_message=_("The score must be between 0 and "
                                                             "the full marks.")),
            models.UniqueConstraint(fields=["student", "subject", "exam_name", "exam_date"],
                                    name="exam_score_once",
                                    violation_error_message=_("This exam result is already "
                                                              "recorded.")),
        ]
        indexes = [models.Index(fields=["student", "subject", "exam_date"])]

    def __str__(self) -> str:
        return f"{self.student} {self.exam_name} {self.score}/{self.full_marks}"

    @property
    def percent(self) -> float:
        return float(self.score) * 100.0 / float(self.full_marks)


class MakeUp(models.Model):
    """A make-up lesson booked for a leave: original (leave) attendance -> make-up session.

    One make-up per leave (one-to-one); attending the make-up session consumes hours as
    usual at its roll call.
    """

    original = models.OneToOneField(Attendance, on_delete=models.CASCADE, related_name="makeup",
                                    verbose_name=_("leave attendance"))
    session = models.ForeignKey(ClassSession, on_delete=models.CASCADE, related_name="makeups",
                                verbose_name=_("make-up session"))
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                  null=True, blank=True, related_name="+",
                                  verbose_name=_("booked by"))
    booked_at = models.DateTimeField(_("booked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("make-up lesson")
        verbose_name_plural = _("make-up lessons")
        ordering = ["-booked_at"]

    def __str__(self) -> str:
        return f"{self.original.student} → {self.session}"

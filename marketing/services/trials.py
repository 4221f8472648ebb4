"""Trial lessons (试听课) as real records: the one door for booking one and recording how
it went (issue #24; DOMAIN.md §6: a trial stimulates the first purchase).

A trial is a seat in a real class session (capacity counted against the class's roster
and the other trials booked in it) or a one-to-one slot with a named teacher. Its
outcome moves the prospect's funnel through prospect_advance, the pipeline's one door:
booked -> "trial booked"; attended / enrolled -> "trial attended" (dated by the lesson);
enrolled also needs the paid contract that "enrolled" always needs; not interested ->
"lost" with the reason. A no-show keeps the stage and puts the family on today's
follow-up list.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.permissions import role_of
from crm.roles import Role
from parents.models import Guardianship
from students.models import ClassSession, Course, Student
from students.services import session_roster

from ..models import Prospect, Stage, TrialLesson
from ..selectors.facts import paid_contracts
from .prospects import prospect_advance, prospect_ensure, prospect_follow_up

Outcome = TrialLesson.Outcome
# Stages from which booking a trial is the next step of the funnel.
BEFORE_TRIAL = frozenset({Stage.NEW, Stage.INVITED, Stage.VISITED})
# Which outcome may follow which: a recorded outcome is a fact, only "attended" can still
# become "enrolled" (they signed later) or "not interested" (they decided later).
NEXT_OUTCOMES: dict[str, frozenset[str]] = {
    Outcome.BOOKED: frozenset({Outcome.ATTENDED, Outcome.NO_SHOW, Outcome.ENROLLED,
                               Outcome.NOT_INTERESTED}),
    Outcome.ATTENDED: frozenset({Outcome.ENROLLED, Outcome.NOT_INTERESTED}),
    Outcome.NO_SHOW: frozenset({Outcome.NOT_INTERESTED}),
    Outcome.ENROLLED: frozenset(),
    Outcome.NOT_INTERESTED: frozenset(),
}


def _err(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


# --- the course picker -------------------------------------------------------------------

def levels_for_grade(grade: str) -> set[str]:
    """Course.level values that fit a grade: the grade code itself (S2), the primary
    bands the catalogue uses (PL = P1-P3, PH = P4-P6) and the grade's Chinese name."""
    from students.choices import Grade

    levels = {grade}
    if grade in {"P1", "P2", "P3"}:
        levels.add("PL")
    if grade in {"P4", "P5", "P6"}:
        levels.add("PH")
    label = str(dict(Grade.choices).get(grade, ""))
    if "(" in label:
        levels.add(label.split("(")[-1].rstrip(")"))
    return levels


def courses_for(student: Student) -> QuerySet:
    """Active courses of the student's branch (and the institution-wide ones), those that
    fit the student's grade first; each row has `fits` (1 or 0)."""
    return (Course.objects.filter(Q(branch=student.branch_id) | Q(branch__isnull=True),
                                  is_active=True)
            .annotate(fits=Case(When(level__in=sorted(levels_for_grade(student.grade)),
                                     then=Value(1)), default=Value(0),
                                output_field=IntegerField()))
            .order_by("-fits", "name", "pk"))


def seats_left(session: ClassSession) -> int:
    """Capacity minus the expected roster and the trials already booked in the lesson."""
    booked = session.trial_lessons.exclude(
        outcome__in=[Outcome.NOT_INTERESTED, Outcome.NO_SHOW]).count()
    return session.class_group.capacity - len(session_roster(session)) - booked


def open_sessions(student: Student, *, days: int = 28,
                  today: dt.date | None = None) -> QuerySet:
    """Upcoming lessons of the student's branch a trial seat can be booked in."""
    today = today or timezone.localdate()
    return (ClassSession.objects.filter(
        class_group__branch=student.branch_id, class_group__is_active=True,
        date__gte=today, date__lte=today + dt.timedelta(days=days))
        .select_related("class_group__course", "class_group__teacher__staff_profile",
                        "teacher__staff_profile")
        .order_by("date", "start_time", "pk"))


# --- booking -------------------------------------------------------------------------------

def _check_teacher(student: Student, teacher: Any) -> None:
    profile = getattr(teacher, "staff_profile", None)
    if role_of(teacher) != Role.TEACHER or profile is None \
            or profile.branch_id != student.branch_id:
        raise _err("teacher", _("Choose a teacher of the student's branch."), "invalid_teacher")


@transaction.atomic
def trial_book(*, student: Student, course: Course, actor: Any,
               session: ClassSession | None = None, date: dt.date | None = None,
               start_time: dt.time | None = None, end_time: dt.time | None = None,
               teacher: Any = None, booked_with: str = "parent", parent: Any = None,
               note: str = "") -> TrialLesson:
    """Book a trial: a seat in `session`, or a one-to-one slot (date, times, teacher).

    Refuses a lesson in the past, of another branch or course, a full class, a teacher
    already busy then, and a parent who is not the student's guardian. Booking the same
    seat twice (a double-clicked submit) returns the first booking. The prospect moves to
    "trial booked" and is to be followed up on the trial's day.
    """
    today = timezone.localdate()
    if booked_with == "parent" and parent is None:
        raise _err("parent", _("Choose which parent booked the trial."), "required")
    if booked_with == "student":
        parent = None
    if parent is not None and not Guardianship.objects.filter(student=student,
                                                              parent=parent).exists():
        raise _err("parent", _("This parent is not a guardian of the student."),
                   "not_guardian")
    if session is not None:
        # Lock the lesson so two bookings of its last seat cannot both pass.
        session = (ClassSession.objects.select_for_update(of=("self",))
                   .select_related("class_group").get(pk=session.pk))
        group = session.class_group
        if group.branch_id != student.branch_id:
            raise _err("session", _("This lesson is in another branch."), "other_branch")
        if group.course_id != course.pk:
            raise _err("session", _("This lesson is of another course (%(course)s).")
                       % {"course": group.course}, "other_course")
        existing = TrialLesson.objects.filter(session=session, student=student).first()
        if existing is not None:
            return existing
        if session.date < today:
            raise _err("session", _("This lesson is already over."), "past")
        if seats_left(session) <= 0:
            raise _err("session", _("This lesson is full."), "full")
        date, start_time, end_time = session.date, session.start_time, session.end_time
        teacher = teacher or session.teacher or group.teacher
        if teacher is None:
            raise _err("teacher", _("The lesson has no teacher; name one."), "required")
    else:
        missing = [f for f, v in (("date", date), ("start_time", start_time),
                                  ("end_time", end_time), ("teacher", teacher)) if v is None]
        if missing:
            raise ValidationError({f: ValidationError(
                _("Required for a one-to-one trial."), code="required") for f in missing})
        _check_teacher(student, teacher)
        if date < today:
            raise _err("date", _("A trial lesson cannot be booked in the past."), "past")
        if end_time <= start_time:
            raise _err("end_time", _("A lesson must end after it starts."), "order")
        same = TrialLesson.objects.filter(student=student, session__isnull=True, date=date,
                                          start_time=start_time, course=course,
                                          outcome=Outcome.BOOKED).first()
        if same is not None:
            return same
        busy = TrialLesson.objects.filter(teacher=teacher, date=date, start_time__lt=end_time,
                                          end_time__gt=start_time, outcome=Outcome.BOOKED)
        if busy.exists():
            raise _err("start_time", _("%(teacher)s already has a trial lesson then.")
                       % {"teacher": teacher}, "teacher_busy")
    trial = TrialLesson(student=student, course=course, session=session, date=date,
                        start_time=start_time, end_time=end_time, teacher=teacher,
                        booked_with=booked_with, parent=parent, note=(note or "").strip(),
                        booked_by=actor if getattr(actor, "pk", None) else None)
    trial.full_clean()
    trial.save()
    prospect = prospect_ensure(student=student, actor=actor)
    if prospect.stage in BEFORE_TRIAL:
        prospect_advance(prospect=prospect, stage=Stage.TRIAL_BOOKED, actor=actor,
                         note=_("Trial lesson %(course)s on %(date)s.")
                         % {"course": course, "date": date.isoformat()},
                         next_follow_up=date)
    elif prospect.stage == Stage.TRIAL_BOOKED:
        prospect_follow_up(prospect=prospect, on=date, actor=actor)
    return trial


# --- outcome -------------------------------------------------------------------------------

def _advance_to_attended(prospect: Prospect, trial: TrialLesson, actor: Any) -> None:
    if prospect.stage in BEFORE_TRIAL:
        # Booked before the pipeline knew (e.g. in the admin): record both steps.
        prospect_advance(prospect=prospect, stage=Stage.TRIAL_BOOKED, actor=actor,
                         on=min(trial.booked_at.date(), trial.date))
        prospect.refresh_from_db()
    if prospect.stage == Stage.TRIAL_BOOKED:
        prospect_advance(prospect=prospect, stage=Stage.TRIAL_ATTENDED, actor=actor)
        prospect.refresh_from_db()


@transaction.atomic
def trial_record_outcome(*, trial: TrialLesson, outcome: str, actor: Any,
                         note: str = "") -> TrialLesson:
    """Record how the trial went and move the funnel from it (see the module docstring)."""
    trial = TrialLesson.objects.select_for_update(of=("self",)).select_related(
        "student").get(pk=trial.pk)
    if outcome not in Outcome.values or outcome == Outcome.BOOKED:
        raise _err("outcome", _("Choose what happened."), "invalid")
    if outcome == trial.outcome:
        return trial  # the same answer twice (a double click): nothing more to do
    if outcome not in NEXT_OUTCOMES[trial.outcome]:
        raise _err("outcome", _("A trial marked “%(from)s” cannot become “%(to)s”.")
                   % {"from": trial.get_outcome_display(), "to": Outcome(outcome).label},
                   "illegal_outcome")
    today = timezone.localdate()
    if outcome in {Outcome.ATTENDED, Outcome.NO_SHOW, Outcome.ENROLLED} and trial.date > today:
        raise _err("outcome", _("The trial lesson has not taken place yet."), "future")
    student = trial.student
    if outcome == Outcome.ENROLLED and not paid_contracts().filter(student=student).exists():
        raise _err("outcome", _("Enrolled needs a paid contract: sign and take the first "
                                "payment first."), "no_paid_contract")
    trial.outcome, trial.outcome_at = outcome, timezone.now()
    trial.outcome_by = actor if getattr(actor, "pk", None) else None
    trial.outcome_note = (note or "").strip()
    trial.save(update_fields=["outcome", "outcome_at", "outcome_by", "outcome_note"])

    prospect = prospect_ensure(student=student, actor=actor)
    if outcome in TrialLesson.ATTENDED_OUTCOMES:
        _advance_to_attended(prospect, trial, actor)
    if outcome == Outcome.ENROLLED and prospect.stage != Stage.ENROLLED:
        prospect_advance(prospect=prospect, stage=Stage.ENROLLED, actor=actor)
    elif outcome == Outcome.NO_SHOW and prospect.stage not in {Stage.ENROLLED, Stage.LOST}:
        prospect_follow_up(prospect=prospect, on=today, actor=actor)
    elif outcome == Outcome.NOT_INTERESTED and prospect.stage not in {Stage.ENROLLED,
                                                                       Stage.LOST}:
        prospect_advance(prospect=prospect, stage=Stage.LOST, actor=actor,
                         lost_reason=trial.outcome_note or _("Not interested after the "
                                                             "trial lesson."))
    return trial

"""Leave (请假) asked before a lesson, and the make-up booking it turns into.

The leave is an Attendance row with status "leave" (students' roll call reads it, no
hours are drawn); the make-up goes through students.makeup_book, after the seat and the
student's own timetable are checked here.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from marketing.models import TrialLesson
from students.models import Attendance, ClassSession, Course, MakeUp, Student
from students.services import attendance_record, makeup_book, notice_enqueue, session_roster
from timetable.access import check_leave
from timetable.models import LeaveRequest, SessionSlot

from .conflicts import ConflictError, student_conflicts
from .schedule import _when


def seats(session: ClassSession) -> int:
    """How many may sit in: the class's capacity, the room's if smaller; one-to-one is 1."""
    group = session.class_group
    if group.course.format == Course.Format.ONE_TO_ONE:
        return 1
    cap = group.capacity
    slot = SessionSlot.objects.filter(session=session).select_related("room").first()
    if slot is not None and slot.room is not None:
        cap = min(cap, slot.room.capacity)
    return cap


def seats_free(session: ClassSession) -> int:
    """Seats minus the roster and the trial seats booked; a student on leave frees theirs."""
    on_leave = Attendance.objects.filter(session=session,
                                         status=Attendance.Status.LEAVE).count()
    trials = TrialLesson.objects.filter(session=session,
                                        outcome=TrialLesson.Outcome.BOOKED).count()
    return seats(session) - (len(session_roster(session)) - on_leave) - trials


def _starts_at(session: ClassSession) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(session.date, session.start_time))


@transaction.atomic
def leave_request(*, session: ClassSession, student: Student, actor: Any, reason: str = "",
                  now: dt.datetime | None = None) -> LeaveRequest:
    """Record a leave before the lesson starts (after it, roll call says absent)."""
    check_leave(actor, session.class_group.branch_id)
    now = now or timezone.now()
    if _starts_at(session) <= now:
        raise ValidationError({"session": _("A leave must be asked before the lesson "
                                            "starts.")})
    if student.pk not in {s.pk for s in session_roster(session)}:
        raise ValidationError({"student": _("%(name)s is not on this lesson's roster.")
                               % {"name": student.name_zh}})
    if LeaveRequest.objects.filter(session=session, student=student).exists():
        raise ValidationError({"student": _("%(name)s already asked for leave from this "
                                            "lesson.") % {"name": student.name_zh}})
    att = attendance_record(session=session, student=student, status=Attendance.Status.LEAVE,
                            actor=actor, note=reason[:200])
    try:
        with transaction.atomic():
            return LeaveRequest.objects.create(session=session, student=student,
                                               attendance=att, reason=reason[:200],
                                               requested_by=actor)
    except IntegrityError as exc:  # a double submit raced us
        raise ValidationError({"student": _("%(name)s already asked for leave from this "
                                            "lesson.") % {"name": student.name_zh}}) from exc


def makeup_options(leave: LeaveRequest, *, limit: int = 10,
                   now: dt.datetime | None = None) -> list[ClassSession]:
    """Later lessons of the same course in the branch with a free seat and no clash."""
    now = now or timezone.now()
    original = leave.session
    qs = (ClassSession.objects.filter(
        class_group__course=original.class_group.course,
        class_group__branch=original.class_group.branch, date__gte=now.date())
        .exclude(pk=original.pk).exclude(class_group=original.class_group)
        .select_related("class_group__course").annotate(
            n=Count("attendances", filter=Q(attendances__status=Attendance.Status.LEAVE)))
        .order_by("date", "start_time")[:limit * 3])
    out = []
    for s in qs:
        if _starts_at(s) <= now or seats_free(s) <= 0:
            continue
        if student_conflicts(leave.student, s):
            continue
        out.append(s)
        if len(out) >= limit:
            break
    return out


@transaction.atomic
def leave_makeup(*, leave: LeaveRequest, session: ClassSession, actor: Any,
                 notify: bool = True) -> MakeUp:
    """Turn a leave into a make-up seat in another lesson (free seat, student free then)."""
    check_leave(actor, session.class_group.branch_id)
    if leave.attendance is None or leave.attendance.status != Attendance.Status.LEAVE:
        raise ValidationError(_("This leave was changed at roll call; no make-up can be "
                                "booked for it."))
    ClassSession.objects.select_for_update().filter(pk=session.pk).first()
    if seats_free(session) <= 0:
        raise ValidationError({"session": _("No free seat in %(cls)s on %(when)s.") % {
            "cls": session.class_group.name,
            "when": _when(session.date, session.start_time, session.end_time)}})
    conflicts = student_conflicts(leave.student, session)
    if conflicts:
        raise ConflictError(conflicts)
    makeup = makeup_book(leave=leave.attendance, session=session, actor=actor)
    if notify:
        notice_enqueue(student=leave.student, template_code="makeup_booked", context={
            "course": session.class_group.course.name,
            "new": _when(session.date, session.start_time, session.end_time)})
    return makeup

"""调课, 停课, 请假 and make-ups: families hear of changes; seats and clashes are checked."""
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from students.models import Attendance, ClassSession, MakeUp, MessageLog
from tests.factories import ClassGroupFactory, CourseFactory, GuardianshipFactory
from timetable.models import LeaveRequest, SessionChange
from timetable.services import (
    ConflictError,
    leave_makeup,
    leave_request,
    makeup_options,
    seats_free,
    session_cancel,
    session_create,
    session_move,
)

from .conftest import enrol

pytestmark = pytest.mark.django_db

DAY = dt.date(2027, 3, 6)  # a Saturday, after "today"
BEFORE = timezone.make_aware(dt.datetime(2027, 3, 1, 12))


def _lesson(manager, group, day=DAY, start=9, room=None):
    return session_create(actor=manager, class_group=group, date=day, start_time=dt.time(start),
                          end_time=dt.time(start + 2), room=room)


@pytest.fixture
def guardians(group_a):
    return [GuardianshipFactory(student=c.student) for c in group_a.contracts.all()]


def test_moving_a_lesson_tells_each_family_and_is_logged(manager_a, group_a, guardians):
    lesson = _lesson(manager_a, group_a)
    session_move(session=lesson, actor=manager_a, date=DAY, start_time=dt.time(14),
                 end_time=dt.time(16), reason="老师外出培训")
    logs = MessageLog.objects.filter(template_code="session_moved")
    assert logs.count() == 3
    assert {g.parent_id for g in guardians} == set(logs.values_list("parent_id", flat=True))
    assert "14:00" in logs.first().text and "09:00" in logs.first().text
    change = SessionChange.objects.get()
    assert change.kind == SessionChange.Kind.MOVED and change.notified == 3
    assert (change.from_start, change.to_start) == (dt.time(9), dt.time(14))


def test_cancelling_a_lesson_tells_the_families_and_removes_it(manager_a, group_a, guardians):
    lesson = _lesson(manager_a, group_a)
    session_cancel(session=lesson, actor=manager_a, reason="台风停课")
    assert not ClassSession.objects.filter(pk=lesson.pk).exists()
    texts = list(MessageLog.objects.filter(template_code="session_cancelled")
                 .values_list("text", flat=True))
    assert len(texts) == 3 and all("台风停课" in t for t in texts)


def test_a_lesson_with_roll_call_taken_cannot_move(manager_a, group_a):
    lesson = _lesson(manager_a, group_a)
    Attendance.objects.create(session=lesson, student=group_a.contracts.first().student,
                              status=Attendance.Status.ATTENDED, date=lesson.date)
    with pytest.raises(ValidationError):
        session_move(session=lesson, actor=manager_a, date=DAY, start_time=dt.time(14),
                     end_time=dt.time(16))


def test_a_leave_before_the_lesson_becomes_a_make_up_in_another_class(
        manager_a, front_desk_a, group_a, branch_a, teacher_a2, rooms):
    lesson = _lesson(manager_a, group_a)
    sister = ClassGroupFactory(branch=branch_a, course=group_a.course, teacher=teacher_a2,
                               name="高二数学E班", capacity=4)
    enrol(sister, 3)
    later = _lesson(manager_a, sister, day=DAY + dt.timedelta(days=1), room=rooms["C205"])
    student = group_a.contracts.first().student
    GuardianshipFactory(student=student)
    leave = leave_request(session=lesson, student=student, actor=front_desk_a, reason="发烧",
                          now=BEFORE)
    assert leave.attendance.status == Attendance.Status.LEAVE
    assert makeup_options(leave, now=BEFORE) == [later]
    makeup = leave_makeup(leave=leave, session=later, actor=front_desk_a)
    assert MakeUp.objects.get() == makeup and makeup.session == later
    assert seats_free(later) == 0
    assert MessageLog.objects.filter(template_code="makeup_booked", student=student).count() == 1


def test_a_leave_after_the_start_is_refused(manager_a, front_desk_a, group_a):
    lesson = _lesson(manager_a, group_a)
    late = timezone.make_aware(dt.datetime.combine(DAY, dt.time(9, 30)))
    with pytest.raises(ValidationError):
        leave_request(session=lesson, student=group_a.contracts.first().student,
                      actor=front_desk_a, now=late)
    assert not LeaveRequest.objects.exists()


def test_a_full_lesson_takes_no_make_up(manager_a, front_desk_a, group_a, branch_a):
    lesson = _lesson(manager_a, group_a)
    full = ClassGroupFactory(branch=branch_a, course=group_a.course, name="满班", capacity=2)
    enrol(full, 2)
    target = _lesson(manager_a, full, start=14)
    leave = leave_request(session=lesson, student=group_a.contracts.first().student,
                          actor=front_desk_a, now=BEFORE)
    with pytest.raises(ValidationError) as exc:
        leave_makeup(leave=leave, session=target, actor=front_desk_a)
    assert "No free seat" in exc.value.messages[0]


def test_a_make_up_that_clashes_with_the_students_other_class_is_refused(
        manager_a, front_desk_a, group_a, group_b, branch_a):
    student = group_a.contracts.first().student
    enrol(group_b, students=[student])
    lesson = _lesson(manager_a, group_a)
    _lesson(manager_a, group_b, day=DAY + dt.timedelta(days=1), start=9)
    other = ClassGroupFactory(branch=branch_a, course=group_a.course, name="高二数学F班")
    target = _lesson(manager_a, other, day=DAY + dt.timedelta(days=1), start=10)
    leave = leave_request(session=lesson, student=student, actor=front_desk_a, now=BEFORE)
    with pytest.raises(ConflictError) as exc:
        leave_makeup(leave=leave, session=target, actor=front_desk_a)
    assert "高二物理B班" in exc.value.messages[0]


def test_a_one_to_one_lesson_has_one_seat(manager_a, branch_a, teacher_a2):
    one = ClassGroupFactory(branch=branch_a, teacher=teacher_a2, capacity=6, name="李四1v1",
                            course=CourseFactory(format="one_to_one"))
    enrol(one, 1)
    assert seats_free(_lesson(manager_a, one)) == 0


def test_a_teacher_cannot_record_leave(manager_a, teacher_a, group_a):
    from django.core.exceptions import PermissionDenied

    lesson = _lesson(manager_a, group_a)
    with pytest.raises(PermissionDenied):
        leave_request(session=lesson, student=group_a.contracts.first().student,
                      actor=teacher_a, now=BEFORE)


def _trial(lesson, branch):
    from marketing.models import TrialLesson
    from tests.factories import StudentFactory

    return TrialLesson.objects.create(
        student=StudentFactory(branch=branch), course=lesson.class_group.course, session=lesson,
        date=lesson.date, start_time=lesson.start_time, end_time=lesson.end_time,
        teacher=lesson.class_group.teacher)


def test_a_trial_seat_takes_a_place_and_moves_with_its_lesson(manager_a, group_a, branch_a):
    group_a.capacity = 4
    group_a.save()
    lesson = _lesson(manager_a, group_a)
    assert seats_free(lesson) == 1
    trial = _trial(lesson, branch_a)
    GuardianshipFactory(student=trial.student)
    assert seats_free(lesson) == 0
    session_move(session=lesson, actor=manager_a, date=DAY, start_time=dt.time(15),
                 end_time=dt.time(17))
    trial.refresh_from_db()
    assert (trial.date, trial.start_time, trial.end_time) == (DAY, dt.time(15), dt.time(17))
    assert MessageLog.objects.filter(template_code="session_moved",
                                     student=trial.student).count() == 1


def test_a_lesson_with_a_trial_booked_is_not_cancelled_and_stays_through_a_rule_rewrite(
        manager_a, group_a, branch_a, autumn):
    from timetable.models import Weekday
    from timetable.services import rule_save

    rule, _r = rule_save(actor=manager_a, class_group=group_a, weekday=Weekday.SATURDAY,
                         start_time=dt.time(9), end_time=dt.time(11), term=autumn)
    lesson = ClassSession.objects.get(class_group=group_a, date=dt.date(2026, 12, 19))
    _trial(lesson, branch_a)
    with pytest.raises(ValidationError) as exc:
        session_cancel(session=lesson, actor=manager_a)
    assert exc.value.code == "trials"
    result = rule_save(actor=manager_a, class_group=group_a, weekday=Weekday.SUNDAY,
                       start_time=dt.time(9), end_time=dt.time(11), term=autumn, rule=rule,
                       today=dt.date(2026, 12, 1))[1]
    assert lesson in result.kept and ClassSession.objects.filter(pk=lesson.pk).exists()

"""The one conflict check: who and when, a suggestion, and a manager's recorded override."""
import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from students.models import ClassSession
from tests.factories import ClassGroupFactory, CourseFactory
from timetable.models import ConflictOverride, TeacherAvailability, Weekday
from timetable.services import (
    ConflictError,
    ConflictKind,
    rule_save,
    session_create,
    session_move,
)

from .conftest import enrol

pytestmark = pytest.mark.django_db

SAT = Weekday.SATURDAY
DAY = dt.date(2026, 12, 12)  # a Saturday


def _kinds(exc):
    return {c.kind for c in exc.value.conflicts}


def _lesson(manager, group, room=None, start=9, end=11, day=DAY, teacher=None):
    return session_create(actor=manager, class_group=group, date=day, start_time=dt.time(start),
                          end_time=dt.time(end), room=room, teacher=teacher)


def test_the_same_teacher_twice_at_once_is_refused_naming_class_and_time(
        manager_a, group_a, branch_a, teacher_a, rooms):
    _lesson(manager_a, group_a, rooms["C204"])
    other = ClassGroupFactory(branch=branch_a, teacher=teacher_a, name="高一英语C班")
    with pytest.raises(ConflictError) as exc:
        _lesson(manager_a, other, rooms["C205"], start=10, end=12)
    assert _kinds(exc) == {ConflictKind.TEACHER}
    text = " ".join(exc.value.messages)
    assert "t_a" in text and "高二数学A班" in text and "09:00–11:00" in text
    assert "Free that day: 08:00" not in text and "11:00–13:00" in text  # a free slot
    assert not ClassSession.objects.filter(class_group=other).exists()


def test_a_taken_room_is_refused_with_free_rooms_suggested(manager_a, group_a, group_b, rooms):
    _lesson(manager_a, group_a, rooms["C204"])
    with pytest.raises(ConflictError) as exc:
        _lesson(manager_a, group_b, rooms["C204"], start=10, end=12)
    assert _kinds(exc) == {ConflictKind.ROOM}
    assert "Free rooms then: S101、C205." in " ".join(exc.value.messages)


def test_back_to_back_lessons_do_not_clash(manager_a, group_a, group_b, rooms):
    _lesson(manager_a, group_a, rooms["C204"])
    _lesson(manager_a, group_b, rooms["C204"], start=11, end=13)


def test_a_student_in_two_overlapping_classes_is_refused(manager_a, group_a, group_b, rooms):
    shared = group_a.contracts.first().student
    enrol(group_b, students=[shared])
    _lesson(manager_a, group_a, rooms["C204"])
    with pytest.raises(ConflictError) as exc:
        _lesson(manager_a, group_b, rooms["C205"], start=10, end=12)
    assert _kinds(exc) == {ConflictKind.STUDENT}
    assert shared.name_zh in exc.value.messages[0]


def test_a_room_too_small_for_the_class_is_refused(manager_a, group_a, rooms):
    enrol(group_a, 2)  # 5 students, S101 holds 4
    with pytest.raises(ConflictError) as exc:
        _lesson(manager_a, group_a, rooms["S101"])
    assert _kinds(exc) == {ConflictKind.CAPACITY}
    assert "holds 4" in exc.value.messages[0] and "5 students" in exc.value.messages[0]


def test_a_one_to_one_lesson_fits_the_small_room(manager_a, branch_a, teacher_a2, rooms):
    one = ClassGroupFactory(branch=branch_a, teacher=teacher_a2, capacity=1, name="张三数学1v1",
                            course=CourseFactory(format="one_to_one"))
    enrol(one, 1)
    _lesson(manager_a, one, rooms["S101"])


def test_a_teacher_day_off_and_weekly_cap_are_refused(manager_a, group_a, teacher_a, autumn):
    TeacherAvailability.objects.create(teacher=teacher_a, days_off=[6])
    with pytest.raises(ConflictError) as exc:
        rule_save(actor=manager_a, class_group=group_a, weekday=SAT, start_time=dt.time(9),
                  end_time=dt.time(11), term=autumn)
    assert _kinds(exc) == {ConflictKind.DAY_OFF}
    TeacherAvailability.objects.filter(teacher=teacher_a).update(days_off=[], weekly_hours=3)
    _lesson(manager_a, group_a, start=9, end=11)
    with pytest.raises(ConflictError) as exc:
        _lesson(manager_a, group_a, start=14, end=16)
    assert _kinds(exc) == {ConflictKind.WEEKLY_HOURS}


def test_a_closed_day_is_refused_for_a_single_lesson(manager_a, group_a):
    with pytest.raises(ConflictError) as exc:
        _lesson(manager_a, group_a, day=dt.date(2026, 10, 1))
    assert _kinds(exc) == {ConflictKind.CLOSED}
    assert "国庆节" in exc.value.messages[0]


def test_a_term_with_one_clash_writes_nothing(manager_a, group_a, branch_a, teacher_a, autumn):
    _lesson(manager_a, group_a, day=dt.date(2026, 11, 7))
    other = ClassGroupFactory(branch=branch_a, teacher=teacher_a, name="高一英语C班")
    with pytest.raises(ConflictError) as exc:
        rule_save(actor=manager_a, class_group=other, weekday=SAT, start_time=dt.time(10),
                  end_time=dt.time(12), term=autumn)
    assert len(exc.value.conflicts) == 1
    assert not ClassSession.objects.filter(class_group=other).exists()
    assert not other.schedule_rules.exists()


def test_a_manager_overrides_with_a_reason_and_it_is_recorded(
        manager_a, group_a, group_b, rooms, teacher_a):
    _lesson(manager_a, group_a, rooms["C204"])
    lesson = session_create(actor=manager_a, class_group=group_b, date=DAY,
                            start_time=dt.time(10), end_time=dt.time(12), room=rooms["C204"],
                            override_reason="两班合上公开课")
    row = ConflictOverride.objects.get()
    assert row.session == lesson and row.kind == ConflictKind.ROOM
    assert row.reason == "两班合上公开课" and row.actor == manager_a


def test_nobody_but_a_manager_overrides(head_office, manager_b, group_a, group_b, rooms):
    _lesson(head_office, group_a, rooms["C204"])
    with pytest.raises(PermissionDenied):
        session_create(actor=manager_b, class_group=group_b, date=DAY, start_time=dt.time(10),
                       end_time=dt.time(12), room=rooms["C204"], override_reason="x")


def test_moving_a_lesson_onto_another_is_refused_and_it_stays(manager_a, group_a, group_b, rooms):
    _lesson(manager_a, group_a, rooms["C204"])
    b = _lesson(manager_a, group_b, rooms["C204"], start=14, end=16)
    with pytest.raises(ConflictError):
        session_move(session=b, actor=manager_a, date=DAY, start_time=dt.time(10),
                     end_time=dt.time(12), notify=False)
    b.refresh_from_db()
    assert b.start_time == dt.time(14)
    session_move(session=b, actor=manager_a, date=DAY, start_time=dt.time(11),
                 end_time=dt.time(13), notify=False)
    b.refresh_from_db()
    assert b.start_time == dt.time(11)

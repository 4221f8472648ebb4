"""Weekly rules write a term's lessons around the real 2026 holiday calendar."""
import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from students.models import Attendance, ClassSession
from timetable.models import ClosedDay, Holiday, SessionChange, SessionSlot, Weekday
from timetable.services import rule_end, rule_save, session_cancel

pytestmark = pytest.mark.django_db

SAT, MON, FRI = Weekday.SATURDAY, Weekday.MONDAY, Weekday.FRIDAY
NINE, ELEVEN = dt.time(9), dt.time(11)


def _dates(group):
    return list(ClassSession.objects.filter(class_group=group).order_by("date")
                .values_list("date", flat=True))


def test_the_shipped_calendar_has_2026_holidays_and_working_weekends():
    national_day = Holiday.objects.get(date=dt.date(2026, 10, 1))
    assert national_day.kind == Holiday.Kind.HOLIDAY and not national_day.provisional
    assert Holiday.objects.get(date=dt.date(2026, 10, 10)).kind == Holiday.Kind.WORKDAY
    assert Holiday.objects.filter(date__year=2026, kind=Holiday.Kind.WORKDAY).count() == 6
    assert Holiday.objects.get(date=dt.date(2027, 2, 6)).provisional  # 春节 2027


def test_a_saturday_class_skips_national_day_and_the_working_saturday(
        manager_a, group_a, rooms, autumn):
    rule, result = rule_save(actor=manager_a, class_group=group_a, weekday=SAT,
                             start_time=NINE, end_time=ELEVEN, room=rooms["C204"], term=autumn)
    dates = _dates(group_a)
    assert dt.date(2026, 10, 3) not in dates    # 国庆节 holiday (a Saturday)
    assert dt.date(2026, 10, 10) not in dates   # 调休: pupils at school that Saturday
    assert dt.date(2026, 9, 26) not in dates    # 中秋节
    assert dt.date(2026, 9, 5) in dates and dt.date(2026, 10, 17) in dates
    assert all(d.isoweekday() == 6 for d in dates)
    assert result.created == len(dates) == 17
    assert set(result.skipped) == {dt.date(2026, 9, 26), dt.date(2026, 10, 3),
                                   dt.date(2026, 10, 10)}
    slot = SessionSlot.objects.get(rule=rule, rule_date=dt.date(2026, 9, 5))
    assert slot.room == rooms["C204"] and slot.session.room == "C204"
    assert slot.session.hours == 2 and slot.session.teacher == group_a.teacher


def test_a_term_may_keep_working_weekends(manager_a, group_a, autumn):
    autumn.skip_working_weekends = False
    autumn.save()
    rule_save(actor=manager_a, class_group=group_a, weekday=SAT, start_time=NINE,
              end_time=ELEVEN, term=autumn)
    assert dt.date(2026, 10, 10) in _dates(group_a)


def test_a_friday_class_skips_the_branch_closed_day_and_mid_autumn(manager_a, group_a, branch_a):
    ClosedDay.objects.create(branch=branch_a, date=dt.date(2026, 9, 11), reason="消防检查")
    rule_save(actor=manager_a, class_group=group_a, weekday=FRI, start_time=dt.time(18),
              end_time=dt.time(20), start_date=dt.date(2026, 9, 1),
              end_date=dt.date(2026, 10, 9))
    assert _dates(group_a) == [dt.date(2026, 9, 4), dt.date(2026, 9, 18),
                              dt.date(2026, 10, 9)]  # 9/11 branch, 9/25 and 10/2 public


def test_spring_festival_2027_is_skipped_on_its_provisional_days(manager_a, group_a):
    rule_save(actor=manager_a, class_group=group_a, weekday=MON, start_time=dt.time(18),
              end_time=dt.time(20), start_date=dt.date(2027, 2, 1),
              end_date=dt.date(2027, 2, 15))
    assert _dates(group_a) == [dt.date(2027, 2, 1), dt.date(2027, 2, 15)]  # 2/8 春节


def test_editing_a_rule_rewrites_future_lessons_only(manager_a, group_a, rooms, autumn):
    rule, _r = rule_save(actor=manager_a, class_group=group_a, weekday=SAT, start_time=NINE,
                         end_time=ELEVEN, room=rooms["C204"], term=autumn)
    past = ClassSession.objects.get(class_group=group_a, date=dt.date(2026, 9, 5))
    Attendance.objects.create(session=past, student=group_a.contracts.first().student,
                              status=Attendance.Status.ATTENDED, date=past.date)
    today = dt.date(2026, 11, 1)
    _rule, result = rule_save(actor=manager_a, class_group=group_a, weekday=SAT,
                              start_time=dt.time(14), end_time=dt.time(16), room=rooms["C205"],
                              term=autumn, rule=rule, today=today)
    before = ClassSession.objects.filter(class_group=group_a, date__lt=today)
    after = ClassSession.objects.filter(class_group=group_a, date__gte=today)
    assert {s.start_time for s in before} == {NINE} and {s.room for s in before} == {"C204"}
    assert {s.start_time for s in after} == {dt.time(14)} and {s.room for s in after} == {"C205"}
    assert result.updated == after.count() and result.created == 0
    past.refresh_from_db()
    assert past.start_time == NINE  # taught lessons never change


def test_moving_the_weekday_replaces_future_lessons_and_keeps_ones_with_leave(
        manager_a, group_a, autumn):
    rule, _r = rule_save(actor=manager_a, class_group=group_a, weekday=SAT, start_time=NINE,
                         end_time=ELEVEN, term=autumn)
    today = dt.date(2026, 12, 1)
    rule_save(actor=manager_a, class_group=group_a, weekday=Weekday.SUNDAY, start_time=NINE,
              end_time=ELEVEN, term=autumn, rule=rule, today=today)
    future = _dates(group_a)
    assert all(d.isoweekday() == 7 for d in future if d >= today)
    assert all(d.isoweekday() == 6 for d in future if d < today)


def test_a_cancelled_lesson_stays_cancelled_when_the_rule_is_rewritten(manager_a, group_a, autumn):
    rule, _r = rule_save(actor=manager_a, class_group=group_a, weekday=SAT, start_time=NINE,
                         end_time=ELEVEN, term=autumn)
    lesson = ClassSession.objects.get(class_group=group_a, date=dt.date(2026, 12, 12))
    session_cancel(session=lesson, actor=manager_a, reason="教研活动", notify=False)
    assert SessionChange.objects.get(rule=rule).rule_date == dt.date(2026, 12, 12)
    rule_save(actor=manager_a, class_group=group_a, weekday=SAT, start_time=dt.time(10),
              end_time=dt.time(12), term=autumn, rule=rule, today=dt.date(2026, 12, 1))
    assert dt.date(2026, 12, 12) not in _dates(group_a)


def test_ending_a_rule_removes_its_future_lessons(manager_a, group_a, autumn):
    rule, _r = rule_save(actor=manager_a, class_group=group_a, weekday=SAT, start_time=NINE,
                         end_time=ELEVEN, term=autumn)
    rule_end(rule=rule, actor=manager_a, today=dt.date(2026, 12, 1))
    assert max(_dates(group_a)) < dt.date(2026, 12, 1)


def test_only_managers_and_head_office_schedule(teacher_a, front_desk_a, manager_b, group_a,
                                                autumn, head_office):
    for who in (teacher_a, front_desk_a, manager_b):
        with pytest.raises(PermissionDenied):
            rule_save(actor=who, class_group=group_a, weekday=SAT, start_time=NINE,
                      end_time=ELEVEN, term=autumn)
    rule_save(actor=head_office, class_group=group_a, weekday=SAT, start_time=NINE,
              end_time=ELEVEN, term=autumn)
    assert _dates(group_a)

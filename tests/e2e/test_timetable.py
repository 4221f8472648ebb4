"""Timetable in a real browser: a manager plans a term for three classes (one conflict
refused, then resolved), moves a lesson (by form and by dragging on the calendar) and the
families are told; a teacher opens the day view and takes roll call from it."""
import datetime as dt

import pytest
from django.utils import timezone

from crm.roles import Role
from students.models import Attendance, ClassSession, MessageLog
from tests.factories import (
    BranchFactory,
    ClassGroupFactory,
    ContractFactory,
    GuardianshipFactory,
    StudentFactory,
    staff,
)
from timetable.models import Room, ScheduleRule, SessionChange, Term

pytestmark = [pytest.mark.browser,
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _next_weekday(day: dt.date, iso: int) -> dt.date:
    return day + dt.timedelta(days=(iso - day.isoweekday()) % 7 or 7)


@pytest.fixture
def school():
    branch = BranchFactory(code="xh", name="西湖校区")
    manager = staff(Role.MANAGER, branch, username="zhuguan")
    teachers = [staff(Role.TEACHER, branch, username=f"laoshi{i}") for i in range(3)]
    rooms = {n: Room.objects.create(branch=branch, name=n, capacity=12)
             for n in ("C204", "C205")}
    groups = []
    for name, teacher in zip(["高二数学A班", "高二物理B班", "高一英语C班"], teachers, strict=True):
        group = ClassGroupFactory(branch=branch, teacher=teacher, name=name)
        for _ in range(2):
            kid = StudentFactory(branch=branch)
            GuardianshipFactory(student=kid)
            ContractFactory(student=kid, course=group.course, class_group=group)
        groups.append(group)
    start = _next_weekday(timezone.localdate(), 1)
    term = Term.objects.create(branch=branch, name="冬季学期", start_date=start,
                               end_date=start + dt.timedelta(weeks=6, days=-1))
    return {"branch": branch, "manager": manager, "teachers": teachers, "rooms": rooms,
            "groups": groups, "term": term}


def _add_rule(page, group, weekday, start, end, room, term):
    page.select_option("#id_class_group", str(group.pk))
    page.select_option("#id_weekday", str(weekday))
    page.fill("#id_start_time", start)
    page.fill("#id_end_time", end)
    page.select_option("#id_room", str(room.pk))
    page.select_option("#id_term", str(term.pk))
    page.click("#rule-save")


def test_a_manager_plans_a_term_resolves_a_conflict_and_moves_a_lesson(
        page, login, shot, school):
    a, b, c = school["groups"]
    c204, c205 = school["rooms"]["C204"], school["rooms"]["C205"]
    term = school["term"]
    login("zhuguan")
    page.click("#nav-timetable")
    page.click("#plan-link")
    page.wait_for_selector("#rule-form")
    _add_rule(page, a, 6, "09:00", "11:00", c204, term)
    page.wait_for_selector(f"tr[data-rule] >> text={a.name}")
    _add_rule(page, b, 6, "14:00", "16:00", c204, term)
    page.wait_for_selector(f"tr[data-rule] >> text={b.name}")
    # C in C204 at 10:00 clashes with A: refused, the message names A and suggests C205.
    _add_rule(page, c, 6, "10:00", "12:00", c204, term)
    page.wait_for_selector("#rule-errors")
    errors = page.inner_text("#rule-errors")
    assert a.name in errors and "C205" in errors
    shot(page, "timetable-01-conflict-refused")
    assert not ScheduleRule.objects.filter(class_group=c).exists()
    page.select_option("#id_room", str(c205.pk))
    page.click("#rule-save")
    page.wait_for_selector(f"tr[data-rule] >> text={c.name}")
    shot(page, "timetable-02-term-planned")
    assert ScheduleRule.objects.count() == 3
    for group in (a, b, c):
        assert ClassSession.objects.filter(class_group=group).count() == 6

    # Move B's first lesson (调课) on its page; both families are told.
    lesson = ClassSession.objects.filter(class_group=b).order_by("date").first()
    page.goto(page.base + f"/timetable/lessons/{lesson.pk}/")
    page.fill("#id_start_time", "16:00")
    page.fill("#id_end_time", "18:00")
    page.fill("#id_reason", "老师参加教研")
    page.click("#move-save")
    page.wait_for_selector(".alert-success")
    lesson.refresh_from_db()
    assert lesson.start_time == dt.time(16)
    logs = MessageLog.objects.filter(template_code="session_moved")
    assert logs.count() == 2 and all("16:00" in t for t in logs.values_list("text", flat=True))
    assert SessionChange.objects.get(session=lesson).notified == 2

    # On C204's week view, drag B's 16:00 lesson onto A's 9:00 one: the same check refuses
    # it (room taken by A) and the lesson goes back.
    first = ClassSession.objects.filter(class_group=a).order_by("date").first()
    page.set_viewport_size({"width": 1024, "height": 1400})
    page.goto(page.base + f"/timetable/?room={c204.pk}&date={first.date.isoformat()}")
    page.wait_for_selector(f"[data-lesson='{first.pk}']")
    shot(page, "timetable-03-week-view")
    moving = page.locator(f"[data-lesson='{lesson.pk}']")
    target = page.locator(f"[data-lesson='{first.pk}']")
    box, goal = moving.bounding_box(), target.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 5)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 20, steps=5)
    page.mouse.move(goal["x"] + goal["width"] / 2, goal["y"] + 5, steps=15)
    page.mouse.up()
    shot(page, "timetable-03b-after-drag")
    page.wait_for_selector("#calendar-alert:not(.d-none)")
    assert a.name in page.inner_text("#calendar-alert")
    lesson.refresh_from_db()
    assert lesson.start_time == dt.time(16)  # refused: still where it was
    assert not page.js_errors


def test_a_teacher_opens_the_day_view_and_takes_roll_call(page, login, shot, school):
    a = school["groups"][0]
    teacher = school["teachers"][0]
    day = school["term"].start_date
    from timetable.services import session_create

    lesson = session_create(actor=school["manager"], class_group=a, date=day,
                            start_time=dt.time(18), end_time=dt.time(20),
                            room=school["rooms"]["C204"])
    login(teacher.username)
    page.click("#nav-timetable")
    page.wait_for_selector("#calendar")
    page.goto(page.base + f"/timetable/mine/?date={day.isoformat()}")
    page.wait_for_selector(f"[data-lesson='{lesson.pk}']")
    shot(page, "timetable-04-teacher-day")
    page.click(f"[data-lesson='{lesson.pk}']")
    page.wait_for_selector("#roll-call-form")
    page.click("button[name=all_present]")
    page.wait_for_selector(".alert-success")
    marked = Attendance.objects.filter(session=lesson)
    assert marked.count() == 2
    assert set(marked.values_list("status", flat=True)) == {Attendance.Status.ATTENDED}
    assert set(marked.values_list("recorded_by", flat=True)) == {teacher.pk}
    assert not page.js_errors

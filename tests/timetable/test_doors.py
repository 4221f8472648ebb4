"""The same conflict check refuses a clash in every door: pages, API, admin and import."""
import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from students.models import ClassSession
from tests.api.conftest import client_for
from tests.factories import ClassGroupFactory
from timetable.models import ConflictOverride, ScheduleRule, Weekday
from timetable.services import session_create

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 12, 12)  # a Saturday


@pytest.fixture
def taken(manager_a, group_a, rooms):
    """高二数学A班 in C204, Saturday 2026-12-12 9-11."""
    return session_create(actor=manager_a, class_group=group_a, date=DAY,
                          start_time=dt.time(9), end_time=dt.time(11), room=rooms["C204"])


# ------------------------------------------------------------------------ API
def test_the_api_answers_409_naming_the_clash_and_writes_nothing(taken, manager_a, group_b,
                                                                 rooms):
    response = client_for(manager_a).post(reverse("v1:timetable-lesson-list"), {
        "class_group": group_b.pk, "date": DAY.isoformat(), "start_time": "10:00",
        "end_time": "12:00", "room": rooms["C204"].pk}, format="json")
    assert response.status_code == 409, response.content
    error = response.json()["error"]
    assert error["code"] == "schedule_conflict"
    assert error["conflicts"][0]["kind"] == "room"
    assert "高二数学A班" in error["conflicts"][0]["message"]
    assert "C205" in error["conflicts"][0]["suggestion"]
    assert not ClassSession.objects.filter(class_group=group_b).exists()


def test_the_api_lets_a_manager_override_with_a_reason(taken, manager_a, group_b, rooms):
    response = client_for(manager_a).post(reverse("v1:timetable-lesson-list"), {
        "class_group": group_b.pk, "date": DAY.isoformat(), "start_time": "10:00",
        "end_time": "12:00", "room": rooms["C204"].pk, "override_reason": "合班"}, format="json")
    assert response.status_code == 201, response.content
    assert ConflictOverride.objects.get().reason == "合班"


def test_an_api_rule_writes_the_term_and_a_clashing_rule_is_refused(
        manager_a, group_a, group_b, rooms, autumn):
    api = client_for(manager_a)
    url = reverse("v1:timetable-rule-list")
    body = {"class_group": group_a.pk, "weekday": Weekday.SATURDAY, "start_time": "09:00",
            "end_time": "11:00", "room": rooms["C204"].pk, "term": autumn.pk}
    assert api.post(url, body, format="json").status_code == 201
    assert ClassSession.objects.filter(class_group=group_a).count() == 17
    clash = api.post(url, {**body, "class_group": group_b.pk, "start_time": "10:00",
                           "end_time": "12:00"}, format="json")
    assert clash.status_code == 409
    assert len(clash.json()["error"]["conflicts"]) == 17
    assert ScheduleRule.objects.count() == 1


def test_the_api_moves_a_lesson_only_when_free(taken, manager_a, group_b, rooms):
    other = session_create(actor=manager_a, class_group=group_b, date=DAY,
                           start_time=dt.time(14), end_time=dt.time(16), room=rooms["C204"])
    api = client_for(manager_a)
    url = reverse("v1:timetable-lesson-move", args=[other.pk])
    assert api.post(url, {"date": DAY.isoformat(), "start_time": "10:00",
                          "end_time": "12:00"}, format="json").status_code == 409
    ok = api.post(url, {"date": DAY.isoformat(), "start_time": "11:00", "end_time": "13:00"},
                  format="json")
    assert ok.status_code == 200 and ok.json()["start_time"] == "11:00:00"


def test_teachers_and_front_desk_cannot_write_the_timetable_by_api(
        teacher_a, front_desk_a, group_a):
    for who in (teacher_a, front_desk_a):
        response = client_for(who).post(reverse("v1:timetable-lesson-list"), {
            "class_group": group_a.pk, "date": DAY.isoformat(), "start_time": "09:00",
            "end_time": "11:00"}, format="json")
        assert response.status_code == 403


def test_another_branch_lesson_is_not_found_by_api(taken, manager_b):
    url = reverse("v1:timetable-lesson-move", args=[taken.pk])
    response = client_for(manager_b).post(url, {"date": DAY.isoformat(), "start_time": "13:00",
                                                "end_time": "15:00"}, format="json")
    assert response.status_code == 404


def test_the_schema_documents_the_timetable(manager_a):
    response = client_for(manager_a).get(reverse("api-schema"), secure=True)
    body = response.content.decode()
    assert "/api/v1/timetable/rules/" in body and "/api/v1/timetable/lessons/{id}/move/" in body


# ------------------------------------------------------------------------ admin
def test_the_admin_refuses_a_clashing_lesson(client, taken, manager_a, group_b, teacher_a):
    client.force_login(manager_a)
    response = client.post(reverse("admin:students_classsession_add"), {
        "class_group": group_b.pk, "date": DAY.isoformat(), "start_time": "10:00",
        "end_time": "12:00", "teacher": teacher_a.pk}, secure=True)
    assert response.status_code == 200  # the form again, with the error
    assert "高二数学A班" in response.content.decode()
    assert not ClassSession.objects.filter(class_group=group_b).exists()
    response = client.post(reverse("admin:students_classsession_add"), {
        "class_group": group_b.pk, "date": DAY.isoformat(), "start_time": "11:00",
        "end_time": "13:00", "teacher": teacher_a.pk}, secure=True)
    assert response.status_code == 302
    assert ClassSession.objects.get(class_group=group_b).slot.session_id


def test_the_admin_refuses_a_clashing_rule(client, taken, manager_a, group_b, rooms, autumn):
    client.force_login(manager_a)
    response = client.post(reverse("admin:timetable_schedulerule_add"), {
        "class_group": group_b.pk, "weekday": 6, "start_time": "10:00", "end_time": "12:00",
        "room": rooms["C204"].pk, "term": autumn.pk, "is_active": "on"}, secure=True)
    assert response.status_code == 200
    assert "C204" in response.content.decode()
    assert not ScheduleRule.objects.exists()


# ------------------------------------------------------------------------ import
def test_the_import_refuses_a_sheet_with_a_clash_and_writes_nothing(
        tmp_path, taken, manager_a, group_b, rooms, autumn, branch_a, teacher_a):
    ClassGroupFactory(branch=branch_a, name="高一化学D班")
    sheet = tmp_path / "rules.csv"
    sheet.write_text("班级,星期,开始,结束,教室,学期\n"
                     "高一化学D班,周日,09:00,11:00,C205,2026秋季\n"
                     "高二物理B班,6,10:00,12:00,C204,2026秋季\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import_timetable", str(sheet), "--as", manager_a.username)
    assert not ScheduleRule.objects.exists()
    sheet.write_text(sheet.read_text(encoding="utf-8").replace("10:00,12:00", "11:00,13:00"),
                     encoding="utf-8")
    call_command("import_timetable", str(sheet), "--as", manager_a.username)
    assert ScheduleRule.objects.count() == 2


def test_the_import_names_the_bad_row_and_column(tmp_path, manager_a, autumn, group_a):
    sheet = tmp_path / "rules.csv"
    sheet.write_text("class,weekday,start,end,room,term\n高二数学A班,8,09:00,11:00,,2026秋季\n"
                     "无此班,6,09:00,11:00,,2026秋季\n", encoding="utf-8")
    from django.core.exceptions import ValidationError

    from timetable.services.imports import rules_import

    with pytest.raises(ValidationError) as exc:
        rules_import(text=sheet.read_text(encoding="utf-8"), actor=manager_a)
    assert exc.value.messages[0].startswith("Row 2")
    assert "Row 3, class" in exc.value.messages[1]


# ------------------------------------------------------------------------ pages
def test_the_planner_page_refuses_a_clash_with_a_suggestion(client, taken, manager_a, group_b,
                                                            rooms, autumn):
    client.force_login(manager_a)
    response = client.post(reverse("timetable:plan"), {
        "class_group": group_b.pk, "weekday": 6, "start_time": "10:00", "end_time": "12:00",
        "room": rooms["C204"].pk, "term": autumn.pk}, secure=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Room C204 is taken by 高二数学A班" in body and "Free rooms then" in body
    assert not ScheduleRule.objects.exists()


def test_dragging_onto_a_taken_room_is_refused_by_the_json_endpoint(client, taken, manager_a,
                                                                     group_b, rooms):
    other = session_create(actor=manager_a, class_group=group_b, date=DAY,
                           start_time=dt.time(14), end_time=dt.time(16), room=rooms["C204"])
    client.force_login(manager_a)
    url = reverse("timetable:move", args=[other.pk])
    response = client.post(url, {"date": DAY.isoformat(), "start_time": "10:00",
                                 "end_time": "12:00"}, content_type="application/json",
                           secure=True)
    assert response.status_code == 409
    assert "C204" in response.json()["messages"][0]
    other.refresh_from_db()
    assert other.start_time == dt.time(14)


def test_a_teacher_cannot_drag_lessons(client, taken, teacher_a):
    client.force_login(teacher_a)
    response = client.post(reverse("timetable:move", args=[taken.pk]), {
        "date": DAY.isoformat(), "start_time": "13:00", "end_time": "15:00"},
        content_type="application/json", secure=True)
    assert response.status_code == 403


def test_a_manager_writes_rooms_and_terms_of_their_own_branch_only(manager_a, branch_a,
                                                                    branch_b, head_office):
    api = client_for(manager_a)
    rooms = reverse("v1:timetable-room-list")
    assert api.post(rooms, {"branch": branch_a.pk, "name": "A1", "capacity": 8},
                    format="json").status_code == 201
    assert api.post(rooms, {"branch": branch_b.pk, "name": "B1", "capacity": 8},
                    format="json").status_code == 403
    terms = reverse("v1:timetable-term-list")
    chain_wide = {"name": "全校春季", "start_date": "2027-02-22", "end_date": "2027-06-30"}
    assert api.post(terms, chain_wide, format="json").status_code == 403
    assert client_for(head_office).post(terms, chain_wide, format="json").status_code == 201

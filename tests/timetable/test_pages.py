"""Calendar pages, the events feed, the lesson page and the iCalendar feed."""
import datetime as dt

import pytest
from django.urls import reverse

from tests.factories import ClassGroupFactory
from timetable.models import CalendarFeed
from timetable.services import session_create

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 12, 12)


@pytest.fixture
def lesson(manager_a, group_a, rooms):
    return session_create(actor=manager_a, class_group=group_a, date=DAY, start_time=dt.time(9),
                          end_time=dt.time(11), room=rooms["C204"])


def _events(client, user, **params):
    client.force_login(user)
    return client.get(reverse("timetable:events"), {"start": "2026-12-07", "end": "2026-12-14",
                                                    **params}, secure=True)


def test_the_branch_calendar_lists_lessons_with_room_and_teacher(client, lesson, manager_a):
    events = _events(client, manager_a).json()
    assert [e["title"] for e in events] == ["高二数学A班"]
    assert events[0]["start"] == "2026-12-12T09:00:00" and events[0]["editable"]
    assert events[0]["extendedProps"]["room"] == "C204"
    assert events[0]["url"] == reverse("timetable:lesson", args=[lesson.pk])


def test_room_and_class_filters(client, lesson, manager_a, rooms, group_b):
    assert _events(client, manager_a, room=rooms["C205"].pk).json() == []
    assert len(_events(client, manager_a, room=rooms["C204"].pk).json()) == 1
    assert _events(client, manager_a, class_group=group_b.pk).json() == []


def test_a_teacher_sees_only_own_lessons_and_clicks_through_to_roll_call(
        client, lesson, manager_a, teacher_a2, branch_a):
    other = ClassGroupFactory(branch=branch_a, teacher=teacher_a2, name="别人的班")
    session_create(actor=manager_a, class_group=other, date=DAY, start_time=dt.time(14),
                   end_time=dt.time(16))
    events = _events(client, teacher_a2).json()
    assert [e["title"] for e in events] == ["别人的班"]
    assert events[0]["url"].endswith("/roll-call/") and not events[0]["editable"]


def test_another_branch_sees_nothing(client, lesson, manager_b):
    assert _events(client, manager_b).json() == []
    response = client.get(reverse("timetable:lesson", args=[lesson.pk]), secure=True)
    assert response.status_code == 404


def test_pages_render(client, lesson, manager_a, teacher_a):
    client.force_login(manager_a)
    for url in (reverse("timetable:calendar"), reverse("timetable:plan"),
                reverse("timetable:lesson", args=[lesson.pk])):
        assert client.get(url, secure=True).status_code == 200
    client.force_login(teacher_a)
    assert client.get(reverse("timetable:mine"), secure=True).status_code == 200
    assert client.get(reverse("timetable:plan"), secure=True).status_code == 403


def test_the_ical_feed_lists_the_teachers_lessons_until_revoked(client, lesson, teacher_a):
    client.force_login(teacher_a)
    client.post(reverse("timetable:feeds"), secure=True)
    feed = CalendarFeed.objects.get(teacher=teacher_a)
    client.logout()
    url = reverse("timetable:ical", args=[feed.token])
    body = client.get(url, secure=True).content.decode()
    assert "BEGIN:VEVENT" in body and "SUMMARY:高二数学A班" in body
    assert "DTSTART:20261212T010000Z" in body  # 09:00 Asia/Shanghai
    client.force_login(teacher_a)
    client.post(reverse("timetable:feeds"), {"revoke": feed.pk}, secure=True)
    client.logout()
    assert client.get(url, secure=True).status_code == 404
    assert client.get(reverse("timetable:ical", args=["guess"]), secure=True).status_code == 404

"""Explanations wherever a score is (issue #17), made by the code from a real nightly run (no
fixture hands the pages their words), and no score through any door for front desk and
teachers: pages, the timeline's reason, the API and exports."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from dataio.exports import export_run
from lifecycle.models import RetentionTask, Transition
from students.models import Attendance, Contract
from tests.factories import (
    ClassGroupFactory,
    ClassSessionFactory,
    StudentFactory,
)
from tests.lifecycle.conftest import scan
from tests.lifecycle.test_api import client_for
from tests.lifecycle.test_nightly import absent_growth

pytestmark = pytest.mark.django_db

# absent_growth scores 60: 30 (3 absences, the 0% rate and the fall folded in) + 15 + 15.
ABSENCES = ("3 consecutive absences (same fact: attendance 0% in recent weeks, attendance "
            "fell from 100% to 0%)")
SCORE_WORDS = re.compile(r"risk score|Risk score|风险分|consecutive absences|score-card|"
                         r"risk-reasons|same fact|complaint past")


@pytest.fixture
def flagged(branch_a, counselor_a, teacher_a):
    student = absent_growth(branch_a, counselor_a)
    # The teacher teaches the student, so the account page is theirs to open.
    Contract.objects.filter(student=student).update(
        class_group=ClassGroupFactory(branch=branch_a, teacher=teacher_a))
    scan()
    student.refresh_from_db()
    assert student.period == "at_risk"
    return student


def test_the_stored_move_carries_no_score_and_the_counselor_reads_it_worded(
        as_user, counselor_a, flagged):
    move = Transition.objects.get(student=flagged, to_period="at_risk")
    assert move.evidence["score"] == 60
    assert "60" not in move.reason and "50" not in move.reason
    html = as_user(counselor_a).get(reverse("students:detail", args=[flagged.pk])
                                    ).content.decode()
    assert "Risk score 60 reached the threshold 50. Why: " + ABSENCES in html


def test_the_at_risk_list_shows_worded_reasons_and_segment_labels(as_user, counselor_a,
                                                                  flagged):
    response = as_user(counselor_a).get(reverse("work:at_risk"))
    row = next(r for r in response.context["page"].object_list if r.pk == flagged.pk)
    assert row.reasons[0] == ABSENCES
    assert set(row.reasons[1:]) == {"1 open complaint", "1 complaint past its deadline"}
    html = response.content.decode()
    assert f">{row.segment}<" not in html  # the label, never the code
    assert str(row.segment_label) in html


def test_the_account_page_explains_the_score_with_trend_value_and_open_tasks(
        as_user, counselor_a, flagged):
    response = as_user(counselor_a).get(reverse("students:detail", args=[flagged.pk]))
    card = response.context["card"]
    assert card.risk == 60
    assert card.reasons[0].full_text == ABSENCES
    assert sum(r.points for r in card.reasons) == 60
    assert card.trend["data"] == [60]
    assert card.segment_label and card.customer_type_label.endswith("Maintenance (维系)")
    task = RetentionTask.objects.get(student=flagged, playbook__code="at-risk-recovery")
    assert card.tasks == [task]
    html = response.content.decode()
    assert 'id="risk-chart"' in html and "risk-chart-data" in html
    assert reverse("work:task_detail", args=[task.pk]) in html
    # The type in words (one renderer for the score card, the type card and the API).
    assert card.customer_type_label in html and card.customer_type not in html
    assert html.count('id="customer-type"') == 1


def test_the_task_list_and_the_task_page_say_why(as_user, counselor_a, flagged):
    task = RetentionTask.objects.get(student=flagged, playbook__code="at-risk-recovery")
    client = as_user(counselor_a)
    assert ABSENCES in client.get(reverse("work:tasks")).content.decode()
    response = client.get(reverse("work:task_detail", args=[task.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert ABSENCES in html and "1 open complaint" in html
    assert 'id="task-done-form"' in html


def test_a_task_page_of_another_counselor_is_not_found(as_user, counselor_a2, flagged):
    task = RetentionTask.objects.get(student=flagged, playbook__code="at-risk-recovery")
    response = as_user(counselor_a2).get(reverse("work:task_detail", args=[task.pk]))
    assert response.status_code == 404


def test_the_api_gives_code_value_and_words_to_the_counselor(counselor_a, flagged):
    client = client_for(counselor_a)
    body = client.get(f"/api/v1/students/{flagged.pk}/lifecycle/").json()
    assert body["risk"]["score"] == 60
    assert body["risk"]["factors"][0] == {"code": "absences", "value": 3, "points": 30,
                                          "text": ABSENCES}
    move = next(t for t in body["timeline"] if t["to_period"] == "at_risk")
    assert move["reason"].startswith("Risk score 60 reached the threshold 50.")
    task = client.get("/api/v1/lifecycle/tasks/").json()["results"][0]
    assert task["reasons"][0]["text"] == ABSENCES


def test_the_at_risk_export_has_the_worded_reasons_for_a_counselor(counselor_a, flagged):
    result = export_run(actor=counselor_a, name="at_risk", filters={}, fmt="csv")
    text = result.content.decode("utf-8-sig")
    assert ABSENCES in text and "Main reasons" in text


@pytest.mark.parametrize("role", ["front_desk_a", "teacher_a"])
def test_no_score_reaches_front_desk_or_teachers_through_any_door(role, request, as_user,
                                                                 flagged):
    user = request.getfixturevalue(role)
    client = as_user(user)
    # The account page: no score card, and the timeline says what happened, not the score.
    response = client.get(reverse("students:detail", args=[flagged.pk]))
    assert response.status_code == 200
    assert "card" not in response.context
    html = response.content.decode()
    assert not SCORE_WORDS.search(html), SCORE_WORDS.search(html)
    assert "The early-warning model flagged the account." in html
    # The work pages.
    for url in (reverse("work:at_risk"), reverse("work:tasks"),
                reverse("work:task_detail", args=[RetentionTask.objects.first().pk])):
        assert client.get(url).status_code == 403
    # The API: no risk, the timeline's reason without score, no evidence; scores and tasks 403.
    api = client_for(user)
    body = api.get(f"/api/v1/students/{flagged.pk}/lifecycle/").json()
    assert body["risk"] is None
    move = next(t for t in body["timeline"] if t["to_period"] == "at_risk")
    assert move["reason"] == "The early-warning model flagged the account."
    assert move["evidence"] == {}
    # no score in any value of the timeline (ids and timestamps aside: their digits may
    # hold a 60 by chance)
    assert not [v for t in body["timeline"] for k, v in t.items()
                if k not in {"id", "at", "scan_run", "actor"} and "60" in str(v)], \
        body["timeline"]
    for url in (f"/api/v1/students/{flagged.pk}/scores/", "/api/v1/lifecycle/scores/",
                "/api/v1/lifecycle/tasks/"):
        assert api.get(url).status_code == 403
    # Exports: no at-risk list, and the students list carries no score column.
    with pytest.raises(PermissionDenied):
        export_run(actor=user, name="at_risk", filters={}, fmt="csv")
    if role == "front_desk_a":
        text = export_run(actor=user, name="students", filters={}, fmt="csv"
                          ).content.decode("utf-8-sig")
        assert not SCORE_WORDS.search(text) and "Main reasons" not in text


def test_the_list_and_the_account_page_show_one_attendance_rate(as_user, manager_a, branch_a):
    """12 weeks back from a mid-week day: a Monday-aligned chart window used to count days
    the list's window leaves out (62% on the list, 58% on the page)."""
    student = StudentFactory(branch=branch_a)
    today = timezone.localdate()
    group = ClassGroupFactory(branch=branch_a)
    # Inside the window (today - 12 weeks, that day included): 5 attended, 4 absent, two of
    # them in the days a Monday-aligned 11-week chart window left out; two more absences
    # before the window.
    marks = [(1, "attended"), (8, "attended"), (15, "attended"), (22, "attended"),
             (29, "attended"), (36, "absent"), (43, "absent"), (80, "absent"),
             (84, "absent"), (85, "absent"), (90, "absent")]
    for days, status in marks:
        day = today - dt.timedelta(days=days)
        session = ClassSessionFactory(class_group=group, date=day)
        Attendance.objects.create(session=session, student=student, status=status, date=day)
    client = as_user(manager_a)
    listed = next(s for s in client.get(reverse("students:list")).context["page"].object_list
                  if s.pk == student.pk)
    page = client.get(reverse("students:detail", args=[student.pk])).context
    assert listed.attendance_rate == page["attendance"]["rate"] == 5 / 9
    assert listed.remaining_hours == page["remaining_hours"]
    api = client_for(manager_a).get(f"/api/v1/students/{student.pk}/").json()
    assert api["attendance_rate"] == 5 / 9
    # The chart counts the same lessons as the rate.
    chart = page["charts"]["attendance"]["datasets"]
    assert sum(sum(d["data"]) for d in chart) == 9


def test_the_timeline_agrees_with_the_header_when_the_move_was_not_recorded(as_user,
                                                                            manager_a,
                                                                            branch_a):
    student = StudentFactory(branch=branch_a, period="at_risk", previous_period="growth")
    html = as_user(manager_a).get(reverse("students:detail", args=[student.pk])
                                  ).content.decode()
    assert "Came from" in html
    assert "No recorded change of period" not in html
    assert 'id="timeline-unrecorded"' in html
    assert "period-growth" in html and "recorded without its details" in html

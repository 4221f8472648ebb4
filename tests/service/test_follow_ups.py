"""今日待跟进: built from the follow-up dates on visits/calls and on prospects, per role."""
from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from marketing.models import Prospect
from tests.factories import InteractionFactory, StudentFactory

pytestmark = pytest.mark.django_db
URL = "/service/follow-ups/"


def _due(student, days=0, at=None):
    return InteractionFactory(student=student, next_follow_up=timezone.localdate()
                              + dt.timedelta(days=days),
                              occurred_at=at or timezone.now() - dt.timedelta(days=3))


def test_due_and_late_call_backs_are_listed_and_future_ones_are_not(as_user, front_desk_a,
                                                                    branch_a):
    today_one, late_one, later_one = (StudentFactory(branch=branch_a) for _ in range(3))
    _due(today_one, 0)
    _due(late_one, -2)
    _due(later_one, 3)
    rows = as_user(front_desk_a).get(URL).context["rows"]
    assert [r["student"] for r in rows] == [late_one, today_one]
    assert rows[0]["overdue"] and not rows[1]["overdue"]


def test_a_newer_contact_takes_the_account_off_the_list(as_user, front_desk_a, branch_a):
    student = StudentFactory(branch=branch_a)
    _due(student, 0)
    InteractionFactory(student=student, occurred_at=timezone.now())  # the call-back
    assert as_user(front_desk_a).get(URL).context["rows"] == []


def test_an_open_prospects_follow_up_date_counts(as_user, front_desk_a, branch_a):
    student = StudentFactory(branch=branch_a)
    Prospect.objects.create(student=student, next_follow_up=timezone.localdate())
    lost = StudentFactory(branch=branch_a)
    Prospect.objects.create(student=lost, next_follow_up=timezone.localdate(), stage="lost",
                            lost_reason="x")
    rows = as_user(front_desk_a).get(URL).context["rows"]
    assert [r["student"] for r in rows] == [student]
    assert rows[0]["prospect_due"] == timezone.localdate()


def test_each_role_sees_its_own_scope(as_user, branch_a, branch_b, counselor_a, counselor_a2,
                                      manager_a, teacher_a):
    mine = StudentFactory(branch=branch_a, counselor=counselor_a)
    theirs = StudentFactory(branch=branch_a, counselor=counselor_a2)
    pool = StudentFactory(branch=branch_a, counselor=None)
    elsewhere = StudentFactory(branch=branch_b)
    for s in (mine, theirs, pool, elsewhere):
        _due(s)
    counselor = as_user(counselor_a)
    assert [r["student"] for r in counselor.get(URL).context["rows"]] == [mine]
    with_pool = {r["student"] for r in counselor.get(URL + "?pool=1").context["rows"]}
    assert with_pool == {mine, pool}
    manager = {r["student"] for r in as_user(manager_a).get(URL).context["rows"]}
    assert manager == {mine, theirs, pool}
    assert as_user(teacher_a).get(URL).status_code == 403


def test_the_list_takes_a_fixed_number_of_queries(as_user, manager_a, branch_a,
                                                  django_assert_max_num_queries):
    for _ in range(8):
        s = StudentFactory(branch=branch_a)
        _due(s)
    client = as_user(manager_a)
    client.get(URL)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("service:follow_ups"))
    assert len(response.context["rows"]) == 8

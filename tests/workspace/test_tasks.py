import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from lifecycle.models import RetentionTask
from students.models import Interaction
from tests.factories import StudentFactory
from tests.workspace.conftest import make_task, with_parent

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(branch_a, counselor_a):
    return StudentFactory(branch=branch_a, counselor=counselor_a, period="at_risk")


def test_lists_my_open_tasks_today_and_overdue_first(as_user, counselor_a, counselor_a2,
                                                     branch_a, mine, playbook):
    later = make_task(mine, playbook, assignee=counselor_a, due_in=dt.timedelta(days=3))
    overdue = make_task(StudentFactory(branch=branch_a, counselor=counselor_a), playbook,
                        assignee=counselor_a, due_in=-dt.timedelta(days=1))
    done = make_task(StudentFactory(branch=branch_a, counselor=counselor_a), playbook,
                     assignee=counselor_a)
    RetentionTask.objects.filter(pk=done.pk).update(status="done", outcome="x",
                                                    closed_at=done.due_at)
    other = make_task(StudentFactory(branch=branch_a, counselor=counselor_a2), playbook,
                      assignee=counselor_a2)
    response = as_user(counselor_a).get(reverse("work:tasks"))
    assert response.status_code == 200
    assert [t.pk for t in response.context["page"].object_list] == [overdue.pk, later.pk]
    html = response.content.decode()
    assert "overdue-badge" in html and "Call the family" in html
    assert f'id="task-{other.pk}"' not in html


def test_manager_sees_branch_tasks_and_filters_by_counselor(as_user, manager_a, manager_b,
                                                            counselor_a, counselor_a2,
                                                            branch_a, playbook):
    t1 = make_task(StudentFactory(branch=branch_a, counselor=counselor_a), playbook,
                   assignee=counselor_a)
    t2 = make_task(StudentFactory(branch=branch_a, counselor=counselor_a2), playbook,
                   assignee=counselor_a2)
    url = reverse("work:tasks")
    pks = {t.pk for t in as_user(manager_a).get(url).context["page"].object_list}
    assert pks == {t1.pk, t2.pk}
    filtered = as_user(manager_a).get(url, {"counselor": counselor_a2.pk})
    assert [t.pk for t in filtered.context["page"].object_list] == [t2.pk]
    assert list(as_user(manager_b).get(url).context["page"].object_list) == []


def test_done_logs_the_interaction_with_the_target_parent(as_user, counselor_a, mine,
                                                          playbook):
    mother = with_parent(mine)
    task = make_task(mine, playbook, assignee=counselor_a, parent=mother)
    response = as_user(counselor_a).post(reverse("work:task_done", args=[task.pk]), {
        "outcome": "Mother will renew after exams", "log_interaction": "1",
        "channel": "wechat"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == "done" and task.outcome == "Mother will renew after exams"
    log = Interaction.objects.get(student=mine)
    assert (log.parent, log.with_whom, log.channel, log.staff) == (mother, "parent", "wechat",
                                                                   counselor_a)
    assert "Mother will renew" in log.summary


def test_done_over_htmx_returns_the_row(as_user, counselor_a, mine, playbook):
    task = make_task(mine, playbook, assignee=counselor_a)
    response = as_user(counselor_a).post(reverse("work:task_done", args=[task.pk]),
                                         {"outcome": "Talked to him"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="task-{task.pk}"' in html and 'data-status="done"' in html
    assert not Interaction.objects.exists()  # not asked to log


def test_empty_outcome_is_an_error_and_changes_nothing(as_user, counselor_a, mine, playbook):
    task = make_task(mine, playbook, assignee=counselor_a)
    client = as_user(counselor_a)
    response = client.post(reverse("work:task_done", args=[task.pk]),
                           {"outcome": "  ", "log_interaction": "1", "channel": "call"},
                           follow=True)
    assert "Say what happened." in response.content.decode()
    task.refresh_from_db()
    assert task.status == "open"
    assert not Interaction.objects.exists()
    htmx = client.post(reverse("work:task_done", args=[task.pk]), {"outcome": ""},
                       HTTP_HX_REQUEST="true")
    assert "task-error" in htmx.content.decode()


def test_skip_needs_a_reason(as_user, counselor_a, mine, playbook):
    task = make_task(mine, playbook, assignee=counselor_a)
    client = as_user(counselor_a)
    response = client.post(reverse("work:task_skip", args=[task.pk]), {"reason": ""},
                           follow=True)
    assert "Say why the task is skipped." in response.content.decode()
    client.post(reverse("work:task_skip", args=[task.pk]), {"reason": "Family moved away"})
    task.refresh_from_db()
    assert (task.status, task.skip_reason) == ("skipped", "Family moved away")


def test_another_counselors_task_is_404(as_user, counselor_a, counselor_a2, counselor_b,
                                        branch_a, playbook):
    # the account is in counselor_a's branch pool (visible to both), the task is a2's
    pool = StudentFactory(branch=branch_a, counselor=None)
    task = make_task(pool, playbook, assignee=counselor_a2)
    for user in (counselor_a, counselor_b):
        response = as_user(user).post(reverse("work:task_done", args=[task.pk]),
                                      {"outcome": "x"})
        assert response.status_code == 404
    task.refresh_from_db()
    assert task.status == "open"


def test_front_desk_and_teacher_are_refused(as_user, front_desk_a, teacher_a, mine,
                                            counselor_a, playbook):
    task = make_task(mine, playbook, assignee=counselor_a)
    for user in (front_desk_a, teacher_a):
        assert as_user(user).get(reverse("work:tasks")).status_code == 403
        assert as_user(user).post(reverse("work:task_skip", args=[task.pk]),
                                  {"reason": "x"}).status_code == 403


# --- snooze -----------------------------------------------------------------------------

def _snooze(client, task, *, days=3, reason="Family on holiday", **extra):
    until = timezone.localdate() + dt.timedelta(days=days)
    return client.post(reverse("work:task_snooze", args=[task.pk]),
                       {"until": until.isoformat(), "reason": reason}, **extra)


def test_snoozed_task_leaves_todays_list_until_its_day(as_user, counselor_a, mine, playbook):
    task = make_task(mine, playbook, assignee=counselor_a, due_in=-dt.timedelta(hours=2))
    client = as_user(counselor_a)
    assert client.get(reverse("work:tasks")).context["page"].object_list[0].bucket == 0
    response = _snooze(client, task, days=3)
    assert response.status_code == 302
    task.refresh_from_db()
    until = timezone.localdate() + dt.timedelta(days=3)
    assert (task.status, task.snoozed_until, task.snooze_reason) == (
        "open", until, "Family on holiday")
    listed = client.get(reverse("work:tasks"))
    row = listed.context["page"].object_list[0]
    assert row.pk == task.pk and row.bucket == 1
    html = listed.content.decode()
    assert "snoozed-note" in html and "Family on holiday" in html
    assert "overdue-badge" not in html


def test_snooze_over_htmx_returns_the_row(as_user, counselor_a, mine, playbook):
    task = make_task(mine, playbook, assignee=counselor_a)
    response = _snooze(as_user(counselor_a), task, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="task-{task.pk}"' in html and "snoozed-note" in html


@pytest.mark.parametrize(("days", "reason", "error"), [
    (3, "  ", "Say why the task is put off."),
    (0, "Holiday", "Choose a day after today."),
    (-2, "Holiday", "Choose a day after today."),
    (None, "Holiday", "Choose the day to put it off until."),
])
def test_snooze_needs_a_later_day_and_a_reason(as_user, counselor_a, mine, playbook, days,
                                               reason, error):
    task = make_task(mine, playbook, assignee=counselor_a)
    client = as_user(counselor_a)
    until = "" if days is None else (timezone.localdate() + dt.timedelta(days=days)).isoformat()
    response = client.post(reverse("work:task_snooze", args=[task.pk]),
                           {"until": until, "reason": reason}, HTTP_HX_REQUEST="true")
    assert "task-error" in response.content.decode() and error in response.content.decode()
    task.refresh_from_db()
    assert task.snoozed_until is None and task.snooze_reason == ""


def test_branch_manager_may_snooze_a_counselors_task(as_user, manager_a, counselor_a, mine,
                                                     playbook):
    task = make_task(mine, playbook, assignee=counselor_a)
    assert _snooze(as_user(manager_a), task, reason="Waiting for exam results").status_code \
        == 302
    task.refresh_from_db()
    assert task.snooze_reason == "Waiting for exam results"


def test_only_the_assignee_or_their_manager_may_snooze(as_user, counselor_a, counselor_a2,
                                                       counselor_b, manager_b, front_desk_a,
                                                       branch_a, playbook):
    # the account is in the branch pool (visible to both counselors), the task is a2's
    pool = StudentFactory(branch=branch_a, counselor=None)
    task = make_task(pool, playbook, assignee=counselor_a2)
    for user in (counselor_a, counselor_b, manager_b):
        assert _snooze(as_user(user), task).status_code == 404
    assert _snooze(as_user(front_desk_a), task).status_code == 403
    task.refresh_from_db()
    assert task.snoozed_until is None
    assert _snooze(as_user(counselor_a2), task).status_code == 302
    task.refresh_from_db()
    assert task.snoozed_until is not None

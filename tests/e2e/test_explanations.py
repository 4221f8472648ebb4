"""Explanations in a real browser (issue #17): a counselor reads why an account is at risk,
in Chinese, on the at-risk list, the account page and the task, and completes the task;
front desk and a teacher open the same account and find no score anywhere.

The flag comes from a real nightly run over real roll calls and a complaint: nothing hands
the pages their words."""
import datetime as dt

import pytest
from django.utils import timezone

from crm.roles import Role
from lifecycle.models import Playbook, RetentionTask, Transition
from students.models import Contract, Interaction
from tests.factories import (
    BranchFactory,
    ClassGroupFactory,
    ComplaintFactory,
    GuardianshipFactory,
    InteractionFactory,
    StudentFactory,
    staff,
)
from tests.lifecycle.conftest import attend, paid_contract, scan

pytestmark = [pytest.mark.browser,
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ABSENCES_ZH = "连续缺勤 3 次（同一事实：近几周出勤率 0%"
NO_SCORE = ("风险分", "连续缺勤", "未处理投诉", "同一事实")


@pytest.fixture
def world():
    # The default playbook the data migration seeds (a flush by another live-server test
    # on the same worker may have removed it).
    Playbook.objects.get_or_create(code="at-risk-recovery", branch=None, defaults={
        "period": "at_risk", "due_hours": 48, "cooldown_days": 14, "priority": 70,
        "title_zh": "危险期挽留：找原因、联系决策人",
        "title_en": "At risk: find the cause, talk to the decider"})
    branch = BranchFactory(code="xh", name="西湖校区")
    counselor = staff(Role.COUNSELOR, branch, username="guwen")
    staff(Role.FRONT_DESK, branch, username="qiantai")
    teacher = staff(Role.TEACHER, branch, username="laoshi")
    student = StudentFactory(branch=branch, counselor=counselor, period="growth",
                             decision_style="parent_led", name_zh="陈晓东")
    mother = GuardianshipFactory(student=student, is_decision_maker=True,
                                 parent__name="刘芳").parent
    paid_contract(student, signed_days_ago=90)
    Contract.objects.filter(student=student).update(
        class_group=ClassGroupFactory(branch=branch, teacher=teacher))
    InteractionFactory(student=student)
    attend(student, [(40, "attended"), (35, "attended"), (5, "absent"), (3, "absent"),
                     (1, "absent")])
    ComplaintFactory(student=student, sla_due=timezone.now() - dt.timedelta(days=1))
    scan()
    student.refresh_from_db()
    assert student.period == "at_risk"
    task = RetentionTask.objects.get(student=student, playbook__code="at-risk-recovery")
    assert (task.target, task.target_parent) == ("parent", mother)
    return {"student": student, "task": task}


def test_a_counselor_reads_chinese_reasons_on_the_list_the_account_and_the_task(
        page, login, shot, world):
    student, task = world["student"], world["task"]
    login("guwen")
    page.click("#nav-at-risk")
    row = page.locator(f"#at-risk-table .at-risk-row[data-student='{student.pk}']")
    assert ABSENCES_ZH in row.inner_text()
    assert "1 条未处理投诉" in row.inner_text()
    shot(page, "explain-at-risk-counselor")
    row.locator("a", has_text="陈晓东").click()
    page.wait_for_url(f"**/students/{student.pk}/")
    assert ABSENCES_ZH in page.locator("#risk-reasons").inner_text()
    assert page.locator("#risk-chart").count() == 1
    assert "维系" in page.locator("#customer-type").inner_text()
    assert "风险分 60 已达到阈值 50。原因：" in page.locator("#timeline").inner_text()
    shot(page, "explain-account-counselor")
    page.locator("#open-tasks a").first.click()
    page.wait_for_url(f"**/work/tasks/{task.pk}/")
    assert ABSENCES_ZH in page.locator("#task-reasons").inner_text()
    assert "刘芳" in page.locator("#task-target").inner_text()
    page.fill("#task-outcome", "与刘芳通话，约好周六面谈")
    page.click("#task-done-form [type=submit]")
    page.wait_for_selector(".alert-success")
    shot(page, "explain-task-done")
    task.refresh_from_db()
    assert task.status == "done" and task.outcome == "与刘芳通话，约好周六面谈"
    assert Interaction.objects.filter(student=student, parent=task.target_parent,
                                      summary__contains="约好周六面谈").exists()
    assert page.js_errors == []


@pytest.mark.parametrize("username", ["qiantai", "laoshi"])
def test_front_desk_and_a_teacher_find_no_score_on_the_account(page, login, shot, world,
                                                               username):
    student = world["student"]
    login(username)
    page.goto(f"{page.base}/students/{student.pk}/")
    page.wait_for_selector("#timeline")
    text = page.locator("body").inner_text()
    assert not [w for w in NO_SCORE if w in text]
    assert page.locator("#score-card").count() == 0
    assert "流失预警模型标记了该客户。" in page.locator("#timeline").inner_text()
    assert page.locator("#nav-at-risk").count() == 0
    shot(page, f"explain-account-{username}")
    response = page.goto(f"{page.base}/work/at-risk/")
    assert response.status == 403
    response = page.goto(f"{page.base}/work/tasks/{world['task'].pk}/")
    assert response.status == 403
    # Nothing they did changed the account or its task.
    assert Transition.objects.filter(student=student).count() == 1
    assert RetentionTask.objects.get(pk=world["task"].pk).status == "open"
    assert page.js_errors == []

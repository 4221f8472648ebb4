"""The work pages in a real browser: a counselor works the at-risk list and a task, a
manager follows a dashboard figure to its list, front desk is refused the dashboard."""
import datetime as dt

import pytest
from django.utils import timezone

from crm.roles import Role
from lifecycle.models import Playbook, RetentionTask, Transition
from students.models import Interaction
from tests.e2e import conftest as e2e
from tests.factories import BranchFactory, staff
from tests.workspace.conftest import make_task, scored, with_parent

# The browser fixtures of tests/e2e, for this module only (its autouse Chinese default
# must not reach the other tests here).
browser, page, login, shot = e2e.browser, e2e.page, e2e.login, e2e.shot
_chinese_default, _live_server_over_http = e2e._chinese_default, e2e._live_server_over_http

pytestmark = [pytest.mark.browser,
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Data only, as the nightly job stores them: the page words them (in Chinese here).
FACTORS = [{"code": "absences", "value": 3, "points": 30},
           {"code": "open_complaints", "value": 1, "points": 20}]


@pytest.fixture
def world():
    branch = BranchFactory(code="xh", name="西湖校区")
    counselor = staff(Role.COUNSELOR, branch, username="guwen")
    staff(Role.MANAGER, branch, username="zhuguan")
    staff(Role.FRONT_DESK, branch, username="qiantai")
    student = scored(branch, counselor=counselor, period="at_risk", risk=72, week_ago=35,
                     current=80, potential=75, segment="core", factors=FACTORS, name_zh="陈晓东")
    mother = with_parent(student, name="刘芳", phone="+8613800001234")
    scored(branch, counselor=counselor, period="growth", risk=20, name_zh="赵平安")
    Transition.objects.create(student=student, from_period="growth", to_period="at_risk",
                              trigger="risk", reason="flagged",
                              evidence={"score": 72, "threshold": 50, "factors": FACTORS})
    playbook = Playbook.objects.create(code="e2e-call", period="at_risk", title_zh="联系决策家长",
                                       title_en="Call the deciding parent")
    task = make_task(student, playbook, assignee=counselor, parent=mother,
                     due_in=-dt.timedelta(hours=3))
    return {"student": student, "task": task, "counselor": counselor}


def test_counselor_works_the_at_risk_list_and_a_task(page, login, shot, world):
    login("guwen")
    page.click("#nav-at-risk")
    page.wait_for_selector("#at-risk-table")
    rows = page.locator("#at-risk-table .at-risk-row")
    assert rows.count() == 1
    assert "连续缺勤 3 次" in rows.first.inner_text()
    assert "35 → 72" in rows.first.inner_text()
    shot(page, "work-at-risk-counselor")
    page.click("text=陈晓东")
    page.wait_for_url(f"**/students/{world['student'].pk}/")
    shot(page, "work-account-from-at-risk")
    page.click("#nav-tasks")
    row = page.locator(f"#task-{world['task'].pk}")
    assert "联系决策家长" in row.inner_text()
    row.locator("select[name=channel]").select_option("call")
    row.locator("input[name=outcome]").fill("家长同意下周面谈")
    row.locator(".task-done-form button[type=submit]").click()
    page.wait_for_selector(f"#task-{world['task'].pk}[data-status=done]")
    shot(page, "work-tasks-done")
    task = RetentionTask.objects.get(pk=world["task"].pk)
    assert task.status == "done" and task.outcome == "家长同意下周面谈"
    assert Interaction.objects.filter(student=world["student"], channel="call").exists()
    assert page.js_errors == []


def test_counselor_snoozes_a_task(page, login, shot, world):
    login("guwen")
    page.click("#nav-tasks")
    row = page.locator(f"#task-{world['task'].pk}")
    row.locator(".task-snooze summary").click()
    row.locator(".task-snooze-form input[name=reason]").fill("家长出差，下周再联系")
    row.locator(".task-snooze-form button[type=submit]").click()
    page.wait_for_selector(f"#task-{world['task'].pk} .snoozed-note")
    shot(page, "work-tasks-snoozed")
    task = RetentionTask.objects.get(pk=world["task"].pk)
    assert task.status == "open" and task.snooze_reason == "家长出差，下周再联系"
    assert task.snoozed_until == timezone.localdate() + dt.timedelta(days=1)  # the default
    page.reload()
    assert "下周再联系" in page.locator(f"#task-{world['task'].pk}").inner_text()
    assert page.locator(".overdue-badge").count() == 0
    assert page.js_errors == []


def test_manager_follows_a_dashboard_figure_to_its_list(page, login, shot, world):
    login("zhuguan")
    page.click("#nav-dashboard")
    page.wait_for_selector("#dash-periods")
    page.wait_for_function("document.querySelector('#dash-period-chart').width > 0")
    shot(page, "work-dashboard-manager")
    page.click("#dash-periods tr[data-period=at_risk] td a")
    page.wait_for_selector("#at-risk-table")
    assert "period=at_risk" in page.url
    assert page.locator("#at-risk-table .at-risk-row").count() == 1
    page.go_back()
    page.click(f"#dash-tasks a[href$='counselor={world['counselor'].pk}']")
    page.wait_for_selector("#task-table")
    assert page.locator(".task-row").count() == 1
    assert page.js_errors == []


def test_front_desk_is_refused_the_dashboard(page, login, shot, world):
    login("qiantai")
    assert page.locator("#nav-dashboard").count() == 0
    response = page.goto(page.base + "/work/dashboard/")
    assert response.status == 403
    page.wait_for_selector("#error-403")
    shot(page, "work-dashboard-front-desk-403")

"""In a real browser: a manager follows a cell of the customer type grid to its list,
edits that type's strategy, and the counselor reads it on the account page."""
import pytest

from crm.roles import Role
from lifecycle.models import TypeStrategy
from tests.e2e import conftest as e2e
from tests.factories import BranchFactory, staff
from tests.workspace.conftest import scored

browser, page, login, shot = e2e.browser, e2e.page, e2e.login, e2e.shot
_chinese_default, _live_server_over_http = e2e._chinese_default, e2e._live_server_over_http

pytestmark = [pytest.mark.browser,
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]

NEW_STRATEGY = "本校区发展型客户：先推荐物理同步课，再谈组合优惠"


@pytest.fixture
def world():
    branch = BranchFactory(code="xh", name="西湖校区")
    counselor = staff(Role.COUNSELOR, branch, username="guwen")
    staff(Role.MANAGER, branch, username="zhuguan")
    grower = scored(branch, counselor=counselor, period="growth", segment="develop",
                    current=40, potential=85, name_zh="王小明")
    scored(branch, counselor=counselor, period="maturity", segment="develop", current=45,
           potential=90, name_zh="李小红")
    scored(branch, counselor=counselor, period="growth", segment="core", current=90,
           potential=90, name_zh="赵大伟")
    scored(branch, period="termination", segment="develop", name_zh="孙离开")
    return {"branch": branch, "student": grower}


def test_manager_grid_to_list_and_playbook_seen_by_counselor(browser, page, login, shot,
                                                             world, live_server):
    login("zhuguan")
    page.click("#nav-dashboard")
    cell = page.locator('#type-grid td[data-type="develop.maintenance"] a')
    assert cell.inner_text().strip() == "2"
    shot(page, "manager-type-grid")
    cell.click()
    page.wait_for_url("**/students/?segment=develop&phase=maintenance")
    names = page.locator(".student-rows tbody tr").all_inner_texts()
    assert len(names) == 2
    assert any("王小明" in n for n in names) and any("李小红" in n for n in names)
    assert page.locator("#filter-segment").input_value() == "develop"
    shot(page, "manager-type-list")

    page.goto(page.base + "/work/dashboard/")
    page.click("#type-strategies")
    page.locator('.strategy-cell[data-type="develop.maintenance"] .strategy-edit').click()
    page.fill("#id_strategy_zh", NEW_STRATEGY)
    page.fill("#id_actions_zh", "推荐物理同步课\n组合优惠")
    page.click("#strategy-save")
    edited = '.strategy-cell[data-type="develop.maintenance"] .strategy-text'
    page.wait_for_selector(f"{edited} >> text={NEW_STRATEGY}")
    shot(page, "manager-strategy-board")
    row = TypeStrategy.objects.get(branch=world["branch"], customer_type="develop.maintenance")
    assert row.strategy_zh == NEW_STRATEGY and row.updated_by.username == "zhuguan"
    assert row.actions_zh.splitlines() == ["推荐物理同步课", "组合优惠"]
    # the institution's default is untouched
    default = TypeStrategy.objects.get(branch__isnull=True, customer_type="develop.maintenance")
    assert default.strategy_zh != NEW_STRATEGY
    assert page.js_errors == []

    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="zh-CN")
    other = context.new_page()
    other.set_default_timeout(10_000)
    other.goto(live_server.url + "/accounts/login/")
    other.fill("#id_username", "guwen")
    other.fill("#id_password", "pass-1234")
    other.click("#login-form [type=submit]")
    other.wait_for_selector("#user-menu")
    other.goto(live_server.url + f"/students/{world['student'].pk}/")
    assert other.locator("#customer-type").inner_text() == "发展型 · 维系"
    assert other.locator("#type-strategy-text").inner_text() == NEW_STRATEGY
    assert other.locator("#type-strategy-actions li").all_inner_texts() == [
        "推荐物理同步课", "组合优惠"]
    assert other.locator("#edit-type-strategy").count() == 0
    shot(other, "counselor-account-strategy")
    context.close()


def test_head_office_compares_branches_with_a_chart(page, login, shot, world):
    other = BranchFactory(code="bj", name="滨江校区")
    scored(other, period="growth", segment="ordinary", name_zh="钱多多")
    staff(Role.HEAD_OFFICE, None, username="zongbu")
    login("zongbu")
    page.click("#nav-dashboard")
    page.click("#compare-branches")
    page.wait_for_selector("#branch-rates")
    # Chart.js drew the rates (a canvas it sized), with no script error
    assert page.evaluate("() => !!Chart.getChart(document.getElementById('branch-rate-chart'))")
    row = page.locator(f'#branch-rates tr[data-branch="{world["branch"].pk}"]')
    # 西湖: 3 maintenance-phase accounts, none at risk, no termination in the window
    assert "100.0%" in row.locator('[data-metric="retention"]').inner_text()
    assert "(3/3)" in row.locator('[data-metric="retention"]').inner_text()
    shot(page, "head-office-branches")
    assert page.js_errors == []

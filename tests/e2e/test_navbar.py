"""The navbar on a tablet in landscape (1024x768): one row, nothing overflowing, for every
role and both languages; the marketing menu opens and leads to its pages."""
import pytest

from crm.roles import Role
from tests.factories import BranchFactory, staff

pytestmark = [pytest.mark.browser,
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# The expanded Bootstrap navbar is one row of ~56px; a wrapped one is at least ~100px.
ONE_ROW_MAX_HEIGHT = 72

LAYOUT = """() => {
  const nav = document.querySelector('nav.navbar');
  const sel = '.navbar-nav > .nav-item, #nav-search, #language-switcher, #user-menu';
  const items = [...nav.querySelectorAll(sel)]
    .filter(el => el.offsetParent !== null);
  const tops = items.map(el => Math.round(el.getBoundingClientRect().top));
  const rights = items.map(el => Math.round(el.getBoundingClientRect().right));
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
          navHeight: nav.getBoundingClientRect().height, items: items.length,
          topSpread: Math.max(...tops) - Math.min(...tops), maxRight: Math.max(...rights),
          toggler: getComputedStyle(nav.querySelector('.navbar-toggler')).display};
}"""


@pytest.fixture
def users():
    branch = BranchFactory(code="xh", name="西湖校区")
    return {
        "head_office": staff(Role.HEAD_OFFICE, None, username="zongbu"),
        "manager": staff(Role.MANAGER, branch, username="zhuguan"),
        "counselor": staff(Role.COUNSELOR, branch, username="guwen"),
        "front_desk": staff(Role.FRONT_DESK, branch, username="qiantai"),
    }


def _fits(page) -> dict:
    layout = page.evaluate(LAYOUT)
    assert layout["toggler"] == "none", layout  # expanded, not collapsed behind a burger
    assert layout["scrollWidth"] <= layout["innerWidth"], layout
    assert layout["maxRight"] <= layout["innerWidth"], layout
    assert layout["navHeight"] <= ONE_ROW_MAX_HEIGHT, layout
    assert layout["topSpread"] <= 8, layout  # every item on the same row
    return layout


@pytest.mark.parametrize("role", ["head_office", "manager", "counselor", "front_desk"])
def test_the_navbar_fits_one_row_at_1024_in_both_languages(page, login, shot, users, role):
    login(users[role].username)
    _fits(page)
    shot(page, f"navbar-1024-{role}-zh")
    page.click("#lang-en")
    page.wait_for_selector("html[lang=en]")
    _fits(page)
    shot(page, f"navbar-1024-{role}-en")
    assert page.js_errors == []


def test_the_marketing_menu_leads_a_manager_to_campaigns_and_churn(page, login, shot, users):
    login("zhuguan")
    page.click("#nav-marketing")
    page.click("#nav-campaigns")
    page.wait_for_selector("#campaign-table")
    _fits(page)
    shot(page, "marketing-campaigns-manager")
    page.click("#campaign-new")
    page.wait_for_selector("#campaign-form")
    shot(page, "marketing-campaign-form")
    page.click("#nav-marketing")
    page.click("#nav-churn")
    page.wait_for_url("**/m/analytics/churn/")
    shot(page, "marketing-churn-manager")
    assert page.js_errors == []


def test_front_desk_sees_referrals_but_no_campaigns_or_analytics(page, login, users):
    login("qiantai")
    page.click("#nav-marketing")
    assert page.locator("#nav-referrals").is_visible()
    assert page.locator("#nav-campaigns").count() == 0
    assert page.locator("#nav-churn").count() == 0
    page.click("#nav-referrals")
    page.wait_for_selector("#referral-table")

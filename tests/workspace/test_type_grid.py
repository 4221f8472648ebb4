"""The 12 customer types as a 4 x 3 grid on the dashboard: every cell's count equals the
rows of the student list it links to; money on the dashboard is formatted one way."""
import re
from decimal import Decimal

import pytest
from django.urls import clear_url_caches, reverse

from lifecycle.value import CUSTOMER_TYPES
from tests.factories import ContractFactory
from tests.workspace.conftest import scored

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts(branch_a, branch_b, counselor_a):
    made = [
        scored(branch_a, counselor=counselor_a, period="growth", segment="core"),
        scored(branch_a, counselor=counselor_a, period="at_risk", segment="core"),
        scored(branch_a, period="termination", segment="core"),
        scored(branch_a, period="prospecting", segment="develop"),
        scored(branch_a, period="lapsed", segment="ordinary"),
        scored(branch_b, period="maturity", segment="maintain"),
        scored(branch_b, period="growth", segment="core"),
    ]
    ContractFactory(student=made[0], list_price=Decimal("1422342"), discount=Decimal("0"))
    return made


def _grid(response):
    return {c["type"]: c for row in response.context["grid"]["rows"] for c in row["cells"]}


def _list_count(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.context["page"].paginator.count


def test_manager_grid_cells_match_the_lists_they_open(as_user, manager_a, accounts):
    client = as_user(manager_a)
    response = client.get(reverse("work:dashboard"))
    grid = _grid(response)
    assert len(response.context["grid"]["rows"]) == 4
    assert all(len(r["cells"]) == 3 for r in response.context["grid"]["rows"])
    assert set(grid) == set(CUSTOMER_TYPES)
    # hand-counted: branch A only
    expected = {"core.maintenance": 2, "core.recovery": 1, "develop.expected": 1,
                "ordinary.recovery": 1}
    assert {t: c["n"] for t, c in grid.items() if c["n"]} == expected
    for cell in grid.values():
        assert _list_count(client, cell["url"]) == cell["n"], cell["type"]
    html = response.content.decode()
    assert 'id="type-grid"' in html and "¥1,422,342" in html


def test_head_office_grid_over_all_branches_and_one(as_user, head_office, branch_b, accounts):
    client = as_user(head_office)
    grid = _grid(client.get(reverse("work:dashboard")))
    assert grid["core.maintenance"]["n"] == 3 and grid["maintain.maintenance"]["n"] == 1
    assert grid["core.maintenance"]["url"].endswith("segment=core&phase=maintenance")
    one = _grid(client.get(reverse("work:dashboard"), {"branch": branch_b.pk}))
    assert one["core.maintenance"]["n"] == 1
    assert f"branch={branch_b.pk}" in one["core.maintenance"]["url"]
    for cell in one.values():
        assert _list_count(client, cell["url"]) == cell["n"], cell["type"]


def test_grid_shows_labels_not_codes(as_user, manager_a, accounts, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    clear_url_caches()
    try:
        html = as_user(manager_a).get(reverse("work:dashboard")).content.decode()
    finally:
        clear_url_caches()
    start = html.index('id="type-grid"')
    grid_html = html[start:html.index("</table>", start)]
    text = re.sub(r"<[^>]+>", " ", grid_html)
    assert "核心客户" in text and "维系" in text and "恢复" in text
    assert not re.search(r"[a-z]+[._][a-z]+", text)


def test_grid_from_the_nightly_snapshot_says_so_and_still_matches(as_user, manager_a,
                                                                  branch_a, accounts):
    from lifecycle.pipeline import refresh_snapshots

    refresh_snapshots(run=None, branch_ids=[branch_a.pk])
    client = as_user(manager_a)
    response = client.get(reverse("work:dashboard"))
    assert response.context["grid"]["as_of"] is not None
    assert 'id="type-grid-as-of"' in response.content.decode()
    for cell in _grid(response).values():
        assert _list_count(client, cell["url"]) == cell["n"], cell["type"]


def test_head_office_counselor_filter_names_the_branch(as_user, head_office, counselor_a):
    form = as_user(head_office).get(reverse("students:list")).context["filters"]
    labels = [label for value, label in form.fields["counselor"].choices if value]
    assert labels == ["cs_a · 西湖校区"]

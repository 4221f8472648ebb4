import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import ContractFactory, InteractionFactory, StudentFactory
from tests.workspace.conftest import scored, with_parent

pytestmark = pytest.mark.django_db

# Stored as the nightly job stores them: data only, the words are the page's to make.
FACTORS = [{"code": "absences", "value": 3, "points": 25},
           {"code": "attendance", "value": 0.0, "points": 0, "within": "absences"},
           {"code": "contact", "value": 40, "points": 10},
           {"code": "open_complaints", "value": 1, "points": 20},
           {"code": "hours", "value": 1, "points": 5}]


def _rows(response):
    return list(response.context["page"].object_list)


def test_lists_at_risk_and_approaching_sorted_by_risk_times_value(as_user, counselor_a,
                                                                  counselor_a2, branch_a,
                                                                  branch_b):
    flagged = scored(branch_a, counselor=counselor_a, period="at_risk", risk=72, week_ago=35,
                     current=80, potential=80, segment="core", factors=FACTORS)
    near = scored(branch_a, counselor=counselor_a, period="growth", risk=40, current=90,
                  potential=90)  # 40 >= 50 - 15
    rising = scored(branch_a, counselor=counselor_a, period="maturity", risk=20, week_ago=4)
    scored(branch_a, counselor=counselor_a, period="growth", risk=30, week_ago=25)  # calm
    scored(branch_a, counselor=counselor_a, period="termination", risk=None)  # ended
    scored(branch_a, counselor=counselor_a2, period="at_risk", risk=90)  # not mine
    scored(branch_b, period="at_risk", risk=90)  # other branch
    response = as_user(counselor_a).get(reverse("work:at_risk"))
    assert response.status_code == 200
    rows = _rows(response)
    # 72*160=11520 > 40*180=7200 > 20*100=2000
    assert [r.pk for r in rows] == [flagged.pk, near.pk, rising.pk]
    top = rows[0]
    assert top.reasons == ["3 consecutive absences (same fact: attendance 0% in recent weeks)",
                           "1 open complaint", "no contact for 40 days"]
    assert top.risk_change == 37
    html = response.content.decode()
    assert "35</span> → <strong>72" in html
    assert reverse("students:detail", args=[flagged.pk]) in html


def test_row_figures_contact_hours_and_decider(as_user, counselor_a, branch_a):
    s = scored(branch_a, counselor=counselor_a, period="at_risk", risk=60)
    mother = with_parent(s, name="李梅", phone="+8613800001111")
    InteractionFactory(student=s, occurred_at=timezone.now() - dt.timedelta(days=12))
    InteractionFactory(student=s, occurred_at=timezone.now() - dt.timedelta(days=30))
    ContractFactory(student=s, hours_purchased=Decimal("40"))  # writes its ledger entry
    row = _rows(as_user(counselor_a).get(reverse("work:at_risk")))[0]
    assert row.days_since_contact == 12
    assert row.remaining_hours == Decimal("40")
    assert row.decider_name == mother.name
    assert "1111" in row.decider_phone_shown and "*" not in row.decider_phone_shown


def test_filters_and_head_office_branch_filter(as_user, head_office, counselor_a, branch_a,
                                               branch_b):
    a = scored(branch_a, period="at_risk", risk=60, segment="core", grade="J2")
    b = scored(branch_b, period="at_risk", risk=60, segment="ordinary", grade="S2")
    url = reverse("work:at_risk")
    client = as_user(head_office)
    assert {r.pk for r in _rows(client.get(url))} == {a.pk, b.pk}
    assert [r.pk for r in _rows(client.get(url, {"branch": branch_b.pk}))] == [b.pk]
    assert [r.pk for r in _rows(client.get(url, {"segment": "core"}))] == [a.pk]
    assert [r.pk for r in _rows(client.get(url, {"grade": "S2"}))] == [b.pk]
    assert [r.pk for r in _rows(client.get(url, {"period": "growth"}))] == []
    # a counselor has no branch filter: the parameter is ignored
    response = as_user(counselor_a).get(url, {"branch": branch_b.pk})
    assert "branch" not in response.context["form"].fields
    assert [r.pk for r in _rows(response)] == [a.pk]


@pytest.mark.parametrize("role", ["front_desk_a", "teacher_a"])
def test_front_desk_and_teachers_are_refused(request, as_user, role):
    assert as_user(request.getfixturevalue(role)).get(reverse("work:at_risk")).status_code == 403


def test_anonymous_goes_to_login(client):
    response = client.get(reverse("work:at_risk"))
    assert response.status_code == 302 and "login" in response["Location"]


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_rows(as_user, counselor_a, branch_a,
                                            django_assert_max_num_queries):
    client = as_user(counselor_a)
    url = reverse("work:at_risk")
    for _ in range(5):
        s = scored(branch_a, counselor=counselor_a, period="at_risk", risk=60, factors=FACTORS)
        with_parent(s)
        InteractionFactory(student=s)
    client.get(url)  # warm the session / content types
    five = _count(client, url)
    for _ in range(25):
        s = scored(branch_a, counselor=counselor_a, period="at_risk", risk=60, factors=FACTORS)
        with_parent(s)
        InteractionFactory(student=s)
    thirty = _count(client, url)
    assert five == thirty
    with django_assert_max_num_queries(12):  # session, user, profile, policy, count, page...
        client.get(url)
    assert StudentFactory._meta.model.objects.count() == 30


def test_home_and_navbar_link_to_the_work_pages(as_user, counselor_a, manager_a):
    html = as_user(counselor_a).get(reverse("home")).content.decode()
    assert 'id="home-at-risk"' in html and 'id="nav-tasks"' in html
    assert 'id="nav-dashboard"' not in html
    html = as_user(manager_a).get(reverse("home")).content.decode()
    assert 'id="home-dashboard"' in html and 'id="nav-dashboard"' in html


@pytest.mark.urls("crm.urls")
def test_the_real_site_links_the_work_pages_by_role(as_user, counselor_a, manager_a,
                                                   front_desk_a):
    assert "nav-at-risk" in as_user(counselor_a).get(reverse("home")).content.decode()
    assert "home-dashboard" in as_user(manager_a).get(reverse("home")).content.decode()
    html = as_user(front_desk_a).get(reverse("home")).content.decode()
    assert "nav-at-risk" not in html and "home-dashboard" not in html

"""Who may see what: analytics for managers (own branch) and head office only; prospects
follow account scoping; another branch's rows are 404."""
import datetime as dt

import pytest
from rest_framework.test import APIClient

from marketing.services import prospect_ensure
from tests.factories import StudentFactory

from .factories import CampaignFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.marketing.urls")]

ANALYTICS = ["/api/v1/marketing/analytics/churn/", "/api/v1/marketing/analytics/funnel/",
             "/api/v1/marketing/analytics/costs/", "/api/v1/campaigns/"]
PAGES = ["/m/analytics/churn/", "/m/analytics/funnel/", "/m/campaigns/"]


def api(user):
    c = APIClient()
    c.force_authenticate(user)
    return c


@pytest.mark.parametrize("path", ANALYTICS)
def test_counselors_front_desk_and_teachers_get_403_on_analytics(path, counselor_a,
                                                                 front_desk_a, teacher_a):
    for user in (counselor_a, front_desk_a, teacher_a):
        assert api(user).get(path).status_code == 403


@pytest.mark.parametrize("path", ANALYTICS)
def test_managers_and_head_office_read_analytics(path, manager_a, head_office):
    assert api(manager_a).get(path).status_code == 200
    assert api(head_office).get(path).status_code == 200


def test_anonymous_callers_are_refused(client):
    assert APIClient().get(ANALYTICS[0]).status_code in {401, 403}


@pytest.mark.parametrize("path", PAGES)
def test_analytics_pages_are_for_managers(path, client, counselor_a, manager_a):
    client.force_login(counselor_a)
    assert client.get(path).status_code == 403
    client.force_login(manager_a)
    assert client.get(path).status_code == 200


def test_a_manager_sees_only_their_branchs_campaigns(manager_a, branch_a, branch_b):
    mine = CampaignFactory(branch=branch_a)
    CampaignFactory(branch=branch_b)
    everyone = CampaignFactory(branch=None)
    ids = {row["id"] for row in api(manager_a).get("/api/v1/campaigns/").json()["results"]}
    assert ids == {mine.pk, everyone.pk}


def test_funnel_figures_are_scoped_to_the_managers_branch(manager_a, branch_a, branch_b):
    prospect_ensure(student=StudentFactory(branch=branch_a))
    prospect_ensure(student=StudentFactory(branch=branch_b))
    today = dt.date.today().isoformat()
    rows = api(manager_a).get(f"/api/v1/marketing/analytics/funnel/?since=2000-01-01"
                              f"&until={today}").json()
    assert rows[-1]["key"] == "total" and rows[-1]["prospects"] == 1


def test_another_branchs_prospect_is_a_404(counselor_a, branch_b):
    other = prospect_ensure(student=StudentFactory(branch=branch_b))
    assert api(counselor_a).get(f"/api/v1/prospects/{other.pk}/").status_code == 404
    assert api(counselor_a).post(f"/api/v1/prospects/{other.pk}/claim/").status_code == 404


def test_a_counselor_claims_through_the_api_and_a_teacher_cannot(counselor_a, teacher_a,
                                                                  branch_a):
    p = prospect_ensure(student=StudentFactory(branch=branch_a))
    assert api(teacher_a).get("/api/v1/prospects/").status_code == 403
    response = api(counselor_a).post(f"/api/v1/prospects/{p.pk}/claim/")
    assert response.status_code == 200 and response.json()["owner"] == counselor_a.pk


def test_the_api_refuses_an_illegal_stage_with_a_field_error(counselor_a, branch_a):
    p = prospect_ensure(student=StudentFactory(branch=branch_a))
    response = api(counselor_a).post(f"/api/v1/prospects/{p.pk}/advance/",
                                     {"stage": "trial_attended"}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "illegal_stage" and "stage" in error["fields"]


def test_prospect_pages_render_for_staff(client, counselor_a, branch_a):
    p = prospect_ensure(student=StudentFactory(branch=branch_a))
    client.force_login(counselor_a)
    assert client.get("/m/prospects/").status_code == 200
    assert client.get("/m/prospects/?pool=public").status_code == 200
    assert client.get(f"/m/prospects/{p.pk}/").status_code == 200
    response = client.post(f"/m/prospects/{p.pk}/", {"stage-stage": "invited"})
    assert response.status_code == 302
    p.refresh_from_db()
    assert p.stage == "invited"

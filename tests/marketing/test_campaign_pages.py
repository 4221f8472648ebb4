"""Campaign pages and API writes: create, edit, detail (segment, audience preview,
results), handoff; branch rules and field-named validation through one service."""
import datetime as dt
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from marketing.models import AudienceHandoff, Campaign
from marketing.services import prospect_ensure
from parents.models import ContactConsent
from tests.factories import GuardianshipFactory, StudentFactory

from .factories import CampaignFactory, paid_contract

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.marketing.urls")]

TODAY = dt.date(2026, 5, 4)


def api(user):
    c = APIClient()
    c.force_authenticate(user)
    return c


def consented(branch, *, grade="S3", period=None):
    g = GuardianshipFactory(student=StudentFactory(branch=branch, grade=grade))
    ContactConsent.objects.create(parent=g.parent, channel="sms", granted=True)
    if period:
        type(g.student).objects.filter(pk=g.student.pk).update(period=period)
    return g


def form(**kw):
    data = {"code": "gaokao-2026", "name": "高考后讲座", "kind": "post_exam",
            "contact_channel": "sms", "starts_on": TODAY.isoformat(), "cost": "3000",
            "target_grades": ["S3"], "message": "讲座邀请", "is_active": "on"}
    return data | kw


def test_a_manager_creates_a_campaign_for_their_branch_from_the_page(client, manager_a,
                                                                      branch_a):
    client.force_login(manager_a)
    assert client.get("/m/campaigns/new/").status_code == 200
    response = client.post("/m/campaigns/new/", form(target_periods=["prospecting",
                                                                     "lapsed"]))
    campaign = Campaign.objects.get(code="gaokao-2026")
    assert response.status_code == 302
    assert response["Location"] == f"/m/campaigns/{campaign.pk}/"
    assert (campaign.branch, campaign.created_by, campaign.cost) == (branch_a, manager_a,
                                                                     Decimal("3000"))
    assert campaign.target_grades == ["S3"]
    assert campaign.target_periods == ["prospecting", "lapsed"]


def test_the_page_shows_the_services_errors_next_to_their_fields(client, manager_a):
    client.force_login(manager_a)
    response = client.post("/m/campaigns/new/", form(
        ends_on=(TODAY - dt.timedelta(days=1)).isoformat(),
        exam_from="2026-06-30", exam_until="2026-06-01"))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "ends_on" in errors and "exam_until" in errors
    assert Campaign.objects.count() == 0


def test_a_duplicate_code_is_refused_on_the_code_field(client, manager_a, branch_a):
    CampaignFactory(code="gaokao-2026", branch=branch_a)
    client.force_login(manager_a)
    response = client.post("/m/campaigns/new/", form())
    assert response.status_code == 400
    assert "code" in response.context["form"].errors


def test_head_office_picks_the_branch_and_a_manager_cannot(client, head_office, manager_a,
                                                          branch_b):
    client.force_login(head_office)
    assert client.post("/m/campaigns/new/", form(branch=branch_b.pk)).status_code == 302
    assert Campaign.objects.get().branch == branch_b
    client.force_login(manager_a)
    page = client.get("/m/campaigns/new/")
    assert "branch" not in page.context["form"].fields
    # A forged branch field is ignored: the manager's campaign is their own branch's.
    client.post("/m/campaigns/new/", form(code="other", branch=branch_b.pk))
    assert Campaign.objects.get(code="other").branch == manager_a.staff_profile.branch


def test_a_manager_edits_their_campaign_but_not_another_branchs(client, manager_a, branch_a,
                                                               branch_b):
    mine = CampaignFactory(branch=branch_a, created_by=manager_a)
    theirs = CampaignFactory(branch=branch_b)
    everyone = CampaignFactory(branch=None)
    client.force_login(manager_a)
    page = client.get(f"/m/campaigns/{mine.pk}/edit/")
    assert page.status_code == 200 and page.context["form"].initial["code"] == mine.code
    response = client.post(f"/m/campaigns/{mine.pk}/edit/", form(code=mine.code,
                                                                 name="改名", cost="10"))
    assert response.status_code == 302
    mine.refresh_from_db()
    assert (mine.name, mine.cost) == ("改名", Decimal("10"))
    assert client.get(f"/m/campaigns/{theirs.pk}/").status_code == 404
    assert client.post(f"/m/campaigns/{theirs.pk}/edit/", form()).status_code == 404
    # Institution-wide campaigns are visible but edited by head office only.
    assert client.get(f"/m/campaigns/{everyone.pk}/").status_code == 200
    assert client.post(f"/m/campaigns/{everyone.pk}/edit/",
                       form(code=everyone.code)).status_code == 403


def test_the_detail_shows_the_audience_preview_and_results(client, manager_a, branch_a,
                                                           branch_b):
    s3a, s3b = consented(branch_a), consented(branch_a)
    consented(branch_a, grade="S1")
    consented(branch_b)
    GuardianshipFactory(student=StudentFactory(branch=branch_a, grade="S3"))  # no consent
    campaign = CampaignFactory(branch=branch_a, created_by=manager_a, target_grades=["S3"],
                               cost=Decimal("2000"))
    prospect_ensure(student=s3a.student, campaign=campaign)
    paid_contract(s3a.student, amount=Decimal("5000"))
    client.force_login(manager_a)
    response = client.get(f"/m/campaigns/{campaign.pk}/")
    assert response.status_code == 200
    assert response.context["audience"] == {"students": 2, "parents": 2}
    results = response.context["results"]
    assert (results["prospects"], results["enrolments"], results["revenue"],
            results["cost_per_enrolment"]) == (1, 1, Decimal("5000"), Decimal("2000.00"))
    assert s3b.student.grade == "S3"


def test_the_handoff_button_queues_and_records_the_handoff(client, manager_a, branch_a,
                                                           settings):
    settings.MESSAGING_BACKEND = "crm.messaging.backends.locmem.LocmemBackend"
    consented(branch_a)
    campaign = CampaignFactory(branch=branch_a, created_by=manager_a)
    client.force_login(manager_a)
    response = client.post(f"/m/campaigns/{campaign.pk}/handoff/", {"text": "新学期优惠"})
    assert response.status_code == 302
    handoff = AudienceHandoff.objects.get()
    assert (handoff.kind, handoff.recipients, handoff.text) == ("messaging", 1, "新学期优惠")


@pytest.mark.parametrize("path", ["/m/campaigns/new/", "/m/campaigns/{pk}/",
                                  "/m/campaigns/{pk}/edit/"])
def test_counselors_and_front_desk_are_refused_campaign_pages(path, client, counselor_a,
                                                              front_desk_a, branch_a):
    campaign = CampaignFactory(branch=branch_a)
    for user in (counselor_a, front_desk_a):
        client.force_login(user)
        assert client.get(path.format(pk=campaign.pk)).status_code == 403
    client.force_login(counselor_a)
    assert client.post(f"/m/campaigns/{campaign.pk}/handoff/").status_code == 403


def test_the_list_takes_the_same_queries_for_3_or_30_campaigns(
        client, manager_a, branch_a, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(manager_a)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/m/campaigns/").status_code == 200
        return len(ctx)

    for _ in range(3):
        CampaignFactory(branch=branch_a)
    few = queries()
    for _ in range(20):
        CampaignFactory(branch=branch_a)
    assert queries() == few
    with django_assert_max_num_queries(12):
        client.get("/m/campaigns/")


# --- API -----------------------------------------------------------------------------------

def test_the_api_creates_a_campaign_through_the_service(manager_a, branch_a, branch_b):
    response = api(manager_a).post("/api/v1/campaigns/", {
        "code": "new-term", "name": "新学期", "kind": "new_term", "starts_on": "2026-08-20",
        "cost": "1500.00", "target_periods": ["lapsed"], "contact_channel": "wechat"},
        format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["branch"] == branch_a.pk and body["results"]["prospects"] == 0
    campaign = Campaign.objects.get(code="new-term")
    assert campaign.created_by == manager_a
    # Another branch's id is not one the manager can see.
    response = api(manager_a).post("/api/v1/campaigns/", {
        "code": "x", "name": "x", "kind": "new_term", "starts_on": "2026-08-20",
        "branch": branch_b.pk}, format="json")
    assert response.status_code == 400
    assert "branch" in response.json()["error"]["fields"]


def test_the_api_names_the_field_of_a_bad_segment_or_date(manager_a):
    response = api(manager_a).post("/api/v1/campaigns/", {
        "code": "bad", "name": "x", "kind": "new_term", "starts_on": "2026-08-20",
        "ends_on": "2026-08-01", "target_grades": ["X9"]}, format="json")
    assert response.status_code == 400
    assert {"ends_on", "target_grades"} <= set(response.json()["error"]["fields"])
    assert not Campaign.objects.exists()


def test_the_api_edits_with_patch_and_refuses_other_branches(manager_a, branch_a, branch_b,
                                                             head_office):
    mine = CampaignFactory(branch=branch_a, created_by=manager_a)
    theirs = CampaignFactory(branch=branch_b)
    everyone = CampaignFactory(branch=None)
    response = api(manager_a).patch(f"/api/v1/campaigns/{mine.pk}/", {"cost": "99.00"},
                                    format="json")
    assert response.status_code == 200 and response.json()["cost"] == "99.00"
    assert api(manager_a).patch(f"/api/v1/campaigns/{theirs.pk}/", {"cost": "1"},
                                format="json").status_code == 404
    assert api(manager_a).patch(f"/api/v1/campaigns/{everyone.pk}/", {"cost": "1"},
                                format="json").status_code == 403
    assert api(head_office).patch(f"/api/v1/campaigns/{everyone.pk}/", {"cost": "1"},
                                  format="json").status_code == 200


def test_counselors_cannot_write_campaigns_through_the_api(counselor_a, front_desk_a):
    for user in (counselor_a, front_desk_a):
        response = api(user).post("/api/v1/campaigns/", {"code": "x"}, format="json")
        assert response.status_code == 403
    assert not Campaign.objects.exists()

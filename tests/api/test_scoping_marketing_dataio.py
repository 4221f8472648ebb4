"""Marketing and data import/export endpoints are scoped like the rest: branch B's tokens
never read or write branch A's prospects, campaigns, enquiries, import jobs or export
rows; another branch's record is 404 (not 403) and filters by its ids tell nothing."""
from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dataio.models import ImportJob
from marketing.models import Enquiry
from tests.marketing.factories import CampaignFactory, ProspectFactory

from .conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def mkt(world, manager_a):
    out = {}
    for suffix in ("", "_b"):
        branch, student = world[f"branch{suffix}"], world[f"student{suffix}"]
        campaign = CampaignFactory(branch=branch)
        out[f"campaign{suffix}"] = campaign
        out[f"prospect{suffix}"] = ProspectFactory(student=student, campaign=campaign)
        out[f"enquiry{suffix}"] = Enquiry.objects.create(
            branch=branch, campaign=campaign, parent_name="李女士", phone="13900000000",
            child_name="李同学", grade="S1", consent_contact=True, status="new")
    out["job"] = ImportJob.objects.create(kind="students", file="imports/x.csv",
                                          original_name="x.csv", branch=world["branch"],
                                          created_by=manager_a)
    return out


DETAIL = {"prospects": "prospect", "campaigns": "campaign", "enquiries": "enquiry"}
ACTIONS = [("prospects", "prospect", "advance", {"stage": "contacted"}),
           ("prospects", "prospect", "tier", {"tier": "quality", "reason": "x"}),
           ("prospects", "prospect", "release", {"reason": "x"}),
           ("campaigns", "campaign", "handoff", {"text": "hi"}),
           ("enquiries", "enquiry", "convert", {})]


@pytest.mark.parametrize("who", ["manager_b", "counselor_b"])
@pytest.mark.parametrize("resource", DETAIL)
def test_branch_b_never_reads_branch_as_marketing_records(request, mkt, who, resource):
    client = client_for(request.getfixturevalue(who))
    obj = mkt[DETAIL[resource]]

    listed = client.get(f"/api/v1/{resource}/", {"page_size": 200})
    detail = client.get(f"/api/v1/{resource}/{obj.pk}/")

    if listed.status_code == 403:  # counselors do not read campaigns at all
        assert (who, resource) == ("counselor_b", "campaigns")
        return
    assert detail.status_code == 404
    assert obj.pk not in [r["id"] for r in listed.json()["results"]]
    assert mkt[DETAIL[resource] + "_b"].pk in [r["id"] for r in listed.json()["results"]]


@pytest.mark.parametrize(("resource", "key", "verb", "body"), ACTIONS)
def test_branch_b_never_acts_on_branch_as_marketing_records(mkt, manager_b, resource, key,
                                                            verb, body):
    obj = mkt[key]
    before = type(obj).objects.filter(pk=obj.pk).values().get()

    res = client_for(manager_b).post(f"/api/v1/{resource}/{obj.pk}/{verb}/", body,
                                     format="json")

    assert res.status_code == 404
    assert type(obj).objects.filter(pk=obj.pk).values().get() == before


def test_a_counselor_cannot_claim_another_branchs_lead(mkt, counselor_b):
    res = client_for(counselor_b).post(f"/api/v1/prospects/{mkt['prospect'].pk}/claim/")
    assert res.status_code == 404
    mkt["prospect"].refresh_from_db()
    assert mkt["prospect"].owner_id is None


@pytest.mark.parametrize(("resource", "param", "key"), [
    ("prospects", "campaign", "campaign"), ("prospects", "owner", None),
    ("enquiries", "campaign", "campaign")])
def test_filtering_by_another_branchs_id_answers_like_a_missing_id(
        mkt, manager_b, counselor_a, resource, param, key):
    """An existing id of branch A and an id that exists nowhere get the same answer."""
    client = client_for(manager_b)
    real = mkt[key].pk if key else counselor_a.pk
    existing = client.get(f"/api/v1/{resource}/", {param: real})
    missing = client.get(f"/api/v1/{resource}/", {param: 10**9})
    assert (existing.status_code, missing.status_code) == (200, 200)
    assert existing.json()["count"] == missing.json()["count"] == 0


def test_analytics_of_branch_b_do_not_count_branch_as_campaigns(mkt, manager_b):
    costs = client_for(manager_b).get("/api/v1/marketing/analytics/funnel/",
                                      {"by": "campaign"})
    assert costs.status_code == 200
    assert mkt["campaign"].code not in costs.content.decode()
    assert mkt["campaign"].name not in costs.content.decode()


# --- data import / export ------------------------------------------------------------------

def test_branch_b_never_reads_or_confirms_branch_as_import(mkt, manager_b, counselor_b):
    job = mkt["job"]
    status = job.status
    for user in (manager_b, counselor_b):
        client = client_for(user)
        assert client.get(f"/api/v1/imports/{job.pk}/").status_code in {403, 404}
        assert client.post(f"/api/v1/imports/{job.pk}/confirm/").status_code in {403, 404}
    assert client_for(manager_b).get(f"/api/v1/imports/{job.pk}/").status_code == 404
    job.refresh_from_db()
    assert job.status == status


def test_importing_into_another_branch_answers_like_a_missing_branch(world, manager_b):
    def post(branch_id: int):
        upload = SimpleUploadedFile("s.csv", b"name\n", content_type="text/csv")
        return client_for(manager_b).post("/api/v1/imports/", {
            "kind": "students", "file": upload, "branch": branch_id}, format="multipart")

    other, missing = post(world["branch"].pk), post(10**9)

    assert (other.status_code, missing.status_code) == (400, 400)
    assert other.json()["error"]["fields"].keys() == {"branch"}
    assert world["branch"].name not in other.content.decode()
    assert not ImportJob.objects.filter(branch=world["branch"]).exclude(
        original_name="x.csv").exists()


@pytest.mark.parametrize("name", ["students", "parents"])
def test_exports_of_branch_b_never_contain_branch_a_rows(world, manager_b, name):
    res = client_for(manager_b).get(f"/api/v1/exports/{name}/",
                                    {"fmt": "csv", "branch": world["branch"].pk})
    assert res.status_code == 200
    rows = list(csv.reader(io.StringIO(res.content.decode("utf-8-sig"))))
    text = res.content.decode("utf-8-sig")
    assert world["student"].name_zh not in text
    assert world["parent"].phone not in text
    assert len(rows) == 1  # the header only: branch A's filter gives branch B nothing

"""The public enquiry page: creates a prospect with source and campaign, attaches a known
phone, keeps under-14s as enquiries, and refuses bots and floods."""
import time

import pytest
from django.core.cache import cache

from marketing.forms import started_token
from marketing.models import Channel, Enquiry, MarketingPolicy, Prospect
from parents.models import Parent
from students.models import Student
from tests.factories import GuardianshipFactory

from .factories import CampaignFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.marketing.urls")]


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def form(**kw):
    data = {"parent_name": "刘女士", "phone": "139 0000 1111", "child_name": "刘洋",
            "grade": "S3", "message": "想了解高三数学", "consent_contact": "on", "website": "",
            "started": started_token(time.time() - 30)}
    return data | kw


def url(branch, code=""):
    return f"/m/enquiry/{branch.code}/" + (f"?c={code}" if code else "")


def test_the_page_is_public(client, branch_a):
    response = client.get(url(branch_a))
    assert response.status_code == 200
    assert b'name="website"' in response.content


def test_an_enquiry_creates_a_prospect_with_source_and_campaign(client, branch_a):
    lecture = Channel.objects.get(code="lecture")
    campaign = CampaignFactory(branch=branch_a, code="gaokao-talk", channel=lecture)
    response = client.post(url(branch_a, "gaokao-talk"), form())
    assert response.status_code == 200
    student = Student.objects.get(name_zh="刘洋")
    assert (student.branch, student.source) == (branch_a, lecture)
    assert Prospect.objects.get(student=student).campaign == campaign
    parent = Parent.objects.get(phone="+8613900001111")
    assert parent.contact_consents.get(channel="phone").granted
    assert Enquiry.objects.get().status == Enquiry.Status.CONVERTED


def test_a_known_phone_attaches_the_enquiry_to_the_existing_family(client, branch_a):
    g = GuardianshipFactory(student__branch=branch_a, student__name_zh="刘洋",
                            parent__phone="+8613900001111")
    client.post(url(branch_a), form())
    assert Student.objects.count() == 1 and Parent.objects.count() == 1
    enquiry = Enquiry.objects.get()
    assert (enquiry.status, enquiry.parent, enquiry.student) == (
        Enquiry.Status.ATTACHED, g.parent, g.student)


def test_an_under_fourteen_child_waits_as_an_enquiry_for_consent(client, branch_a):
    client.post(url(branch_a), form(grade="P5"))
    assert Student.objects.count() == 0
    assert Enquiry.objects.get().status == Enquiry.Status.PENDING


def test_the_honeypot_keeps_nothing(client, branch_a):
    response = client.post(url(branch_a), form(website="http://spam.example"))
    assert response.status_code == 200
    assert Enquiry.objects.count() == 0 and Student.objects.count() == 0


def test_a_form_sent_too_fast_is_refused(client, branch_a):
    response = client.post(url(branch_a), form(started=started_token(time.time())))
    assert response.status_code == 400
    assert Enquiry.objects.count() == 0


def test_a_forged_timestamp_is_refused(client, branch_a):
    response = client.post(url(branch_a), form(started="123:forged"))
    assert response.status_code == 400


def test_the_rate_limit_refuses_a_flood_from_one_address(client, branch_a):
    MarketingPolicy.objects.create(branch=branch_a, enquiry_limit_per_hour=2)
    for i in range(2):
        client.post(url(branch_a), form(phone=f"13900002{i:03d}", child_name=f"孩子{i}"))
    response = client.post(url(branch_a), form(phone="13900009999", child_name="第三个"))
    assert response.status_code == 429
    assert Enquiry.objects.count() == 2


def test_the_consent_box_is_required(client, branch_a):
    data = form()
    del data["consent_contact"]
    assert client.post(url(branch_a), data).status_code == 400
    assert Enquiry.objects.count() == 0


def test_the_qr_code_is_an_svg_of_the_enquiry_link(client, branch_a):
    response = client.get(f"/m/enquiry/{branch_a.code}/qr.svg?c=x")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response.content.lstrip().startswith(b"<?xml") or b"<svg" in response.content

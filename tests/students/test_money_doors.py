"""No door writes a contract without its ledger entries or past a prepayment cap: the
admin, the API, the import and the enrolment page all go through contract_create."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.admin.sites import site
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from dataio import services as dataio_services
from students.models import Contract, Payment
from tests.factories import CourseFactory, GuardianshipFactory
from tests.students.factories_extra import policy

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def world(branch_a):
    link = GuardianshipFactory(student__branch=branch_a, student__name_zh="张三",
                               parent__phone="+8613812345678")
    return {"student": link.student, "course": CourseFactory(code="x")}


def via_admin(client, user, world, hours):
    today = timezone.localdate()
    client.force_login(user)
    data = {"contract_no": "HT-ADM", "student": world["student"].pk,
            "course": world["course"].pk, "hours_purchased": hours, "hours_gifted": "0",
            "list_price": "8000", "discount": "0", "valid_from": today,
            "valid_until": today + dt.timedelta(days=60), "signed_on": today,
            "ledger-TOTAL_FORMS": "0", "ledger-INITIAL_FORMS": "0",
            "payments-TOTAL_FORMS": "0", "payments-INITIAL_FORMS": "0"}
    return client.post(reverse("admin:students_contract_add"), data)


def via_api(client, user, world, hours):
    api = APIClient()
    api.force_authenticate(user)
    today = timezone.localdate()
    return api.post("/api/v1/contracts/", {
        "contract_no": "HT-API", "student": world["student"].pk, "course": world["course"].pk,
        "hours_purchased": hours, "list_price": "8000", "valid_from": str(today),
        "valid_until": str(today + dt.timedelta(days=60))}, format="json")


def via_import(client, user, world, hours, capture):
    head = "合同编号,学员姓名,家长电话,课程,购买课时,剩余课时,金额,签约日期,有效期至\n"
    today = timezone.localdate()
    row = f"HT-IMP,张三,13812345678,x,{hours},,8000,{today},{today + dt.timedelta(days=60)}\n"
    with capture(execute=True):
        job = dataio_services.import_job_create(
            actor=user, kind="contracts", branch=None,
            upload=SimpleUploadedFile("c.csv", (head + row).encode()))
    job.refresh_from_db()
    if job.error_count == 0:
        with capture(execute=True):
            dataio_services.import_confirm(job=job, actor=user)
    return job


def via_page(client, user, world, hours):
    client.force_login(user)
    today = timezone.localdate()
    return client.post(f"/money/students/{world['student'].pk}/enrol/", {
        "course": world["course"].pk, "hours_purchased": hours, "hours_gifted": "0",
        "list_price": "8000", "discount": "0", "valid_from": today,
        "valid_until": today + dt.timedelta(days=60), "first_amount": "100",
        "method": "cash", "request_key": "k"})


DOORS = ["admin", "api", "import", "page"]


def knock(door, client, user, world, hours, capture):
    if door == "import":
        return via_import(client, user, world, hours, capture)
    return {"admin": via_admin, "api": via_api, "page": via_page}[door](client, user, world,
                                                                        hours)


@pytest.mark.parametrize("door", DOORS)
def test_every_door_writes_the_ledger(door, client, manager_a, world,
                                      django_capture_on_commit_callbacks, settings):
    settings.SECURE_SSL_REDIRECT = False
    knock(door, client, manager_a, world, "30", django_capture_on_commit_callbacks)
    c = Contract.objects.get()
    assert c.ledger.aggregate(t=Sum("hours"))["t"] == D("30")


@pytest.mark.parametrize("door", DOORS)
def test_no_door_passes_a_cap(door, client, manager_a, world, branch_a,
                              django_capture_on_commit_callbacks, settings):
    settings.SECURE_SSL_REDIRECT = False
    policy(branch_a, max_prepaid_hours=D("20"))
    knock(door, client, manager_a, world, "30", django_capture_on_commit_callbacks)
    assert not Contract.objects.exists() and not Payment.objects.exists()


def test_the_admin_keeps_money_read_only(client, head_office, manager_a, world, settings):
    settings.SECURE_SSL_REDIRECT = False
    via_page(client, manager_a, world, "30")
    contract, payment = Contract.objects.get(), Payment.objects.get()
    request = type("R", (), {"user": head_office})()
    assert not site._registry[Contract].has_delete_permission(request, contract)
    assert not site._registry[Payment].has_change_permission(request, payment)
    assert not site._registry[Payment].has_delete_permission(request, payment)
    client.force_login(head_office)
    res = client.post(reverse("admin:students_contract_change", args=[contract.pk]), {
        "hours_purchased": "999", "list_price": "1", "ledger-TOTAL_FORMS": "0",
        "ledger-INITIAL_FORMS": "2", "payments-TOTAL_FORMS": "1",
        "payments-INITIAL_FORMS": "1", "payments-0-id": payment.pk,
        "payments-0-amount": "1", "payments-0-DELETE": "on"})
    assert res.status_code in {200, 302}
    contract.refresh_from_db()
    payment.refresh_from_db()
    assert (contract.hours_purchased, contract.list_price, payment.amount) == (
        D("30"), D("8000"), D("100"))

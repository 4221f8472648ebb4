"""Contracts (with balances), payments (deduplicated by reference and by key), refunds."""
from __future__ import annotations

import datetime as dt

import pytest

from students.models import Contract, Payment

from .conftest import client_for

pytestmark = pytest.mark.django_db


def contract_body(world, **extra):
    today = dt.date.today()
    return {"contract_no": "HT-API-1", "student": world["student"].pk,
            "course": world["course"].pk, "hours_purchased": "20", "hours_gifted": "2",
            "list_price": "4000", "discount": "200", "valid_from": str(today),
            "valid_until": str(today + dt.timedelta(days=90)), **extra}


def test_a_manager_signs_a_contract_and_sees_its_balance(world, manager_a, branch_b):
    res = client_for(manager_a).post("/api/v1/contracts/",
                                     contract_body(world, branch=branch_b.pk,
                                                   status="refunded", is_renewal=False))
    assert res.status_code == 201, res.content
    body = res.json()
    assert (body["balance"], body["amount"], body["status"]) == ("22.00", "3800.00", "active")
    assert body["branch"] == world["branch"].pk  # from the student, not the client
    assert body["is_renewal"] is True  # the student already had a contract


def test_counselors_read_contracts_but_do_not_sign_them(world, counselor_a):
    client = client_for(counselor_a)
    assert client.get(f"/api/v1/contracts/{world['contract'].pk}/").json()["balance"] == "38.00"
    assert client.post("/api/v1/contracts/", contract_body(world)).status_code == 403


def test_contract_rules_answer_400_with_field_names(world, manager_a):
    res = client_for(manager_a).post("/api/v1/contracts/", contract_body(
        world, discount="9999", contract_no=world["contract"].contract_no))
    assert res.status_code == 400
    fields = res.json()["error"]["fields"]
    assert "contract_no" in fields or "non_field_errors" in fields


def test_payments_are_booked_once_per_reference(world, manager_a):
    client = client_for(manager_a)
    body = {"contract": world["contract"].pk, "amount": "500.00", "method": "alipay",
            "paid_at": "2025-03-01T10:00:00Z", "reference": "ALI-001"}

    first = client.post("/api/v1/payments/", body)
    twin = client.post("/api/v1/payments/", {**body, "amount": "499.00"})

    assert first.status_code == 201
    assert first.json()["recorded_by"] == manager_a.pk
    assert twin.status_code == 409, twin.content
    assert twin.json()["error"]["existing_payment"] == first.json()["id"]
    assert Payment.objects.filter(reference="ALI-001").count() == 1


def test_a_retried_payment_with_the_same_key_is_not_booked_twice(world, manager_a):
    client = client_for(manager_a)
    body = {"contract": world["contract"].pk, "amount": "500.00", "method": "cash",
            "paid_at": "2025-03-01T10:00:00Z"}
    first = client.post("/api/v1/payments/", body, headers={"Idempotency-Key": "pay-1"})
    again = client.post("/api/v1/payments/", body, headers={"Idempotency-Key": "pay-1"})
    assert again.json()["id"] == first.json()["id"]
    assert Payment.objects.filter(contract=world["contract"], method="cash").count() == 1


def test_a_payment_must_be_positive(world, manager_a):
    res = client_for(manager_a).post("/api/v1/payments/", {
        "contract": world["contract"].pk, "amount": "-5", "method": "cash",
        "paid_at": "2025-03-01T10:00:00Z"})
    assert res.status_code == 400


def test_contracts_sync_incrementally(world, manager_a):
    Contract.objects.filter(pk=world["contract"].pk).update(
        updated_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    res = client_for(manager_a).get("/api/v1/contracts/",
                                    {"updated_since": "2021-01-01T00:00:00Z"})
    assert res.json()["count"] == 0


def test_the_ledger_and_refunds_are_read_only(world, head_office):
    client = client_for(head_office)
    assert client.post("/api/v1/ledger-entries/", {}).status_code == 405
    assert client.post("/api/v1/refunds/", {}).status_code == 405

"""Issue #21 item 9: dates in years 0001 / 9999 and overpayments are refused with a
message on the field, through the services every door calls and over the API."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from students.models import Contract, Payment, Student
from students.services import payment_record, student_create
from students.services.ledger import contract_create
from tests.api.conftest import client_for
from tests.factories import ContractFactory, CourseFactory, StudentFactory

pytestmark = pytest.mark.django_db

BAD_DATES = [dt.date(1, 1, 1), dt.date(9999, 12, 31)]


@pytest.mark.parametrize("day", BAD_DATES)
def test_birth_date_out_of_range_is_refused(branch_a, day):
    with pytest.raises(ValidationError) as err:
        student_create(branch=branch_a, name_zh="张三", grade="S1", birth_date=day)
    assert "birth_date" in err.value.message_dict
    assert not Student.objects.exists()


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_api_refuses_birth_date_out_of_range(front_desk_a, branch_a, day):
    student = StudentFactory(branch=branch_a, grade="S1", birth_date=None)
    res = client_for(front_desk_a).patch(f"/api/v1/students/{student.pk}/",
                                         {"birth_date": day}, format="json")
    assert res.status_code == 400, res.content
    assert "birth_date" in res.json()["error"]["fields"]
    student.refresh_from_db()
    assert student.birth_date is None


@pytest.mark.parametrize("field", ["valid_from", "valid_until", "signed_on"])
@pytest.mark.parametrize("day", BAD_DATES)
def test_contract_dates_out_of_range_are_refused(branch_a, field, day):
    student = StudentFactory(branch=branch_a, grade="S1")
    dates = {"valid_from": dt.date(2026, 9, 1), "valid_until": dt.date(2027, 6, 30),
             "signed_on": dt.date(2026, 8, 20), field: day}
    with pytest.raises(ValidationError) as err:
        contract_create(student=student, course=CourseFactory(), hours_purchased=Decimal("20"),
                        list_price=Decimal("4000"), contract_no="HT-X", **dates)
    assert field in err.value.message_dict
    assert not Contract.objects.filter(contract_no="HT-X").exists()


@pytest.mark.parametrize("year", [1, 9999])
def test_payment_date_out_of_range_is_refused(branch_a, year):
    contract = ContractFactory(student__branch=branch_a)
    with pytest.raises(ValidationError) as err:
        payment_record(contract=contract, amount=Decimal("100"), method="cash",
                       paid_at=dt.datetime(year, 6, 1, 12, 0, tzinfo=dt.UTC))
    assert "paid_at" in err.value.message_dict
    assert not Payment.objects.exists()


def test_a_payment_far_above_what_is_owed_is_refused(branch_a, manager_a):
    contract = ContractFactory(student__branch=branch_a, list_price=Decimal("8000"))
    res = client_for(manager_a).post("/api/v1/payments/", {
        "contract": contract.pk, "amount": str(contract.amount * 125), "method": "alipay",
        "paid_at": "2026-03-01T10:00:00Z"})
    assert res.status_code == 400, res.content
    assert "amount" in res.json()["error"]["fields"]
    with pytest.raises(ValidationError) as err:
        payment_record(contract=contract, amount=contract.amount + Decimal("0.01"),
                       method="cash", paid_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    assert "amount" in err.value.message_dict
    assert not Payment.objects.exists()

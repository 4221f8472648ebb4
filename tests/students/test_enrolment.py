"""Enrolment at the desk: contract + first payment + receipt in one step, or nothing."""
import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from students.models import Contract, LedgerEntry, NumberSequence, Payment, Receipt
from students.services import (
    DuplicatePayment,
    contract_owed,
    enrolment_sign,
    payment_record,
    renewal_prefill,
)
from tests.factories import CourseFactory, StudentFactory
from tests.students.factories_extra import policy

pytestmark = pytest.mark.django_db
D = Decimal


def sign(student, actor, **kw):
    today = timezone.localdate()
    args = {"student": student, "course": CourseFactory(), "hours_purchased": D("40"),
            "hours_gifted": D("2"), "list_price": D("8000"), "discount": D("500"),
            "valid_from": today, "valid_until": today + dt.timedelta(days=80),
            "first_amount": D("3000"), "method": "wechat", "actor": actor}
    return enrolment_sign(**{**args, **kw})


def test_signing_writes_contract_ledger_payment_and_receipt(branch_a, front_desk_a):
    student = StudentFactory(branch=branch_a)
    done = sign(student, front_desk_a, reference="WX-1")
    c = done.contract
    assert c.contract_no == f"A-HT{timezone.localdate().year}-00001"
    assert sorted(c.ledger.values_list("kind", "hours")) == [("gifted", D("2.00")),
                                                              ("purchased", D("40.00"))]
    assert done.payment.receipt.number == "A-SJ000001"
    assert contract_owed(c) == D("4500.00")


def test_a_cap_refuses_the_whole_step_and_uses_no_number(branch_a, front_desk_a):
    policy(branch_a, max_prepaid_hours=D("30"))
    student = StudentFactory(branch=branch_a)
    with pytest.raises(ValidationError) as exc:
        sign(student, front_desk_a)
    assert "hours_purchased" in exc.value.message_dict
    assert not Contract.objects.exists() and not Payment.objects.exists()
    assert not NumberSequence.objects.filter(last__gt=0).exists()
    assert sign(student, front_desk_a, hours_purchased=D("30")).payment.receipt.seq == 1


@pytest.mark.parametrize(("amount", "field"), [("0", "first_amount"), ("-5", "first_amount"),
                                               ("7600", "first_amount")])
def test_a_first_payment_out_of_range_is_refused(branch_a, front_desk_a, amount, field):
    with pytest.raises(ValidationError) as exc:
        sign(StudentFactory(branch=branch_a), front_desk_a, first_amount=D(amount))
    assert field in exc.value.message_dict
    assert not Contract.objects.exists()


def test_a_reused_reference_rolls_back_the_contract(branch_a, front_desk_a):
    sign(StudentFactory(branch=branch_a), front_desk_a, reference="WX-9")
    with pytest.raises(DuplicatePayment):
        sign(StudentFactory(branch=branch_a), front_desk_a, reference="WX-9")
    assert Contract.objects.count() == 1 and Receipt.objects.count() == 1
    assert LedgerEntry.objects.count() == 2


def test_a_double_submit_books_once(branch_a, front_desk_a):
    student = StudentFactory(branch=branch_a)
    first = sign(student, front_desk_a, request_key="k1")
    with pytest.raises(DuplicatePayment) as exc:
        sign(student, front_desk_a, request_key="k1")
    assert exc.value.existing == first.payment
    assert Contract.objects.count() == 1


def test_instalments_cannot_overpay_and_receipts_run_on(branch_a, front_desk_a):
    c = sign(StudentFactory(branch=branch_a), front_desk_a).contract
    now = timezone.now()
    p = payment_record(contract=c, amount=D("4000"), method="cash", paid_at=now,
                       actor=front_desk_a)
    assert p.receipt.seq == 2
    with pytest.raises(ValidationError) as exc:
        payment_record(contract=c, amount=D("501"), method="cash", paid_at=now,
                       actor=front_desk_a)
    assert "amount" in exc.value.message_dict
    assert contract_owed(c) == D("500.00")


def test_teachers_and_other_branches_cannot_enrol_or_take_money(branch_a, teacher_a,
                                                                 manager_b, front_desk_a):
    student = StudentFactory(branch=branch_a)
    for actor in (teacher_a, manager_b):
        with pytest.raises(PermissionDenied):
            sign(student, actor)
    c = sign(student, front_desk_a).contract
    with pytest.raises(PermissionDenied):
        payment_record(contract=c, amount=D("1"), method="cash", paid_at=timezone.now(),
                       actor=manager_b)


def test_a_renewal_is_prefilled_from_the_last_contract(branch_a, front_desk_a):
    student = StudentFactory(branch=branch_a)
    c = sign(student, front_desk_a).contract
    data = renewal_prefill(student)
    assert data["course"] == c.course and data["hours_purchased"] == c.hours_purchased
    assert data["valid_from"] == c.valid_until + dt.timedelta(days=1)
    assert data["valid_until"] - data["valid_from"] == c.valid_until - c.valid_from


@pytest.mark.django_db(transaction=True)
def test_receipt_numbers_have_no_gaps_under_concurrent_desks(postgres_only, branch_a,
                                                             front_desk_a):
    """Eight payments at once on PostgreSQL: numbers 2..9, none twice, none missing."""
    c = sign(StudentFactory(branch=branch_a), front_desk_a, first_amount=D("100")).contract
    errors: list[Exception] = []

    def pay(i: int) -> None:
        try:
            payment_record(contract=c, amount=D("100"), method="cash", paid_at=timezone.now(),
                           reference=f"R{i}", actor=front_desk_a)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=pay, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(Receipt.objects.values_list("seq", flat=True)) == list(range(1, 10))

"""Money invariants under random desk days (hypothesis): sign, pay, roll call, refund,
transfer (new or open contract) in any order. Balances stay the sum of their entries;
no contract refunds more than was paid into it, and the institution never pays out more
than it took in; receipts of the branch run 1..n without a gap."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.roles import Role
from students.models import Contract, Payment, Receipt, Refund
from students.selectors import contract_balances
from students.services import (
    contract_owed,
    contract_paid,
    enrolment_sign,
    payment_record,
    refund_approve,
    refund_request,
    roll_call_take,
    transfer_approve,
    transfer_request,
)
from tests.factories import BranchFactory, CourseFactory, StudentFactory, staff
from tests.students.factories_extra import klass, lesson

pytestmark = pytest.mark.django_db
D = Decimal

OPS = st.lists(st.one_of(
    st.tuples(st.just("sign"), st.integers(0, 1), st.sampled_from(["2", "5", "12"]),
              st.sampled_from(["full", "half", "tiny"])),
    st.tuples(st.just("pay"), st.integers(0, 6), st.sampled_from(["100", "owed", "99999",
                                                                   "-5"])),
    st.tuples(st.just("roll_call"), st.integers(0, 3),
              st.lists(st.sampled_from(["attended", "late", "leave", "absent"]),
                       min_size=2, max_size=2)),
    st.tuples(st.just("refund"), st.integers(0, 6), st.sampled_from([None, "50", "99999"])),
    st.tuples(st.just("transfer"), st.integers(0, 6), st.sampled_from(["100", "300"]),
              st.booleans()),
), min_size=1, max_size=12)


def check() -> None:
    for c in contract_balances():
        assert c.balance == (c.ledger.aggregate(t=Sum("hours"))["t"] or 0)
        assert c.balance >= 0
        refunded = Refund.objects.filter(contract=c, status="approved").aggregate(
            t=Sum("amount"))["t"] or 0
        assert refunded <= contract_paid(c)
        assert contract_owed(c) >= 0
        if c.status in {"refunded", "transferred"}:
            assert c.balance == 0
    paid_in = Payment.objects.aggregate(t=Sum("amount"))["t"] or 0
    paid_out = Refund.objects.filter(status="approved").aggregate(t=Sum("amount"))["t"] or 0
    assert paid_out <= paid_in
    seqs = sorted(Receipt.objects.values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert Receipt.objects.count() == Payment.objects.count()


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=OPS)
def test_money_invariants_hold_under_any_desk_day(django_db_blocker, ops):
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        run(ops)
        transaction.set_rollback(True)


def run(ops):
    branch = BranchFactory(code="mp")
    n = Contract.objects.count() + StudentFactory._meta.model.objects.count()
    manager = staff(Role.MANAGER, branch, username=f"mm{n}")
    desk = staff(Role.FRONT_DESK, branch, username=f"md{n}")
    group = klass(branch)
    students = [StudentFactory(branch=branch) for _ in range(2)]
    today = timezone.localdate()
    sessions = [lesson(group, day=today - dt.timedelta(days=i), hour=8) for i in range(4)]
    for op in ops:
        contracts = list(Contract.objects.order_by("pk"))
        pick = (lambda i, cs=contracts: cs[i % len(cs)]) if contracts else None
        try:
            if op[0] == "sign":
                hours = D(op[2])
                price = hours * 200
                first = {"full": price, "half": price / 2, "tiny": D("0.01")}[op[3]]
                enrolment_sign(student=students[op[1]], course=group.course,
                               class_group=group, hours_purchased=hours, list_price=price,
                               valid_from=today - dt.timedelta(days=10),
                               valid_until=today + dt.timedelta(days=30), first_amount=first,
                               method="cash", actor=desk)
            elif op[0] == "pay" and pick:
                c = pick(op[1])
                amount = contract_owed(c) if op[2] == "owed" else D(op[2])
                payment_record(contract=c, amount=amount, method="wechat",
                               paid_at=timezone.now(), actor=desk)
            elif op[0] == "roll_call":
                marks = {s.pk: status for s, status in zip(students, op[2], strict=True)}
                roll_call_take(session=sessions[op[1]], marks=marks, actor=manager)
            elif op[0] == "refund" and pick:
                refund = refund_request(contract=pick(op[1]), reason="x", actor=desk,
                                        amount=None if op[2] is None else D(op[2]))
                refund_approve(refund=refund, actor=manager)
            elif op[0] == "transfer" and pick:
                source = pick(op[1])
                into = next((c for c in contracts if c.pk != source.pk
                             and c.student_id == source.student_id
                             and c.status in {"active", "completed"}), None) if op[3] else None
                t = transfer_request(source=source, reason="x", actor=desk,
                                     target_contract=into,
                                     target_course=CourseFactory(unit_price=D(op[2])))
                transfer_approve(transfer=t, actor=manager)
        except (ValidationError, PermissionDenied):
            pass  # a refused operation must leave nothing behind; check() looks
        check()

"""Ledger invariants under random sequences of operations (hypothesis).

Whatever happens (contracts, roll calls and corrections, refunds, transfers, expiry), a
contract's balance is the sum of its entries and never negative unless the branch lets
families owe hours; closed contracts (refunded, transferred, expired) are settled at 0.
"""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.roles import Role
from students.models import Contract, ContractPolicy, LedgerEntry
from students.selectors import contract_balances
from students.services import (
    contracts_expire,
    refund_approve,
    refund_request,
    roll_call_take,
    transfer_approve,
    transfer_request,
)
from tests.factories import CourseFactory, StudentFactory, staff
from tests.students.factories_extra import enrolled, klass, lesson

pytestmark = pytest.mark.django_db

OPS = st.lists(st.one_of(
    st.tuples(st.just("contract"), st.integers(0, 1), st.sampled_from(["2", "5", "12"]),
              st.integers(-3, 60)),
    st.tuples(st.just("roll_call"), st.integers(0, 5),
              st.lists(st.sampled_from(["attended", "late", "leave", "absent"]),
                       min_size=2, max_size=2)),
    st.tuples(st.just("refund"), st.integers(0, 8)),
    st.tuples(st.just("transfer"), st.integers(0, 8), st.sampled_from(["100", "300"])),
    st.tuples(st.just("expire"),),
), min_size=1, max_size=14)


def check_invariants(owe: bool) -> None:
    for c in contract_balances():
        total = c.ledger.aggregate(t=Sum("hours"))["t"] or 0
        assert c.balance == total
        if not owe:
            assert c.balance >= 0, c
        if c.status in {"refunded", "transferred"}:
            assert c.balance == 0
        if c.status == "expired":
            assert c.balance <= 0
    assert LedgerEntry.objects.filter(kind="expired").values("contract").distinct().count() \
        == LedgerEntry.objects.filter(kind="expired").count()


@pytest.mark.parametrize("shortfall", ["block", "owe"])
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=OPS)
def test_balances_stay_the_sum_of_entries_under_any_sequence(django_db_blocker, shortfall,
                                                             ops):
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        run(ops, shortfall)
        transaction.set_rollback(True)


def run(ops, shortfall):
    from tests.factories import BranchFactory

    branch = BranchFactory(code="prop")
    ContractPolicy.objects.create(branch=branch, shortfall=shortfall)
    n = StudentFactory._meta.model.objects.count()
    manager = staff(Role.MANAGER, branch, username=f"m{n}")
    desk = staff(Role.FRONT_DESK, branch, username=f"d{n}")  # requests; the manager decides
    group = klass(branch)
    students = [StudentFactory(branch=branch) for _ in range(2)]
    today = timezone.localdate()
    sessions = [lesson(group, day=today - dt.timedelta(days=i), hour=8) for i in range(6)]
    for op in ops:
        contracts = list(Contract.objects.order_by("pk"))
        try:
            if op[0] == "contract":
                enrolled(group, student=students[op[1]], hours=op[2], paid="8000",
                         valid_from=today - dt.timedelta(days=10),
                         valid_until=today + dt.timedelta(days=op[3]))
            elif op[0] == "roll_call":
                marks = {s.pk: status for s, status in zip(students, op[2], strict=True)}
                roll_call_take(session=sessions[op[1]], marks=marks, actor=manager)
            elif op[0] == "refund" and contracts:
                c = contracts[op[1] % len(contracts)]
                refund_approve(refund=refund_request(contract=c, reason="x", actor=desk),
                               actor=manager)
            elif op[0] == "transfer" and contracts:
                c = contracts[op[1] % len(contracts)]
                t = transfer_request(source=c, reason="x", actor=desk,
                                     target_course=CourseFactory(unit_price=Decimal(op[2])))
                transfer_approve(transfer=t, actor=manager)
            elif op[0] == "expire":
                contracts_expire()
        except ValidationError:
            pass  # a refused operation must leave nothing behind; the invariants check it
        check_invariants(owe=shortfall == "owe")

"""Refunds: the branch formula, the save attempt, who may approve, the ledger at approval."""
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crm.models import AuditLog
from students.models import Contract, LedgerEntry, Refund, RetentionAttempt
from students.selectors import contract_balances
from students.services import (
    contract_refund_quote,
    refund_approve,
    refund_quote,
    refund_request,
    retention_close,
    roll_call_take,
)
from tests.students.factories_extra import enrolled, klass, lesson, policy

pytestmark = pytest.mark.django_db
D = Decimal


def test_refund_formula_worked_example_with_setup_fee_and_gifted_hours():
    # 40 h for 8000 (200/h) + 4 gifted; 10 h used; set-up fee 300.
    q = refund_quote(paid=D("8000"), setup_fee=D("300"), hours_purchased=D("40"),
                     hours_gifted=D("4"), consumed_hours=D("10"), unit_price=D("200"),
                     balance=D("34"))
    assert (q.consumed_value, q.amount) == (D("2000.00"), D("5700.00"))
    assert (q.refund_hours, q.forfeit_hours) == (D("30"), D("4"))


def test_refund_formula_charges_the_discounted_unit_price():
    # List 8000 - discount 800 = 7200 paid for 40 h: 180/h; 15 h used.
    q = refund_quote(paid=D("7200"), setup_fee=D("0"), hours_purchased=D("40"),
                     hours_gifted=D("0"), consumed_hours=D("15"), unit_price=D("180"),
                     balance=D("25"))
    assert q.amount == D("4500.00")


def test_gifted_hours_used_are_not_charged_and_the_refund_is_never_negative():
    # All 40 purchased and 2 of 4 gifted hours used: nothing left to refund.
    q = refund_quote(paid=D("8000"), setup_fee=D("500"), hours_purchased=D("40"),
                     hours_gifted=D("4"), consumed_hours=D("42"), unit_price=D("200"),
                     balance=D("2"))
    assert (q.charged_hours, q.amount) == (D("40"), D("0"))
    assert (q.refund_hours, q.forfeit_hours) == (D("0"), D("2"))


def test_a_refund_request_opens_a_save_attempt_owned_by_the_counselor(branch_a, counselor_a):
    c = enrolled(klass(branch_a), paid="8000")
    c.student.counselor = counselor_a
    c.student.save()
    refund = refund_request(contract=c, reason="搬家", actor=counselor_a)
    attempt = RetentionAttempt.objects.get()
    assert (refund.status, attempt.refund, attempt.owner, attempt.outcome) == (
        "requested", refund, counselor_a, "pending")
    assert refund.amount == D("8000.00")
    with pytest.raises(ValidationError, match="already requested"):
        refund_request(contract=c, reason="again", actor=counselor_a)


@pytest.mark.parametrize("who", ["counselor_a", "front_desk_a", "manager_b", "teacher_a"])
def test_only_a_manager_of_the_branch_or_head_office_approves(branch_a, manager_a, who,
                                                              request):
    c = enrolled(klass(branch_a), paid="8000")
    refund = refund_request(contract=c, reason="不满意", actor=manager_a)
    with pytest.raises(PermissionDenied, match="Only a manager of this branch"):
        refund_approve(refund=refund, actor=request.getfixturevalue(who))
    assert Refund.objects.get().status == "requested"
    assert not LedgerEntry.objects.filter(kind="refunded").exists()


def test_own_branch_manager_approves_and_the_ledger_ends_at_zero(branch_a, manager_a,
                                                                     front_desk_a):
    policy(branch_a, refund_setup_fee=D("300"))
    group = klass(branch_a)
    c = enrolled(group, gifted="4", paid="8000")
    roll_call_take(session=lesson(group), all_present=True, actor=manager_a)
    refund = refund_request(contract=c, reason="转学", actor=front_desk_a)
    shown = contract_refund_quote(c).amount
    assert shown == D("7300.00")  # 8000 - 300 - 2 h x 200
    refund = refund_approve(refund=refund, actor=manager_a, expected_amount=shown)
    c.refresh_from_db()
    assert (refund.status, refund.amount, refund.hours) == ("approved", shown, D("38"))
    assert c.status == Contract.Status.REFUNDED
    entries = dict(c.ledger.filter(refund=refund).values_list("kind", "hours"))
    assert entries == {"refunded": D("-38.00"), "expired": D("-4.00")}
    assert contract_balances().get(pk=c.pk).balance == 0
    assert RetentionAttempt.objects.get().outcome == "lost"
    assert AuditLog.objects.filter(action="refund_approve").exists()


def test_head_office_may_approve_any_branch(branch_b, head_office, manager_b):
    c = enrolled(klass(branch_b), paid="100")
    refund = refund_request(contract=c, reason="x", actor=manager_b)
    assert refund_approve(refund=refund, actor=head_office).status == "approved"


def test_an_approval_refuses_a_quote_that_changed_since_it_was_shown(branch_a, manager_a,
                                                                     front_desk_a):
    group = klass(branch_a)
    c = enrolled(group, paid="8000")
    refund = refund_request(contract=c, reason="x", actor=front_desk_a)
    shown = refund.amount
    roll_call_take(session=lesson(group), all_present=True, actor=manager_a)
    with pytest.raises(ValidationError, match="not 8000"):
        refund_approve(refund=refund, actor=manager_a, expected_amount=shown)


def test_a_saved_family_withdraws_the_refund_request(branch_a, counselor_a, manager_a):
    c = enrolled(klass(branch_a), paid="8000")
    refund = refund_request(contract=c, reason="x", actor=counselor_a)
    retention_close(attempt=refund.retention_attempt, outcome="saved", actor=counselor_a,
                    note="换老师后继续上")
    refund.refresh_from_db()
    assert refund.status == "rejected"
    with pytest.raises(ValidationError, match="already Rejected"):
        refund_approve(refund=refund, actor=manager_a)
    assert Contract.objects.get().status == "active"


def test_a_refunded_contracts_roll_call_can_no_longer_be_corrected(branch_a, manager_a,
                                                                     front_desk_a):
    group = klass(branch_a)
    c = enrolled(group, paid="8000")
    session = lesson(group)
    roll_call_take(session=session, all_present=True, actor=manager_a)
    refund_approve(refund=refund_request(contract=c, reason="x", actor=front_desk_a),
                   actor=manager_a)
    with pytest.raises(ValidationError, match="can no longer be corrected"):
        roll_call_take(session=session, marks={c.student_id: "leave"}, actor=manager_a)

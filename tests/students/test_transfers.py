"""Transfers of remaining hours: request, manager approval, a ledger trail on both sides."""
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from parents.models import Guardianship
from students.models import Contract, LedgerEntry
from students.selectors import contract_balances
from students.services import (
    refund_approve,
    refund_request,
    roll_call_take,
    transfer_approve,
    transfer_request,
)
from tests.factories import CourseFactory, GuardianshipFactory, StudentFactory
from tests.students.factories_extra import enrolled, klass, lesson

pytestmark = pytest.mark.django_db
D = Decimal


def bal(contract):
    return contract_balances().get(pk=contract.pk).balance


def test_a_transfer_to_a_dearer_course_preserves_value_on_both_sides(branch_a, manager_a,
                                                                     front_desk_a):
    group = klass(branch_a)  # 200/h course; contract 40 h for 8000
    c = enrolled(group, gifted="2", paid="8000")
    roll_call_take(session=lesson(group), all_present=True, actor=manager_a)  # 38 purchased
    dearer = CourseFactory(unit_price=D("400"))
    t = transfer_request(source=c, reason="换一对一", actor=front_desk_a, target_course=dearer)
    t = transfer_approve(transfer=t, actor=manager_a)
    target = t.target_contract
    c.refresh_from_db()
    assert c.status == "transferred" and bal(c) == 0
    assert (t.value, target.hours_purchased, target.hours_gifted) == (D("7600.00"), D("19.00"),
                                                                      D("2"))
    assert bal(target) == D("21")
    assert list(c.ledger.filter(transfer=t).values_list("kind", "hours")) == [
        ("transfer_out", D("-40.00"))]
    assert sorted(target.ledger.values_list("kind", "hours")) == [
        ("transfer_in", D("2.00")), ("transfer_in", D("19.00"))]
    assert target.valid_until == c.valid_until and target.student == c.student


def test_a_transfer_to_a_sibling_creates_the_siblings_contract(branch_a, manager_a,
                                                                     front_desk_a):
    c = enrolled(klass(branch_a), paid="8000")
    link = GuardianshipFactory(student=c.student)
    sibling = StudentFactory(branch=branch_a)
    Guardianship.objects.create(student=sibling, parent=link.parent, relation="mother")
    t = transfer_approve(transfer=transfer_request(source=c, reason="给妹妹", actor=front_desk_a,
                                                   target_student=sibling), actor=manager_a)
    assert t.target_contract.student == sibling
    assert bal(t.target_contract) == D("40")


def test_hours_go_only_to_a_sibling(branch_a, manager_a,
                                                                     front_desk_a):
    c = enrolled(klass(branch_a), paid="8000")
    with pytest.raises(ValidationError, match="only to a sibling"):
        transfer_request(source=c, reason="x", actor=front_desk_a,
                         target_student=StudentFactory(branch=branch_a))


def test_a_counselor_cannot_approve_a_transfer(branch_a, counselor_a, manager_b, front_desk_a):
    c = enrolled(klass(branch_a), paid="8000")
    t = transfer_request(source=c, reason="x", actor=counselor_a,
                         target_course=CourseFactory())
    for actor in (counselor_a, manager_b):
        with pytest.raises(PermissionDenied):
            transfer_approve(transfer=t, actor=actor)
    assert not LedgerEntry.objects.filter(kind__startswith="transfer").exists()


def test_the_transferred_contract_refunds_at_the_moved_value(branch_a, manager_a,
                                                                     front_desk_a):
    c = enrolled(klass(branch_a), paid="8000")
    t = transfer_approve(transfer=transfer_request(
        source=c, reason="x", actor=front_desk_a, target_course=CourseFactory(unit_price=D("100"))),
        actor=manager_a)
    refund = refund_approve(refund=refund_request(contract=t.target_contract, reason="x",
                                                  actor=front_desk_a), actor=manager_a)
    assert (refund.amount, refund.hours) == (D("8000.00"), D("80.00"))
    assert Contract.objects.get(pk=c.pk).status == "transferred"

"""Enrolment at the desk (报名/签约): a contract and its first payment in one step.

Either both land (contract, purchased/gifted ledger entries, payment, receipt number)
or nothing does: a refused cap, a reused reference or a double-clicked submit leave the
database as it was and no contract or receipt number is used up.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from students.models import ClassGroup, Contract, Course, Payment, Student

from .access import check_enrol
from .ledger import contract_create
from .payments import DuplicatePayment, payment_record
from .receipts import contract_number

ZERO = Decimal("0")


@dataclass(frozen=True)
class Enrolment:
    contract: Contract
    payment: Payment


@transaction.atomic
def enrolment_sign(*, student: Student, course: Course, hours_purchased: Decimal,
                   list_price: Decimal, valid_from: dt.date, valid_until: dt.date,
                   first_amount: Decimal, method: str, actor: Any,
                   discount: Decimal = ZERO, hours_gifted: Decimal = ZERO,
                   class_group: ClassGroup | None = None, reference: str = "",
                   note: str = "", request_key: str = "",
                   paid_at: dt.datetime | None = None) -> Enrolment:
    """Sign a contract (caps checked by contract_create) and book its first payment."""
    check_enrol(actor, student)
    if request_key:
        twin = Payment.objects.filter(request_key=request_key).first()
        if twin is not None:
            raise DuplicatePayment(twin, field="request_key")
    errors: dict[str, list[str]] = {}
    if class_group is not None and class_group.branch_id != student.branch_id:
        errors["class_group"] = [_("The class is in another branch than the student.")]
    if class_group is not None and class_group.course_id != course.pk:
        errors.setdefault("class_group", []).append(_("The class is of another course."))
    if first_amount is None or first_amount <= 0:
        errors["first_amount"] = [_("The first payment must be more than zero.")]
    elif first_amount > list_price - (discount or ZERO):
        errors["first_amount"] = [_("The first payment is more than the contract's price "
                                    "after discount (¥%(amount)s).")
                                  % {"amount": list_price - (discount or ZERO)}]
    if errors:
        raise ValidationError(errors)
    today = timezone.localdate()
    contract = contract_create(
        student=student, course=course, hours_purchased=hours_purchased,
        hours_gifted=hours_gifted or ZERO, list_price=list_price, discount=discount or ZERO,
        valid_from=valid_from, valid_until=valid_until, class_group=class_group,
        contract_no=contract_number(student.branch, signed_year=today.year), actor=actor)
    payment = payment_record(contract=contract, amount=first_amount, method=method,
                             paid_at=paid_at or timezone.now(), reference=reference,
                             note=note, actor=actor, request_key=request_key)
    return Enrolment(contract=contract, payment=payment)


def renewal_prefill(student: Student) -> dict[str, Any]:
    """Initial values for a renewal: the last non-trial contract's course, class, hours,
    price per hour and validity length, starting the day after it ends (or today)."""
    last = (student.contracts.filter(is_trial=False).select_related("course")
            .order_by("-signed_on", "-id").first())
    if last is None:
        return {}
    today = timezone.localdate()
    start = max(today, last.valid_until + dt.timedelta(days=1)) if \
        last.status == Contract.Status.ACTIVE else today
    length = last.valid_until - last.valid_from
    return {"course": last.course, "class_group": last.class_group,
            "hours_purchased": last.hours_purchased, "hours_gifted": last.hours_gifted,
            "list_price": last.list_price, "discount": last.discount,
            "valid_from": start, "valid_until": start + length}

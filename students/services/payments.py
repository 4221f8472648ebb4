"""Payments: the one door for booking money against a contract (API, admin, pages).

A provider's transaction `reference` is booked once: a second payment with it is refused
with code `duplicate_payment` naming the first, also when two requests race (the unique
index decides, the loser gets the same answer instead of a database error). A form's
`request_key` does the same for a double-clicked submit. Every payment gets its receipt
number in the same transaction, and no payment may take more than the contract still owes.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from students.models import Contract, Payment, Transfer

from .access import check_take_payment
from .receipts import receipt_issue

ZERO = Decimal("0")


class DuplicatePayment(ValidationError):
    """The reference (or the form's request key) is already booked; `existing` is that
    payment."""

    def __init__(self, existing: Payment, field: str = "reference") -> None:
        message = (_("A payment with this transaction reference is already recorded.")
                   if field == "reference" else _("This form was already submitted."))
        super().__init__({field: ValidationError(message, code="duplicate_payment")})
        self.existing = existing


def contract_paid(contract: Contract) -> Decimal:
    """Money booked against the contract so far: payments, plus the value transfers moved
    in (a contract bought with another's remaining hours is paid by them)."""
    paid = contract.payments.aggregate(t=Sum("amount"))["t"] or ZERO
    return paid + (Transfer.objects.filter(target_contract=contract,
                                           status=Transfer.Status.APPROVED)
                   .aggregate(t=Sum("value"))["t"] or ZERO)


def contract_owed(contract: Contract) -> Decimal:
    """What the family still owes on the package (never negative)."""
    return max(contract.amount - contract_paid(contract), ZERO)


@transaction.atomic
def payment_record(*, contract: Contract, amount: Decimal, method: str, paid_at: dt.datetime,
                   reference: str = "", note: str = "", actor: Any = None,
                   request_key: str = "") -> Payment:
    """Book a payment and its receipt; refuses a repeated reference with DuplicatePayment
    and an amount above what the contract still owes (an instalment cannot overpay)."""
    reference = (reference or "").strip()
    request_key = (request_key or "").strip()
    # Lock the contract first: two instalments at once cannot both fit under what is owed,
    # and a double submit waits here and then finds the first one's payment.
    contract = Contract.objects.select_for_update().select_related("branch").get(pk=contract.pk)
    if request_key:
        twin = Payment.objects.filter(request_key=request_key).first()
        if twin is not None:
            raise DuplicatePayment(twin, field="request_key")
    if reference:
        twin = Payment.objects.filter(reference=reference).first()
        if twin is not None:
            raise DuplicatePayment(twin)
    if actor is not None:
        check_take_payment(actor, contract)
    if contract.status not in {Contract.Status.ACTIVE, Contract.Status.COMPLETED}:
        raise ValidationError(_("Contract %(no)s is %(status)s and takes no payments.")
                              % {"no": contract.contract_no,
                                 "status": contract.get_status_display()})
    if amount is not None and amount > 0 and amount > contract_owed(contract):
        raise ValidationError({"amount": ValidationError(
            _("The amount is more than contract %(no)s still owes (¥%(owed)s).")
            % {"no": contract.contract_no, "owed": contract_owed(contract)},
            code="overpaid")})
    payment = Payment(contract=contract, amount=amount, method=method, paid_at=paid_at,
                      reference=reference, note=(note or "").strip(), request_key=request_key,
                      recorded_by=actor if getattr(actor, "pk", None) else None)
    # The unique checks are the indexes' (below), so a race ends as DuplicatePayment too.
    payment.full_clean(validate_constraints=False)
    payment.validate_constraints(exclude={"reference", "request_key"})
    try:
        with transaction.atomic():
            payment.save()
    except IntegrityError:
        twin = Payment.objects.filter(request_key=request_key).first() if request_key else None
        if twin is not None:
            raise DuplicatePayment(twin, field="request_key") from None
        twin = Payment.objects.filter(reference=reference).first() if reference else None
        if twin is None:
            raise
        raise DuplicatePayment(twin) from None
    receipt_issue(payment=payment, actor=actor)
    return payment

"""Payments: the one door for booking money against a contract (API, admin, pages).

A provider's transaction `reference` is booked once: a second payment with it is refused
with code `duplicate_payment` naming the first, also when two requests race (the unique
index decides, the loser gets the same answer instead of a database error).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from students.models import Contract, Payment


class DuplicatePayment(ValidationError):
    """The reference is already booked; `existing` is that payment."""

    def __init__(self, existing: Payment) -> None:
        super().__init__({"reference": ValidationError(
            _("A payment with this transaction reference is already recorded."),
            code="duplicate_payment")})
        self.existing = existing


def payment_record(*, contract: Contract, amount: Decimal, method: str, paid_at: dt.datetime,
                   reference: str = "", note: str = "", actor: Any = None) -> Payment:
    """Book a payment; refuses a repeated reference with DuplicatePayment."""
    reference = (reference or "").strip()
    if reference:
        twin = Payment.objects.filter(reference=reference).first()
        if twin is not None:
            raise DuplicatePayment(twin)
    payment = Payment(contract=contract, amount=amount, method=method, paid_at=paid_at,
                      reference=reference, note=(note or "").strip(),
                      recorded_by=actor if getattr(actor, "pk", None) else None)
    # The unique check is the index's (below), so a race ends as DuplicatePayment too.
    payment.full_clean(validate_constraints=False)
    payment.validate_constraints(exclude={"reference"})
    try:
        with transaction.atomic():
            payment.save()
    except IntegrityError:
        twin = Payment.objects.filter(reference=reference).first() if reference else None
        if twin is None:
            raise
        raise DuplicatePayment(twin) from None
    return payment

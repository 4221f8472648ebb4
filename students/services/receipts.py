"""Per-branch number sequences without gaps, and the receipt every payment gets.

`next_number` locks the (branch, kind) counter row for the rest of the caller's
transaction: a second desk waits, and a rolled-back payment returns its number, so the
printed receipts of a branch always run 1, 2, 3... with none missing or repeated.
"""
from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from crm.models import Branch
from students.models import NumberSequence, Payment, Receipt


def next_number(*, branch: Branch, kind: str) -> int:
    """Advance the branch's counter under a row lock; call inside the writing transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_number must run inside the transaction that uses the number")
    counter = NumberSequence.objects.select_for_update().filter(branch=branch, kind=kind).first()
    if counter is None:
        try:
            with transaction.atomic():  # first number of the branch: two desks may race
                NumberSequence.objects.create(branch=branch, kind=kind, last=0)
        except IntegrityError:
            pass
        counter = NumberSequence.objects.select_for_update().get(branch=branch, kind=kind)
    NumberSequence.objects.filter(pk=counter.pk).update(last=F("last") + 1)
    return counter.last + 1


def contract_number(branch: Branch, *, signed_year: int) -> str:
    """The next contract number of the branch, e.g. XH-HT2026-00042."""
    seq = next_number(branch=branch, kind=NumberSequence.Kind.CONTRACT)
    return f"{branch.code.upper()}-HT{signed_year}-{seq:05d}"


def receipt_issue(*, payment: Payment, actor: Any = None) -> Receipt:
    """Number and record the receipt of a payment just booked (same transaction)."""
    branch = payment.contract.branch
    seq = next_number(branch=branch, kind=NumberSequence.Kind.RECEIPT)
    return Receipt.objects.create(
        branch=branch, seq=seq, number=f"{branch.code.upper()}-SJ{seq:06d}", payment=payment,
        issued_at=timezone.now(), issued_by=actor if getattr(actor, "pk", None) else None)

"""The renewal reminder before a contract expires (到期提醒), run daily by Celery beat.

Money and contract notices go to the family's decision makers and primary contact
(notices.DECIDERS). Each contract is claimed with a conditional update of
`expiry_notice_at` in the same transaction as its notice, so a rerun, a retry or two
workers at once write to a family once per contract.
"""
from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from students.models import Contract, ContractPolicy
from students.selectors import contract_balances

from .notices import notice_enqueue


def _window_q(today: dt.date) -> Q:
    """valid_until within each branch's `expiring_within_days` (default row elsewhere)."""
    rows = {p.branch_id: p for p in ContractPolicy.objects.all()}
    default = rows.pop(None, None) or ContractPolicy()
    q = ~Q(branch_id__in=list(rows)) & Q(
        valid_until__lte=today + dt.timedelta(days=default.expiring_within_days))
    for branch_id, policy in rows.items():
        q |= Q(branch_id=branch_id,
               valid_until__lte=today + dt.timedelta(days=policy.expiring_within_days))
    return q


def contracts_to_remind(today: dt.date) -> QuerySet:
    """Active paid packages ending soon with hours left, not reminded, not yet renewed."""
    later = Contract.objects.filter(student=OuterRef("student"), is_trial=False,
                                    status=Contract.Status.ACTIVE,
                                    valid_until__gt=OuterRef("valid_until"))
    return (contract_balances(Contract.objects.filter(
        _window_q(today), status=Contract.Status.ACTIVE, is_trial=False,
        expiry_notice_at__isnull=True, valid_until__gte=today))
        .filter(balance__gt=0).exclude(Exists(later)).order_by("pk"))


def expiry_remind(*, contract_id: int) -> bool:
    """Queue one contract's reminder; False when another run already claimed it."""
    with transaction.atomic():
        claimed = Contract.objects.filter(pk=contract_id, expiry_notice_at__isnull=True).update(
            expiry_notice_at=timezone.now())
        if not claimed:
            return False
        contract = contract_balances(Contract.objects.filter(pk=contract_id)).select_related(
            "student").get()
        notice_enqueue(student=contract.student, template_code="expiry_soon",
                       context={"contract": contract.contract_no, "date": contract.valid_until,
                                "hours": contract.balance})
    return True


def expiry_reminders_send(*, today: dt.date | None = None) -> int:
    """The daily job: one reminder per contract entering its branch's expiring window."""
    today = today or timezone.localdate()
    ids = list(contracts_to_remind(today).values_list("pk", flat=True))
    return sum(expiry_remind(contract_id=pk) for pk in ids)

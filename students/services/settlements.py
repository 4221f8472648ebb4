"""Refunds (退费) with a save attempt (挽单), transfers of remaining hours (结转/转班), expiry.

Each operation writes the ledger and its record in one transaction; balances stay sums
of entries. The lifecycle engine reads the facts (Refund rows, contract status); nothing
here calls it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.services import audit
from parents.models import Guardianship
from students.models import (
    ClassGroup,
    Contract,
    ContractPolicy,
    Course,
    LedgerEntry,
    Payment,
    Refund,
    RetentionAttempt,
    Student,
    Transfer,
)

from .access import check_decide, check_not_own_request, check_request
from .ledger import ZERO, contract_balance
from .notices import notice_enqueue
from .payments import contract_owed

CENT = Decimal("0.01")
OPEN = [Contract.Status.ACTIVE, Contract.Status.COMPLETED]


# ---------------------------------------------------------------------------- refunds
@dataclass(frozen=True)
class RefundQuote:
    """The branch formula's breakdown, shown to the manager before approval."""

    paid: Decimal
    setup_fee: Decimal
    unit_price: Decimal
    consumed_hours: Decimal
    charged_hours: Decimal
    consumed_value: Decimal
    amount: Decimal
    refund_hours: Decimal  # remaining purchased hours: written off as `refunded`
    forfeit_hours: Decimal  # remaining gifted hours: written off as `expired`

    def as_json(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items()}


def split_remaining(*, balance: Decimal, hours_gifted: Decimal) -> tuple[Decimal, Decimal]:
    """(purchased, gifted) hours left. Lessons draw purchased hours first, gifted last,
    so gifted hours stay until the purchased ones are gone; an owed balance leaves none."""
    left = max(balance, ZERO)
    gifted = min(hours_gifted, left)
    return left - gifted, gifted


def refund_quote(*, paid: Decimal, setup_fee: Decimal, hours_purchased: Decimal,
                 hours_gifted: Decimal, consumed_hours: Decimal, unit_price: Decimal,
                 balance: Decimal) -> RefundQuote:
    """The refund by the branch formula (pure; no database).

    amount = paid - set-up fee - charged hours x unit price, never negative, where the
    charged hours are the consumed hours up to the purchased hours (lessons use purchased
    hours before gifted ones, and gifted hours are neither charged nor refunded).
    """
    charged = min(max(consumed_hours, ZERO), hours_purchased)
    consumed_value = (charged * unit_price).quantize(CENT)
    amount = max(paid - setup_fee - consumed_value, ZERO).quantize(CENT)
    refund_hours, forfeit_hours = split_remaining(balance=balance, hours_gifted=hours_gifted)
    return RefundQuote(paid=paid, setup_fee=setup_fee, unit_price=unit_price,
                       consumed_hours=consumed_hours, charged_hours=charged,
                       consumed_value=consumed_value, amount=amount,
                       refund_hours=refund_hours, forfeit_hours=forfeit_hours)


def contract_refund_quote(contract: Contract, policy: ContractPolicy | None = None
                          ) -> RefundQuote:
    """Gather the contract's figures (payments, value moved in, consumption) and quote."""
    return contract_refund_quotes([contract], policy=policy)[contract.pk]


def _sums(qs: Any, key: str, value: str) -> dict[int, Decimal]:
    return dict(qs.order_by().values_list(key).annotate(t=Sum(value)).values_list(key, "t"))


def contract_refund_quotes(contracts: list[Contract], policy: ContractPolicy | None = None
                           ) -> dict[int, RefundQuote]:
    """Quotes for many contracts in a fixed number of queries (the approval queue)."""
    ids = [c.pk for c in contracts]
    paid = _sums(Payment.objects.filter(contract_id__in=ids), "contract_id", "amount")
    # A contract created by (or grown by) a transfer was paid for by the source's hours.
    moved = _sums(Transfer.objects.filter(target_contract_id__in=ids,
                                          status=Transfer.Status.APPROVED),
                  "target_contract_id", "value")
    consumed = _sums(LedgerEntry.objects.filter(
        contract_id__in=ids, kind__in=[LedgerEntry.Kind.CONSUMED, LedgerEntry.Kind.REVERSAL]),
        "contract_id", "hours")
    balance = _sums(LedgerEntry.objects.filter(contract_id__in=ids), "contract_id", "hours")
    policies: dict[Any, ContractPolicy] = {}
    quotes = {}
    for c in contracts:
        if policy is None and c.branch_id not in policies:
            policies[c.branch_id] = ContractPolicy.for_branch(c.branch_id)
        fee = (policy or policies[c.branch_id]).refund_setup_fee
        quotes[c.pk] = refund_quote(
            paid=paid.get(c.pk, ZERO) + moved.get(c.pk, ZERO), setup_fee=fee,
            hours_purchased=c.hours_purchased, hours_gifted=c.hours_gifted,
            consumed_hours=-consumed.get(c.pk, ZERO), unit_price=c.amount / c.hours_purchased,
            balance=balance.get(c.pk, ZERO))
    return quotes


def _refund_notice(refund: Refund) -> None:
    notice_enqueue(student=refund.contract.student, template_code="refund_status",
                   context={"contract": refund.contract.contract_no,
                            "status": refund.get_status_display(), "amount": refund.amount})


@transaction.atomic
def refund_request(*, contract: Contract, reason: str, actor: Any,
                   amount: Decimal | None = None) -> Refund:
    """Record a refund request and open a save attempt owned by the student's counselor.

    `amount` is what the family agreed to at the desk: at most the branch formula's
    figure (the quote), which is also what is asked when it is left out.
    """
    check_request(actor, contract.student, _("a refund"))
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.status not in OPEN:
        raise ValidationError(_("Contract %(no)s is %(status)s and cannot be refunded.")
                              % {"no": contract.contract_no,
                                 "status": contract.get_status_display()})
    if contract.refunds.filter(status=Refund.Status.REQUESTED).exists():
        raise ValidationError(_("A refund of this contract is already requested."),
                              code="refund_open")
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the family asks for a refund.")})
    quote = contract_refund_quote(contract)
    if amount is not None and (amount < 0 or amount > quote.amount):
        raise ValidationError({"amount": ValidationError(
            _("At most %(max)s can be refunded (branch formula); %(asked)s was asked.")
            % {"max": quote.amount, "asked": amount}, code="above_refundable")})
    # Without an agreed amount the formula decides at approval (lessons may follow).
    agreed = {} if amount is None else {"asked": str(amount.quantize(CENT))}
    refund = Refund.objects.create(contract=contract, reason=reason, requested_at=timezone.now(),
                                   requested_by=_user(actor), quote={**quote.as_json(), **agreed},
                                   amount=quote.amount if amount is None else amount.quantize(CENT),
                                   hours=quote.refund_hours)
    RetentionAttempt.objects.create(refund=refund, student=contract.student,
                                    owner=contract.student.counselor, opened_at=timezone.now())
    audit(actor=actor, action="refund_request", obj=refund, branch=contract.branch,
          data=quote.as_json())
    _refund_notice(refund)
    return refund


@transaction.atomic
def refund_approve(*, refund: Refund, actor: Any, note: str = "",
                   expected_amount: Decimal | None = None) -> Refund:
    """Approve: write off the remaining hours and close the contract, atomically.

    The amount is recomputed now (lessons may have been taken since the request); pass
    the amount the manager was shown as `expected_amount` to refuse a changed figure.
    Remaining purchased hours become a `refunded` entry, remaining gifted hours an
    `expired` (forfeit) entry, so the balance ends at 0; a pending save attempt is lost.
    """
    refund = Refund.objects.select_for_update().select_related("contract").get(pk=refund.pk)
    contract = Contract.objects.select_for_update().get(pk=refund.contract_id)
    check_decide(actor, contract.branch, _("refunds"))
    check_not_own_request(actor, refund.requested_by_id)
    if refund.status != Refund.Status.REQUESTED:
        raise ValidationError(_("This refund is already %(status)s.")
                              % {"status": refund.get_status_display()}, code="decided")
    if contract.status not in OPEN:
        raise ValidationError(_("Contract %(no)s is %(status)s and cannot be refunded.")
                              % {"no": contract.contract_no,
                                 "status": contract.get_status_display()})
    quote = contract_refund_quote(contract)
    # Never more than the formula allows now, nor more than the family agreed to.
    agreed = {"asked": refund.quote["asked"]} if "asked" in refund.quote else {}
    payout = min(quote.amount, Decimal(agreed.get("asked", quote.amount)))
    if expected_amount is not None and payout != expected_amount:
        raise ValidationError(_("The refund is now %(now)s, not %(shown)s (hours changed "
                                "since the quote). Review the new figure.")
                              % {"now": payout, "shown": expected_amount},
                              code="quote_changed")
    now = timezone.now()
    if quote.refund_hours:
        LedgerEntry.objects.create(contract=contract, kind=LedgerEntry.Kind.REFUNDED,
                                   hours=-quote.refund_hours, occurred_at=now, refund=refund,
                                   created_by=_user(actor), note=_("Refund approved"))
    if quote.forfeit_hours:
        LedgerEntry.objects.create(contract=contract, kind=LedgerEntry.Kind.EXPIRED,
                                   hours=-quote.forfeit_hours, occurred_at=now, refund=refund,
                                   created_by=_user(actor),
                                   note=_("Gifted hours forfeited at refund"))
    refund.status, refund.amount, refund.hours = Refund.Status.APPROVED, payout, \
        quote.refund_hours
    refund.quote = {**quote.as_json(), **agreed}
    refund.decided_by, refund.decided_at = _user(actor), now
    refund.decision_note = note
    refund.save()
    Contract.objects.filter(pk=contract.pk).update(status=Contract.Status.REFUNDED,
                                                   ended_on=timezone.localdate(), updated_at=now)
    RetentionAttempt.objects.filter(refund=refund, outcome=RetentionAttempt.Outcome.PENDING
                                    ).update(outcome=RetentionAttempt.Outcome.LOST, closed_at=now)
    audit(actor=actor, action="refund_approve", obj=refund, branch=contract.branch,
          data=quote.as_json())
    _refund_notice(refund)
    return refund


@transaction.atomic
def refund_reject(*, refund: Refund, actor: Any, note: str = "") -> Refund:
    """Reject (or, after a successful save attempt, withdraw) a refund request."""
    refund = Refund.objects.select_for_update().select_related("contract").get(pk=refund.pk)
    check_decide(actor, refund.contract.branch, _("refunds"))
    return _reject(refund, actor, note)


def _reject(refund: Refund, actor: Any, note: str) -> Refund:
    if refund.status != Refund.Status.REQUESTED:
        raise ValidationError(_("This refund is already %(status)s.")
                              % {"status": refund.get_status_display()}, code="decided")
    refund.status, refund.decided_by, refund.decided_at = (Refund.Status.REJECTED, _user(actor),
                                                           timezone.now())
    refund.decision_note = note
    refund.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    audit(actor=actor, action="refund_reject", obj=refund, branch=refund.contract.branch,
          data={"note": note})
    _refund_notice(refund)
    return refund


@transaction.atomic
def retention_close(*, attempt: RetentionAttempt, outcome: str, actor: Any,
                    note: str = "") -> RetentionAttempt:
    """Close a save attempt; "saved" withdraws the refund request (the family stays)."""
    attempt = RetentionAttempt.objects.select_for_update().select_related(
        "refund__contract").get(pk=attempt.pk)
    check_request(actor, attempt.student, _("a retention outcome"))
    if outcome not in {RetentionAttempt.Outcome.SAVED, RetentionAttempt.Outcome.LOST}:
        raise ValidationError({"outcome": _("Choose saved or lost.")})
    if attempt.outcome != RetentionAttempt.Outcome.PENDING:
        raise ValidationError(_("This save attempt is already closed."))
    attempt.outcome, attempt.note, attempt.closed_at = outcome, note, timezone.now()
    attempt.save(update_fields=["outcome", "note", "closed_at"])
    if outcome == RetentionAttempt.Outcome.SAVED and \
            attempt.refund.status == Refund.Status.REQUESTED:
        _reject(attempt.refund, actor, _("Withdrawn: the family stays."))
    return attempt


# -------------------------------------------------------------------------- transfers
def _siblings(a: Student, b: Student) -> bool:
    return Guardianship.objects.filter(
        student=a, parent__in=Guardianship.objects.filter(student=b).values("parent")).exists()


@transaction.atomic
def transfer_request(*, source: Contract, reason: str, actor: Any,
                     target_student: Student | None = None, target_course: Course | None = None,
                     target_class_group: ClassGroup | None = None,
                     target_contract: Contract | None = None) -> Transfer:
    """Ask to move a contract's remaining hours to another course / class or a sibling,
    into a new contract or (`target_contract`) an open one the student already holds.

    Only paid-up contracts move: value never paid cannot be carried over and refunded.
    """
    check_request(actor, source.student, _("a transfer"))
    source = Contract.objects.select_for_update().get(pk=source.pk)
    if target_contract is not None:
        target_contract = Contract.objects.select_related("course").get(pk=target_contract.pk)
        if target_contract.pk == source.pk or target_contract.status not in OPEN:
            raise ValidationError({"target_contract": _(
                "Choose another open contract to transfer the hours into.")})
        target_student = target_contract.student
        target_course = target_contract.course
        target_class_group = target_contract.class_group
    target_student = target_student or source.student
    target_course = target_course or (target_class_group.course if target_class_group
                                      else source.course)
    if source.status not in OPEN or contract_balance(source) <= 0:
        raise ValidationError(_("Contract %(no)s has no hours left to transfer.")
                              % {"no": source.contract_no})
    _refuse_arrears(source)
    if target_student != source.student and not _siblings(source.student, target_student):
        raise ValidationError({"target_student": _(
            "Hours can be transferred only to a sibling (a student sharing a guardian).")})
    if target_class_group is not None and target_class_group.course_id != target_course.pk:
        raise ValidationError({"target_class_group": _(
            "The class group belongs to another course.")})
    if target_contract is None and (
            target_student == source.student and target_course.pk == source.course_id
            and getattr(target_class_group, "pk", None) == source.class_group_id):
        raise ValidationError(_("The transfer would not change anything."))
    if source.transfers_out.filter(status=Transfer.Status.REQUESTED).exists():
        raise ValidationError(_("A transfer of this contract is already requested."))
    transfer = Transfer.objects.create(
        source=source, target_student=target_student, target_course=target_course,
        target_class_group=target_class_group, target_contract=target_contract, reason=reason,
        requested_by=_user(actor), requested_at=timezone.now())
    audit(actor=actor, action="transfer_request", obj=transfer, branch=source.branch)
    return transfer


def _refuse_arrears(source: Contract) -> None:
    owed = contract_owed(source)
    if owed > 0:
        raise ValidationError(_("Contract %(no)s still owes ¥%(owed)s; take the payment "
                                "before transferring its hours.")
                              % {"no": source.contract_no, "owed": owed}, code="arrears")


@transaction.atomic
def transfer_approve(*, transfer: Transfer, actor: Any) -> Transfer:
    """Approve: transfer_out on the source, a new target contract with transfer_in entries.

    Value-preserving: the remaining purchased hours' value (at the source's paid unit
    price) buys hours at the target course's price, rounded down to 0.01 h; remaining
    gifted hours move one for one. The target contract starts today and ends when the
    source would have (at least today). Prepayment caps do not apply: no money is taken.
    """
    transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
    source = Contract.objects.select_for_update().get(pk=transfer.source_id)
    check_decide(actor, source.branch, _("transfers"))
    check_not_own_request(actor, transfer.requested_by_id)
    if transfer.status != Transfer.Status.REQUESTED:
        raise ValidationError(_("This transfer is already %(status)s.")
                              % {"status": transfer.get_status_display()}, code="decided")
    if source.status not in OPEN:
        raise ValidationError(_("Contract %(no)s is %(status)s and cannot be transferred.")
                              % {"no": source.contract_no, "status": source.get_status_display()})
    _refuse_arrears(source)
    existing = None
    if transfer.target_contract_id:
        existing = Contract.objects.select_for_update().get(pk=transfer.target_contract_id)
        if existing.status not in OPEN:
            raise ValidationError(_("Contract %(no)s is %(status)s and cannot take hours.")
                                  % {"no": existing.contract_no,
                                     "status": existing.get_status_display()})
    balance = contract_balance(source)
    paid_left, gifted_left = split_remaining(balance=balance, hours_gifted=source.hours_gifted)
    value = (paid_left * source.amount / source.hours_purchased).quantize(CENT)
    # Into an open contract: at that contract's own paid price per hour, so its refund
    # formula (paid - hours x price) stays right; else at the course's list price.
    price = existing.unit_price if existing is not None else transfer.target_course.unit_price
    if price <= 0:
        raise ValidationError(_("The target course has no price per hour."))
    hours_in = (value / price).quantize(CENT, rounding=ROUND_DOWN)
    if hours_in <= 0:
        raise ValidationError(_("No purchased hours are left to transfer."))
    today, now = timezone.localdate(), timezone.now()
    student = transfer.target_student
    if existing is not None:
        # The package grows by what moved in: hours, gifted hours and their value.
        Contract.objects.filter(pk=existing.pk).update(
            hours_purchased=F("hours_purchased") + hours_in,
            hours_gifted=F("hours_gifted") + gifted_left, list_price=F("list_price") + value,
            status=Contract.Status.ACTIVE, ended_on=None, updated_at=now)
        target = Contract.objects.get(pk=existing.pk)
    else:
        target = Contract(
            contract_no=f"T{transfer.pk}-{source.contract_no}"[:40], student=student,
            branch=student.branch, course=transfer.target_course,
            class_group=transfer.target_class_group, hours_purchased=hours_in,
            hours_gifted=gifted_left, list_price=value, valid_from=today,
            valid_until=max(source.valid_until, today), signed_on=today,
            is_trial=source.is_trial, sales_counselor=student.counselor)
        target.full_clean()
        target.save()
    common = {"occurred_at": now, "transfer": transfer, "created_by": _user(actor)}
    LedgerEntry.objects.create(contract=source, kind=LedgerEntry.Kind.TRANSFER_OUT,
                               hours=-balance, note=_("Transferred to %(no)s")
                               % {"no": target.contract_no}, **common)
    LedgerEntry.objects.create(contract=target, kind=LedgerEntry.Kind.TRANSFER_IN, hours=hours_in,
                               note=_("Transferred from %(no)s") % {"no": source.contract_no},
                               **common)
    if gifted_left:
        LedgerEntry.objects.create(contract=target, kind=LedgerEntry.Kind.TRANSFER_IN,
                                   hours=gifted_left, note=_("Gifted hours carried over"),
                                   **common)
    Contract.objects.filter(pk=source.pk).update(status=Contract.Status.TRANSFERRED,
                                                 ended_on=today, updated_at=now)
    transfer.status, transfer.target_contract = Transfer.Status.APPROVED, target
    transfer.hours_out, transfer.hours_in, transfer.value = balance, hours_in + gifted_left, value
    transfer.decided_by, transfer.decided_at = _user(actor), now
    transfer.save()
    audit(actor=actor, action="transfer_approve", obj=transfer, branch=source.branch,
          data={"value": str(value), "hours_out": str(balance), "hours_in": str(hours_in),
                "gifted": str(gifted_left), "target": target.contract_no})
    return transfer


@transaction.atomic
def transfer_reject(*, transfer: Transfer, actor: Any) -> Transfer:
    transfer = Transfer.objects.select_for_update().select_related("source").get(pk=transfer.pk)
    check_decide(actor, transfer.source.branch, _("transfers"))
    if transfer.status != Transfer.Status.REQUESTED:
        raise ValidationError(_("This transfer is already %(status)s.")
                              % {"status": transfer.get_status_display()}, code="decided")
    transfer.status, transfer.decided_by, transfer.decided_at = (
        Transfer.Status.REJECTED, _user(actor), timezone.now())
    transfer.save(update_fields=["status", "decided_by", "decided_at"])
    return transfer


# ----------------------------------------------------------------------------- expiry
def expirable_contracts(today: dt.date) -> Any:
    """Active contracts past their validity plus the branch's grace days."""
    policies = {p.branch_id: p for p in ContractPolicy.objects.all()}
    default = policies.get(None) or ContractPolicy()
    own = [b for b in policies if b is not None]
    q = ~Q(branch_id__in=own) & Q(
        valid_until__lt=today - dt.timedelta(days=default.expiry_grace_days))
    for branch_id in own:
        grace = policies[branch_id].expiry_grace_days
        q |= Q(branch_id=branch_id, valid_until__lt=today - dt.timedelta(days=grace))
    return Contract.objects.filter(q, status=Contract.Status.ACTIVE)


def contract_expire(*, contract_id: int, today: dt.date | None = None) -> bool:
    """Expire one contract's remaining hours; False if another run got there first."""
    with transaction.atomic():
        # The conditional update is the claim: only one run moves active -> expired.
        claimed = Contract.objects.filter(pk=contract_id, status=Contract.Status.ACTIVE).update(
            status=Contract.Status.EXPIRED, ended_on=F("valid_until"), updated_at=timezone.now())
        if not claimed:
            return False
        contract = Contract.objects.select_related("student").get(pk=contract_id)
        balance = contract_balance(contract)
        if balance > 0:
            try:
                with transaction.atomic():
                    LedgerEntry.objects.create(
                        contract=contract, kind=LedgerEntry.Kind.EXPIRED, hours=-balance,
                        occurred_at=timezone.now(), note=_("Validity ended"))
            except IntegrityError:  # the unique expiry entry: written already
                return False
            notice_enqueue(student=contract.student, template_code="hours_expired",
                           context={"hours": balance, "contract": contract.contract_no,
                                    "date": contract.valid_until})
    return True


def contracts_expire(*, today: dt.date | None = None, chunk_size: int = 500) -> int:
    """The nightly job: expire every contract past validity + grace, chunk by chunk.

    Each contract is its own transaction, so a crash loses at most one and a rerun picks
    up the rest; running twice writes nothing new. Returns how many contracts expired.
    """
    today = today or timezone.localdate()
    done, last_pk = 0, 0
    while True:
        ids = list(expirable_contracts(today).filter(pk__gt=last_pk).order_by("pk")
                   .values_list("pk", flat=True)[:chunk_size])
        if not ids:
            return done
        for pk in ids:
            done += contract_expire(contract_id=pk, today=today)
        last_pk = ids[-1]


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None

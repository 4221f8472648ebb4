"""The front office's money pages: enrolment with the first payment, instalments and
receipts, refund and transfer requests, the managers' approval queue, arrears and the
renewal-warning list.

Every write goes through students.services (the same doors the API and admin use); the
pages only collect input, show the service's refusals on the fields they name, and
scope rows by crm.permissions (another branch's contract is a 404).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm import permissions
from crm.roles import Role
from crm.views import paginate
from students.amount_words import amount_in_words
from students.models import Contract, Receipt, Refund, Transfer
from students.selectors import arrears, contracts_with_paid, renewal_warnings
from students.services import (
    DuplicatePayment,
    contract_refund_quote,
    contract_refund_quotes,
    enrolment_sign,
    payment_record,
    refund_approve,
    refund_reject,
    refund_request,
    renewal_prefill,
    transfer_approve,
    transfer_reject,
    transfer_request,
)
from students.services.access import can_take_payment
from students.views import staff_required, visible_student
from workspace.money_forms import (
    DecisionForm,
    EnrolmentForm,
    PaymentForm,
    RefundRequestForm,
    TransferRequestForm,
)

PAGE_SIZE = 25
REQUESTERS = frozenset({Role.FRONT_DESK, Role.COUNSELOR, Role.MANAGER, Role.HEAD_OFFICE})
DECIDERS = frozenset({Role.MANAGER, Role.HEAD_OFFICE})
RENEWAL_ROLES = frozenset({Role.COUNSELOR, Role.MANAGER, Role.HEAD_OFFICE})


# ------------------------------------------------------------------------------ access
def _desk(user: Any) -> None:
    if not can_take_payment(user):
        raise PermissionDenied(_("Your role does not take payments."))


def _requester(user: Any) -> None:
    if permissions.role_of(user) not in REQUESTERS:
        raise PermissionDenied(_("Your role cannot request refunds or transfers."))


def _decider(user: Any) -> None:
    if permissions.role_of(user) not in DECIDERS:
        raise PermissionDenied(_("Only managers and head office decide refunds and "
                                 "transfers."))


def visible_contract(user: Any, pk: int) -> Contract:
    qs = permissions.scope_by_student(
        user, Contract.objects.select_related("student", "course", "branch", "class_group"))
    return get_object_or_404(qs, pk=pk)


def _refused(request: HttpRequest, exc: PermissionDenied) -> None:
    messages.error(request, str(exc) or _("You may not do this."))


# --------------------------------------------------------------------------- enrolment
@staff_required
def enrol(request: HttpRequest, pk: int) -> HttpResponse:
    """Sign a contract and take its first payment in one step (报名收费); ?renew=1
    prefills from the student's last contract (续费)."""
    _desk(request.user)
    student = visible_student(request.user, pk)
    renew = request.GET.get("renew") == "1"
    form = EnrolmentForm(request.POST or None, student=student,
                         initial=renewal_prefill(student) if renew else None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            done = enrolment_sign(student=student, actor=request.user, **data)
        except DuplicatePayment as exc:
            if exc.existing.request_key == data["request_key"]:
                return redirect("money:receipt", pk=exc.existing.receipt.pk)  # double submit
            form.apply(exc)
        except PermissionDenied as exc:
            _refused(request, exc)
        except ValidationError as exc:
            form.apply(exc)
        else:
            messages.success(request, _("Contract %(no)s signed; payment recorded.")
                             % {"no": done.contract.contract_no})
            return redirect("money:receipt", pk=done.payment.receipt.pk)
    return render(request, "workspace/money/enrol.html", {
        "student": student, "form": form, "renew": renew})


@staff_required
def pay(request: HttpRequest, pk: int) -> HttpResponse:
    """An instalment against a contract; the receipt is the next page."""
    _desk(request.user)
    contract = visible_contract(request.user, pk)
    contract = contracts_with_paid(Contract.objects.filter(pk=contract.pk)).select_related(
        "student", "course", "branch").get()
    form = PaymentForm(request.POST or None, initial={"amount": contract.owed or None})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payment = payment_record(contract=contract, amount=data["amount"],
                                     method=data["method"], paid_at=timezone.now(),
                                     reference=data["reference"], note=data["note"],
                                     actor=request.user, request_key=data["request_key"])
        except DuplicatePayment as exc:
            if exc.existing.request_key == data["request_key"]:
                return redirect("money:receipt", pk=exc.existing.receipt.pk)
            form.apply(exc)
        except PermissionDenied as exc:
            _refused(request, exc)
        except ValidationError as exc:
            form.apply(exc)
        else:
            messages.success(request, _("Payment of ¥%(amount)s recorded.")
                             % {"amount": payment.amount})
            return redirect("money:receipt", pk=payment.receipt.pk)
    return render(request, "workspace/money/pay.html", {"contract": contract, "form": form})


@staff_required
def receipt(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable receipt (A5 by default, ?size=a4), in Chinese whatever the UI says."""
    _desk(request.user)
    qs = permissions.scope_by_student(
        request.user, Receipt.objects.select_related(
            "branch", "issued_by__staff_profile", "payment__contract__student",
            "payment__contract__course"), field="payment__contract__student")
    obj = get_object_or_404(qs, pk=pk)
    contract = obj.payment.contract
    totals = contracts_with_paid(Contract.objects.filter(pk=contract.pk)).values(
        "paid", "owed").get()
    with translation.override("zh-hans"):  # a receipt is a Chinese document
        return render(request, "workspace/money/receipt.html", {
            "receipt": obj, "payment": obj.payment, "contract": contract, "totals": totals,
            "words": amount_in_words(obj.payment.amount),
            "institution": settings.INSTITUTION_NAME,
            "size": "a4" if request.GET.get("size") == "a4" else "a5",
        })


# --------------------------------------------------------------------- refund, transfer
@staff_required
def refund_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Request a refund with the branch formula's quote on screen."""
    _requester(request.user)
    contract = visible_contract(request.user, pk)
    quote = contract_refund_quote(contract)
    form = RefundRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            refund_request(contract=contract, reason=form.cleaned_data["reason"],
                           amount=form.cleaned_data["amount"], actor=request.user)
        except PermissionDenied as exc:
            _refused(request, exc)
        except ValidationError as exc:
            if getattr(exc, "code", "") == "refund_open":  # double submit: already there
                return redirect("students:detail", pk=contract.student_id)
            form.apply(exc)
        else:
            messages.success(request, _("Refund requested; a manager will decide."))
            return redirect("students:detail", pk=contract.student_id)
    return render(request, "workspace/money/refund_new.html",
                  {"contract": contract, "quote": quote, "form": form})


@staff_required
def transfer_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Request moving a contract's remaining hours to a course / class / open contract."""
    _requester(request.user)
    contract = visible_contract(request.user, pk)
    form = TransferRequestForm(request.POST or None, source=contract)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            transfer_request(source=contract, reason=data["reason"], actor=request.user,
                             target_contract=data["target_contract"],
                             target_course=data["target_course"],
                             target_class_group=data["target_class_group"])
        except PermissionDenied as exc:
            _refused(request, exc)
        except ValidationError as exc:
            form.apply(exc)
        else:
            messages.success(request, _("Transfer requested; a manager will decide."))
            return redirect("students:detail", pk=contract.student_id)
    return render(request, "workspace/money/transfer_new.html",
                  {"contract": contract, "form": form})


# ------------------------------------------------------------------------- approvals
def pending_refunds(user: Any) -> QuerySet:
    return permissions.scope_by_branch(
        user, Refund.objects.filter(status=Refund.Status.REQUESTED), field="contract__branch"
    ).select_related("contract__student", "contract__course", "requested_by__staff_profile"
                     ).order_by("requested_at", "pk")


def pending_transfers(user: Any) -> QuerySet:
    return permissions.scope_by_branch(
        user, Transfer.objects.filter(status=Transfer.Status.REQUESTED), field="source__branch"
    ).select_related("source__student", "source__course", "target_student", "target_course",
                     "target_contract", "requested_by__staff_profile"
                     ).order_by("requested_at", "pk")


def approval_queue_context(user: Any, limit: int | None = None) -> dict[str, Any]:
    """Pending refunds, each with today's quote and the figure approval would pay (what
    the family agreed, never above the formula), and pending transfers."""
    refunds = list(pending_refunds(user)[:limit])
    quotes = contract_refund_quotes([r.contract for r in refunds])
    for r in refunds:
        r.quote_now = quotes[r.contract_id]
        r.payout = min(r.quote_now.amount, Decimal(r.quote.get("asked", r.quote_now.amount)))
    transfers = list(pending_transfers(user)[:limit])
    return {"refunds": refunds, "transfers": transfers, "count": len(refunds) + len(transfers),
            "user": user}


@staff_required
def approvals(request: HttpRequest) -> HttpResponse:
    """The managers' queue: pending refunds (with today's quote) and transfers."""
    _decider(request.user)
    return render(request, "workspace/money/approvals.html",
                  approval_queue_context(request.user, limit=50))


@require_POST
@staff_required
def decide(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Approve or reject one request; the services check branch and four eyes."""
    _decider(request.user)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("money:approvals")
    approve = form.cleaned_data["decision"] == "approve"
    note = form.cleaned_data["note"]
    try:
        if kind == "refund":
            refund = get_object_or_404(permissions.scope_by_branch(
                request.user, Refund.objects.all(), field="contract__branch"), pk=pk)
            if approve:
                refund_approve(refund=refund, actor=request.user, note=note,
                               expected_amount=form.cleaned_data["expected_amount"])
            else:
                refund_reject(refund=refund, actor=request.user, note=note)
        else:
            transfer = get_object_or_404(permissions.scope_by_branch(
                request.user, Transfer.objects.all(), field="source__branch"), pk=pk)
            if approve:
                transfer_approve(transfer=transfer, actor=request.user)
            else:
                transfer_reject(transfer=transfer, actor=request.user)
    except PermissionDenied as exc:
        _refused(request, exc)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Approved.") if approve else _("Rejected."))
    return redirect("money:approvals")


# ---------------------------------------------------------------------- lists
@staff_required
def arrears_list(request: HttpRequest) -> HttpResponse:
    """Contracts that still owe money (欠费), for managers and head office."""
    _decider(request.user)
    page = paginate(request, arrears(request.user), PAGE_SIZE)
    return render(request, "workspace/money/arrears.html", {"page": page})


@staff_required
def renewals(request: HttpRequest) -> HttpResponse:
    """The renewal-warning list (续费预警): low balance at the current pace or expiring
    soon; each row one click to a renewal prefilled from the last contract."""
    if permissions.role_of(request.user) not in RENEWAL_ROLES:
        raise PermissionDenied(_("The renewal list is for counselors and managers."))
    rows = renewal_warnings(request.user).select_related("counselor__staff_profile")
    page = paginate(request, rows, PAGE_SIZE)
    return render(request, "workspace/money/renewals.html", {"page": page})

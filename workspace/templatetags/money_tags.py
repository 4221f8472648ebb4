"""Money blocks other pages embed: the student page's contracts-and-requests card and
the managers' approval queue on their home page (a few fixed queries each)."""
from __future__ import annotations

from typing import Any

from django import template

from crm import permissions
from students.models import Contract, Refund, Transfer
from students.services.access import can_take_payment
from workspace.views.money import DECIDERS, REQUESTERS, approval_queue_context

register = template.Library()
OPEN = [Contract.Status.ACTIVE, Contract.Status.COMPLETED]


@register.inclusion_tag("workspace/money/_student_money.html", takes_context=True)
def student_money(context: dict[str, Any], student: Any) -> dict[str, Any]:
    """Enrol / renew / pay / refund / transfer buttons and the pending requests."""
    user = context["request"].user
    role = permissions.role_of(user)
    has_contract = student.contracts.filter(is_trial=False).exists()
    return {
        "student": student,
        "can_pay": can_take_payment(user),
        "can_request": role in REQUESTERS,
        "has_contract": has_contract,
        "open_contracts": list(student.contracts.filter(status__in=OPEN)
                               .select_related("course").order_by("-signed_on", "-id")),
        "pending_refunds": list(Refund.objects.filter(
            contract__student=student, status=Refund.Status.REQUESTED)
            .select_related("contract", "requested_by__staff_profile")),
        "pending_transfers": list(Transfer.objects.filter(
            source__student=student, status=Transfer.Status.REQUESTED)
            .select_related("source", "target_course", "requested_by__staff_profile")),
    }


@register.inclusion_tag("workspace/money/_approval_queue.html", takes_context=True)
def approval_queue(context: dict[str, Any]) -> dict[str, Any]:
    user = context["request"].user
    if permissions.role_of(user) not in DECIDERS:
        return {"hidden": True}
    return {**approval_queue_context(user, limit=20), "csrf_token": context.get("csrf_token")}

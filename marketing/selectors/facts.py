"""Shared querysets: what counts as a paid contract, a trial attended, revenue."""
from __future__ import annotations

from django.db.models import (
    BooleanField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from students.models import Attendance, Contract, Payment, Refund

DEAD = [Contract.Status.CANCELLED, Contract.Status.REFUNDED]
ZERO = Value(0, output_field=DecimalField(max_digits=14, decimal_places=2))


def paid_contracts() -> QuerySet:
    """Non-trial contracts with at least one payment, not cancelled or refunded.

    The same test the lifecycle's first-purchase rule uses (with trials not counting).
    """
    return (Contract.objects.filter(is_trial=False)
            .filter(Exists(Payment.objects.filter(contract=OuterRef("pk"))))
            .exclude(status__in=DEAD))


def trial_attendances() -> QuerySet:
    """Present at a lesson charged to a trial contract: a real roll-call row, not a flag."""
    return Attendance.objects.filter(status__in=list(Attendance.PRESENT),
                                     contract__is_trial=True)


def has_paid_contract(ref: str = "pk") -> Exists:
    return Exists(paid_contracts().filter(student=OuterRef(ref)))


def trial_lessons_attended() -> QuerySet:
    """Trial lessons whose recorded outcome says the student sat the lesson."""
    from ..models import TrialLesson

    return TrialLesson.objects.filter(outcome__in=list(TrialLesson.ATTENDED_OUTCOMES))


def has_trial_attended(ref: str = "pk") -> ExpressionWrapper:
    """Sat a trial: a present roll call on a trial contract or a trial lesson's outcome."""
    return ExpressionWrapper(
        Q(Exists(trial_attendances().filter(student=OuterRef(ref))))
        | Q(Exists(trial_lessons_attended().filter(student=OuterRef(ref)))),
        output_field=BooleanField())


def revenue_expr(ref: str = "pk") -> Coalesce:
    """Money received from a student: payments minus refunds paid out (all contracts)."""
    paid = (Payment.objects.filter(contract__student=OuterRef(ref)).order_by()
            .values("contract__student").annotate(s=Sum("amount")).values("s"))
    refunded = (Refund.objects.filter(contract__student=OuterRef(ref),
                                      status=Refund.Status.PAID).order_by()
                .values("contract__student").annotate(s=Sum("amount")).values("s"))
    dec = DecimalField(max_digits=14, decimal_places=2)
    return (Coalesce(Subquery(paid, output_field=dec), ZERO)
            - Coalesce(Subquery(refunded, output_field=dec), ZERO))


def paid_q(prefix: str = "") -> Q:
    """Q over Student (or a relation via prefix) that has a paid contract."""
    return Q(**{f"{prefix}pk__in": paid_contracts().values("student")})

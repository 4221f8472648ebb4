"""Factories and small builders for the marketing tests (tests/factories.py is shared)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from lifecycle.periods import Period
from lifecycle.services import account_transition
from marketing.models import Campaign, Prospect
from students.models import Attendance, Contract, Payment, Student
from tests.factories import ClassSessionFactory, ContractFactory


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    code = factory.Sequence(lambda n: f"camp-{n}")
    name = factory.Sequence(lambda n: f"高考后讲座{n}")
    kind = Campaign.Kind.PUBLIC_LECTURE
    starts_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=10))
    cost = Decimal("1000")
    contact_channel = Campaign.Audience.SMS


class ProspectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Prospect

    student = factory.SubFactory("tests.factories.StudentFactory")


def paid_contract(student: Student, *, amount: Decimal = Decimal("8000"),
                  signed_on: dt.date | None = None, **kwargs: Any) -> Contract:
    """A non-trial contract with its payment (what makes a prospect enrolled)."""
    contract = ContractFactory(student=student, list_price=amount,
                               signed_on=signed_on or timezone.localdate(), **kwargs)
    Payment.objects.create(contract=contract, amount=amount, method=Payment.Method.CASH,
                           paid_at=timezone.now())
    return contract


def trial_attended(student: Student, *, on: dt.date | None = None,
                   status: str = Attendance.Status.ATTENDED) -> Attendance:
    """A trial contract and a real roll-call row at one of its lessons."""
    trial = ContractFactory(student=student, is_trial=True, hours_purchased=Decimal("2"),
                            list_price=Decimal("0"))
    session = ClassSessionFactory(class_group__branch=student.branch,
                                  date=on or timezone.localdate())
    return Attendance.objects.create(session=session, student=student, status=status,
                                     date=session.date, contract=trial)


def terminate(student: Student, actor: Any, *, via: str = Period.SOCIALIZATION) -> None:
    """Walk an account to termination through the one door (manual moves)."""
    path = {Period.SOCIALIZATION: [Period.SOCIALIZATION],
            Period.GROWTH: [Period.SOCIALIZATION, Period.GROWTH],
            Period.MATURITY: [Period.SOCIALIZATION, Period.GROWTH, Period.MATURITY]}[via]
    for period in [*path, Period.TERMINATION]:
        if student.period != period:
            account_transition(student=student, to_period=period, trigger="manual",
                               actor=actor, reason="test")

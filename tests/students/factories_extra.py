"""Builders for the contract / roll-call / notice tests (kept out of tests/factories.py)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from parents.models import ContactConsent, Guardianship
from students.models import ClassGroup, ClassSession, Contract, ContractPolicy, Payment, Student
from tests.factories import (
    ClassGroupFactory,
    ClassSessionFactory,
    ContractFactory,
    GuardianshipFactory,
    StudentFactory,
)


def policy(branch: Any = None, **fields: Any) -> ContractPolicy:
    return ContractPolicy.objects.create(branch=branch, **fields)


def klass(branch: Any, teacher: Any = None, **kw: Any) -> ClassGroup:
    return ClassGroupFactory(branch=branch, teacher=teacher, **kw)


def lesson(group: ClassGroup, day: dt.date | None = None, hour: int = 18,
           hours: str = "2") -> ClassSession:
    return ClassSessionFactory(class_group=group, date=day or timezone.localdate(),
                               start_time=dt.time(hour, 0), end_time=dt.time(hour + 1, 0),
                               hours=Decimal(hours))


def enrolled(group: ClassGroup, *, hours: str = "40", gifted: str = "0", paid: str | None = None,
             student: Student | None = None, **kw: Any) -> Contract:
    """A student with a contract in `group` (purchased + gifted hours in the ledger)."""
    from students.models import LedgerEntry

    student = student or StudentFactory(branch=group.branch)
    contract = ContractFactory(student=student, course=group.course, class_group=group,
                               hours_purchased=Decimal(hours), hours_gifted=Decimal(gifted),
                               **kw)
    if Decimal(gifted):
        LedgerEntry.objects.create(contract=contract, kind="gifted", hours=Decimal(gifted),
                                   occurred_at=timezone.now())
    if paid:
        Payment.objects.create(contract=contract, amount=Decimal(paid), method="wechat",
                               paid_at=timezone.now())
    return contract


def guardian(student: Student, *, primary: bool = False, decides: bool = False,
             channels: tuple[str, ...] = ("sms",), wechat: str = "", **kw: Any) -> Guardianship:
    """A guardian of `student` who consented to `channels`."""
    link = GuardianshipFactory(student=student, is_primary_contact=primary,
                               is_decision_maker=decides, parent__wechat_id=wechat, **kw)
    for channel in channels:
        ContactConsent.objects.create(parent=link.parent, channel=channel, granted=True)
    return link

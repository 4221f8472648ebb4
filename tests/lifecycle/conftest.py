"""Builders for lifecycle tests: paid contracts, roll calls and a scan, in one line each."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from lifecycle.models import LifecyclePolicy, ScanRun
from lifecycle.periods import Period
from lifecycle.services import account_transition, scan_lifecycle
from students.models import Attendance, Contract, Payment, Student
from tests.factories import ClassGroupFactory, ClassSessionFactory, ContractFactory

TODAY = timezone.localdate


def days_ago(n: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=n)


def paid_contract(student: Student, *, paid: bool = True, signed_days_ago: int = 30,
                  **kwargs: Any) -> Contract:
    """A contract signed `signed_days_ago`, valid for a year from then, paid in full by default.

    Paid in full: an underpaid contract past its grace days is a risk signal (issue #4).
    """
    signed = days_ago(signed_days_ago)
    kwargs.setdefault("valid_from", signed)
    kwargs.setdefault("valid_until", signed + dt.timedelta(days=400))
    contract = ContractFactory(student=student, signed_on=signed, **kwargs)
    if paid:
        Payment.objects.create(contract=contract, amount=contract.amount, method="cash",
                               paid_at=timezone.now())
    return contract


def attend(student: Student, statuses: list[tuple[int, str]]) -> None:
    """Roll calls: (days ago, status) pairs, one lesson each."""
    group = ClassGroupFactory(branch=student.branch)
    for n, status in statuses:
        session = ClassSessionFactory(class_group=group, date=days_ago(n))
        Attendance.objects.create(session=session, student=student, status=status,
                                  date=session.date)


def move(student: Student, *path: str, actor: Any = None) -> Student:
    """Walk an account along legal periods via the service (as rules would)."""
    for to in path:
        account_transition(student=student, to_period=to, trigger="manual" if actor else "risk",
                           actor=actor, reason="test setup")
    student.refresh_from_db()
    return student


def scan(**kwargs: Any) -> ScanRun:
    return scan_lifecycle(**kwargs)


def set_policy(**values: Any) -> LifecyclePolicy:
    """The institution-wide default policy with some values changed."""
    policy, _ = LifecyclePolicy.objects.get_or_create(branch=None)
    for k, v in values.items():
        setattr(policy, k, v)
    policy.full_clean()
    policy.save()
    return policy


@pytest.fixture
def periods() -> type[Period]:
    return Period

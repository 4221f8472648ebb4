"""Fixtures for the work pages: scored accounts, a playbook and tasks in branches A and B."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from lifecycle.models import AccountScore, Playbook, RetentionTask
from tests.factories import GuardianshipFactory, ParentFactory, StudentFactory
from tests.web.conftest import _plain_http, as_user  # noqa: F401  (fixtures)


def scored(branch, *, counselor=None, period="growth", risk=None, week_ago=None, current=50,
           potential=50, segment="ordinary", factors=None, **kwargs):
    """A student with an AccountScore (and a deciding mother)."""
    student = StudentFactory(branch=branch, counselor=counselor, period=period, **kwargs)
    phase = {"prospecting": "expected", "termination": "recovery",
             "lapsed": "recovery"}.get(period, "maintenance")
    AccountScore.objects.create(
        student=student, branch=branch, period=period, current_value=current,
        potential_value=potential, segment=segment, customer_type=f"{segment}.{phase}",
        risk=risk, risk_week_ago=week_ago, risk_factors=factors or [])
    return student


@pytest.fixture
def playbook(db):
    return Playbook.objects.create(code="work-test-call", period="at_risk", title_zh="回访电话",
                                   title_en="Call the family", due_hours=24)


def make_task(student, playbook, *, assignee, due_in=dt.timedelta(hours=2), parent=None,
              target=RetentionTask.Target.PARENT, priority=50):
    return RetentionTask.objects.create(
        student=student, branch=student.branch, playbook=playbook, assignee=assignee,
        target=target if parent else RetentionTask.Target.STUDENT, target_parent=parent,
        priority=priority, due_at=timezone.now() + due_in)


def with_parent(student, **kwargs):
    parent = ParentFactory(branch=student.branch, **kwargs)
    GuardianshipFactory(student=student, parent=parent)
    return parent

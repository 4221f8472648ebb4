"""Timetable fixtures: a branch with rooms, a teacher and classes with enrolled students."""
from __future__ import annotations

import datetime as dt

import pytest

from crm.roles import Role
from students.models import Contract
from tests.factories import ClassGroupFactory, ContractFactory, StudentFactory, staff
from timetable.models import Room, Term


def enrol(group, n: int = 1, students=None) -> list:
    """Students with an active contract in `group` (valid through 2027)."""
    students = students or [StudentFactory(branch=group.branch) for _ in range(n)]
    for s in students:
        ContractFactory(student=s, course=group.course, class_group=group,
                        valid_from=dt.date(2026, 1, 1), valid_until=dt.date(2027, 12, 31),
                        status=Contract.Status.ACTIVE)
    return students


@pytest.fixture
def teacher_a2(branch_a):
    return staff(Role.TEACHER, branch_a, username="t_a2")


@pytest.fixture
def rooms(branch_a):
    return {name: Room.objects.create(branch=branch_a, name=name, capacity=cap)
            for name, cap in [("C204", 12), ("C205", 12), ("S101", 4)]}


@pytest.fixture
def autumn(branch_a):
    """Autumn term 2026: through the Mid-Autumn and National Day holidays."""
    return Term.objects.create(branch=branch_a, name="2026秋季", start_date=dt.date(2026, 9, 1),
                               end_date=dt.date(2027, 1, 17))


@pytest.fixture
def group_a(branch_a, teacher_a):
    group = ClassGroupFactory(branch=branch_a, teacher=teacher_a, name="高二数学A班")
    enrol(group, 3)
    return group


@pytest.fixture
def group_b(branch_a, teacher_a2):
    group = ClassGroupFactory(branch=branch_a, teacher=teacher_a2, name="高二物理B班")
    enrol(group, 2)
    return group

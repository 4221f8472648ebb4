"""Fixtures for the service pages (issue #24): staff with real names, a family in branch A."""
from __future__ import annotations

import pytest

from crm.roles import Role
from parents.models import Guardianship
from tests.factories import GuardianshipFactory, ParentFactory, StudentFactory, staff
from tests.web.conftest import _plain_http, as_user  # noqa: F401  (fixtures)


@pytest.fixture
def named_counselor(branch_a):
    """A counselor whose login differs from the real name people should read."""
    return staff(Role.COUNSELOR, branch_a, username="zhangw_login", first_name="伟",
                 last_name="张")


@pytest.fixture
def family(branch_a, named_counselor):
    """王小明 (S2) with his mother 李梅 (primary contact) and his father 王强."""
    student = StudentFactory(branch=branch_a, name_zh="王小明", grade="S2",
                             counselor=named_counselor)
    mother = ParentFactory(branch=branch_a, name="李梅", phone="+8613800001111")
    father = ParentFactory(branch=branch_a, name="王强", phone="+8613800002222")
    GuardianshipFactory(student=student, parent=mother, relation=Guardianship.Relation.MOTHER,
                        is_primary_contact=True, is_decision_maker=False)
    GuardianshipFactory(student=student, parent=father, relation=Guardianship.Relation.FATHER,
                        is_primary_contact=False, is_decision_maker=True)
    return student

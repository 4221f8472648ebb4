"""Fixtures for the server-rendered staff pages: a family in branch A, one in branch B."""
from __future__ import annotations

import pytest

from parents.models import Guardianship
from tests.factories import GuardianshipFactory, ParentFactory, StudentFactory


@pytest.fixture
def family_a(branch_a):
    """王小明 (pinyin wangxiaoming) with his mother, phone 138 0000 1111, in branch A."""
    student = StudentFactory(branch=branch_a, name_zh="王小明")
    mother = ParentFactory(branch=branch_a, name="李梅", phone="+8613800001111")
    GuardianshipFactory(student=student, parent=mother, relation=Guardianship.Relation.MOTHER)
    return student


@pytest.fixture
def family_b(branch_b):
    student = StudentFactory(branch=branch_b, name_zh="王小刚")
    father = ParentFactory(branch=branch_b, name="张伟", phone="+8613900002222")
    GuardianshipFactory(student=student, parent=father, relation=Guardianship.Relation.FATHER)
    return student


@pytest.fixture
def as_user(client):
    """Log a user in on the test client: `as_user(front_desk_a).get(...)`."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture(autouse=True)
def _plain_http(settings):
    """Production redirects http to https; these tests speak plain http to the test client."""
    settings.SECURE_SSL_REDIRECT = False

"""Shared fixtures. Services that CI must have (PostgreSQL, Redis, Chromium) are checked
here: on a laptop without them the tests skip, under CI=true a missing one fails."""
from __future__ import annotations

import os

import pytest
from django.db import connection

from crm.roles import Role
from tests.factories import BranchFactory, staff

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, why: str) -> None:
    """Skip locally when a real service is missing; fail under CI, never skip silently."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {why}")
    pytest.skip(why)


@pytest.fixture
def postgres_only(db) -> None:
    require(connection.vendor == "postgresql",
            "this test needs PostgreSQL (set DATABASE_URL=postgres://...)")


@pytest.fixture
def branch_a(db):
    return BranchFactory(code="a", name="西湖校区")


@pytest.fixture
def branch_b(db):
    return BranchFactory(code="b", name="滨江校区")


@pytest.fixture
def head_office(db):
    return staff(Role.HEAD_OFFICE, None, username="ho")


@pytest.fixture
def manager_a(branch_a):
    return staff(Role.MANAGER, branch_a, username="mgr_a")


@pytest.fixture
def manager_b(branch_b):
    return staff(Role.MANAGER, branch_b, username="mgr_b")


@pytest.fixture
def counselor_a(branch_a):
    return staff(Role.COUNSELOR, branch_a, username="cs_a")


@pytest.fixture
def counselor_a2(branch_a):
    return staff(Role.COUNSELOR, branch_a, username="cs_a2")


@pytest.fixture
def counselor_b(branch_b):
    return staff(Role.COUNSELOR, branch_b, username="cs_b")


@pytest.fixture
def front_desk_a(branch_a):
    return staff(Role.FRONT_DESK, branch_a, username="fd_a")


@pytest.fixture
def teacher_a(branch_a):
    return staff(Role.TEACHER, branch_a, username="t_a")


@pytest.fixture(autouse=True)
def _static_without_manifest(settings):
    """Production uses a hashed manifest built by collectstatic; tests serve plain files."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

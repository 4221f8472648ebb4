"""Transactional tests flush the database after each test, which also drops the rows
data migrations created (default playbooks, risk profile, schedule): put them back."""
from __future__ import annotations

import importlib

import pytest


@pytest.fixture(autouse=True)
def lifecycle_defaults(request):
    if "celery_worker_process" not in request.fixturenames:
        return
    request.getfixturevalue("transactional_db")
    from django.apps import apps

    migration = importlib.import_module(
        "lifecycle.migrations.0003_default_playbooks_profiles_schedule")
    migration.forwards(apps, None)

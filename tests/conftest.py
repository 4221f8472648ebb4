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


@pytest.fixture
def celery_worker_process(transactional_db, settings):
    """A real Celery worker (separate process) on the real Redis broker and the test database.

    Tests using it run with transactional_db so the worker sees committed rows. Yields
    the Celery app configured to send to that broker.
    """
    import subprocess
    import sys
    import time
    import uuid

    from crm.celery import app

    redis_url = os.environ.get("REDIS_URL", "")
    require(bool(redis_url), "REDIS_URL is not set: the Celery integration tests need Redis")
    require(connection.vendor == "postgresql",
            "the Celery integration tests need PostgreSQL (SQLite locks across processes)")
    import redis

    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:  # pragma: no cover - depends on the machine
        require(False, f"Redis at {redis_url} does not answer: {exc}")

    queue = f"test-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
                        f"/{db['NAME']}",
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DJANGO_SETTINGS_MODULE": "crm.settings",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "crm", "worker", "-Q", queue, "-c", "1",
         "-P", "solo", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-n", f"{queue}@%h", "-l", "INFO"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    old = (app.conf.task_always_eager, app.conf.broker_url, app.conf.result_backend,
           app.conf.task_default_queue)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.update(task_always_eager=False, broker_url=redis_url, result_backend=redis_url,
                    task_default_queue=queue)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            replies = app.control.ping(destination=[f"{queue}@{os.uname().nodename}"],
                                       timeout=1.0)
            if replies:
                break
            if proc.poll() is not None:
                pytest.fail("Celery worker exited at start:\n" + (proc.stdout.read() or ""))
        else:
            pytest.fail("Celery worker did not answer a ping within 60 s")
        yield app
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        app.conf.update(task_always_eager=old[0], broker_url=old[1], result_backend=old[2],
                        task_default_queue=old[3])


@pytest.fixture(autouse=True)
def _memory_cache(settings):
    """With REDIS_URL set the app caches in Redis, and tests clear the cache (a FLUSHDB):
    tests use memory so they never wipe a shared Redis db. tests/crm/test_cache.py checks
    the Redis configuration itself."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture(autouse=True)
def _celery_eager(settings):
    """Unit tests run tasks in-process whatever REDIS_URL says; only tests that ask for
    `celery_worker_process` talk to a real broker and worker."""
    from crm.celery import app

    old = app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = old


@pytest.fixture(autouse=True)
def _english(settings):
    """Assertions read English messages; tests of the Chinese catalog switch explicitly."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _data_migration_rows(request):
    """A transactional test flushes the database afterwards, which also drops the rows
    data migrations wrote (default playbooks, risk profile, type strategies); whether
    `serialized_rollback` puts them back depends on the order xdist gives the tests, so
    put them back here (each seeder is idempotent)."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    request.getfixturevalue("transactional_db")
    import importlib

    from django.apps import apps

    for name in ("lifecycle.migrations.0003_default_playbooks_profiles_schedule",
                 "lifecycle.migrations.0009_seed_type_strategies"):
        importlib.import_module(name).forwards(apps, None)

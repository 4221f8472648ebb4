import pytest
from django.db import DatabaseError

pytestmark = pytest.mark.django_db


def test_healthz_reports_ok_when_database_and_broker_answer(client, settings):
    response = client.get("/healthz", secure=True)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True


def test_healthz_is_503_when_the_database_is_down(client, monkeypatch):
    def broken(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr("django.db.backends.utils.CursorWrapper.execute", broken)
    response = client.get("/healthz", secure=True)
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False, "error": "connection refused"}


def test_healthz_is_503_when_the_broker_is_unreachable(client, settings):
    from crm.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    old = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = client.get("/healthz", secure=True)
    finally:
        app.conf.broker_url = old
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False


def test_healthz_checks_the_real_redis_broker_when_configured(client, settings):
    import os

    from tests.conftest import require

    require(bool(os.environ.get("REDIS_URL")), "REDIS_URL is not set")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    response = client.get("/healthz", secure=True)
    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == {"ok": True, "mode": "broker"}

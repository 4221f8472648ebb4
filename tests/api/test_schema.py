"""The OpenAPI document: valid OpenAPI 3, every operation documents its errors, the docs
page is served offline, and a property-based fuzz of the schema finds no 5xx."""
from __future__ import annotations

import io
from collections import Counter
from typing import Any

import pytest
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections

from crm.api.schema import SchemaGenerator

from .conftest import client_for

pytestmark = pytest.mark.django_db


def generated_schema() -> dict[str, Any]:
    return SchemaGenerator(api_version="v1").get_schema(request=None, public=True)


def test_the_schema_command_validates_without_warnings():
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json",
                 stdout=out)
    assert '"openapi": "3.0.3"' in out.getvalue()


def test_the_schema_is_valid_openapi_3():
    from openapi_spec_validator import validate

    validate(generated_schema())


def test_every_operation_documents_its_errors_with_the_error_component():
    schema = generated_schema()
    assert "Error" in schema["components"]["schemas"]
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            if method not in {"get", "post", "patch", "put", "delete"}:
                continue
            codes = set(op["responses"])
            assert {"400", "429"} <= codes, (method, path)
            if path != "/api/v1/auth/token/":
                assert {"401", "403"} <= codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)


def test_schema_and_docs_are_served(head_office):
    client = client_for(head_office)
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content and b"cdn" not in docs.content.lower()


# --- property-based fuzz ------------------------------------------------------------------

FUZZED_POSTS = {"/api/v1/families/", "/api/v1/students/", "/api/v1/interactions/",
                "/api/v1/payments/", "/api/v1/sessions/{id}/attendance/",
                "/api/v1/webhooks/", "/api/v1/complaints/", "/api/v1/surveys/"}


def test_fuzzing_the_schema_finds_no_server_errors(world, head_office, settings):
    """Schemathesis generates requests from the schema (valid and edge-case values) and
    replays them against the WSGI app as head office: every answer must be < 500."""
    import schemathesis
    from hypothesis import HealthCheck, given
    from hypothesis import settings as hyp_settings
    from rest_framework.authtoken.models import Token

    from crm.wsgi import application

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"user": None, "anon": None}}
    token = Token.objects.create(user=head_office).key
    schema = schemathesis.openapi.from_dict(generated_schema())
    schema.app = application
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        method = operation.method.upper()
        if method != "GET" and not (method == "POST" and operation.path in FUZZED_POSTS):
            continue
        if operation.path == "/api/v1/lifecycle/scan-runs/":
            continue  # starts a background scan: the lifecycle team's tests cover it

        @given(case=operation.as_strategy())
        @hyp_settings(max_examples=8, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            # HTTPS: the app's SecurityMiddleware redirects plain HTTP, as in production.
            response = case.call(base_url="https://testserver",
                                 headers={"Authorization": f"Token {token}"})
            statuses[response.status_code] += 1
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.query} "
                                f"{case.body!r} -> {response.status_code}")

        # As Django's test client does: a request's start or end must not close the test's
        # connection (it would, with CONN_MAX_AGE=0, on PostgreSQL).
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            run()
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)
        checked += 1
    assert checked >= 30
    assert failures == []
    # The fuzz really reached the views as head office (not a wall of 401s or 301s).
    assert statuses[200] > checked and not statuses[401] and not statuses[301], statuses

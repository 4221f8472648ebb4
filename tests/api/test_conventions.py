"""Cross-cutting conventions: token auth, the one error shape, throttling, versioning."""
from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token

from .conftest import client_for

pytestmark = pytest.mark.django_db


def test_a_token_is_obtained_with_username_and_password_and_then_works(manager_a):
    client = client_for()
    res = client.post("/api/v1/auth/token/", {"username": "mgr_a", "password": "pass-1234"})
    assert res.status_code == 200
    token = res.json()["token"]
    assert Token.objects.get(user=manager_a).key == token

    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/students/").status_code == 200


def test_wrong_credentials_are_a_400_in_the_error_shape(manager_a):
    res = client_for().post("/api/v1/auth/token/", {"username": "mgr_a", "password": "nope"})
    assert res.status_code == 400
    assert set(res.json()["error"]) == {"code", "message", "fields"}


@pytest.mark.parametrize(("method", "url", "status"), [
    ("get", "/api/v1/students/999999/", 404),
    ("get", "/api/v1/contracts/", 403),
    ("delete", "/api/v1/students/1/", 405),
    ("put", "/api/v1/students/1/", 405),
])
def test_every_error_has_the_same_shape(front_desk_a, method, url, status):
    res = getattr(client_for(front_desk_a), method)(url)
    assert res.status_code == status
    body = res.json()
    assert set(body) == {"error"}
    assert {"code", "message", "fields"} <= set(body["error"])


def test_a_malformed_json_body_is_a_400_parse_error(manager_a):
    res = client_for(manager_a).generic("POST", "/api/v1/students/", "{not json",
                                        content_type="application/json")
    assert res.status_code == 400
    assert res.json()["error"]["code"] == "parse_error"


def test_too_many_requests_per_token_is_429_with_retry_after(manager_a, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"user": "3/minute", "anon": "2/minute"}}
    client = client_for(manager_a)
    codes = [client.get("/api/v1/branches/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    last = client.get("/api/v1/branches/")
    assert last.json()["error"]["code"] == "throttled"
    assert int(last["Retry-After"]) > 0


def test_the_token_endpoint_is_throttled_per_ip(manager_a, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"user": "100/minute",
                                                          "anon": "2/minute"}}
    client = client_for()
    codes = [client.post("/api/v1/auth/token/", {"username": "x", "password": "y"}).status_code
             for _ in range(3)]
    assert codes == [400, 400, 429]


def test_the_api_root_lists_the_resources(manager_a):
    body = client_for(manager_a).get("/api/v1/").json()
    assert {"students", "parents", "contracts", "payments"} <= set(body)

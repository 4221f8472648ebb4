"""Issue #21 item 9: NUL bytes and deeply nested JSON are bad requests, not crashes."""
from __future__ import annotations

import pytest
from django.urls import reverse

from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.mark.parametrize("htmx", [True, False])
def test_nul_byte_in_web_search_is_a_400(as_user, front_desk_a, family_a, htmx):
    response = as_user(front_desk_a).get(reverse("search"), {"q": "王\x00小"},
                                         **(HTMX if htmx else {}))
    assert response.status_code == 400


def test_nul_byte_in_api_search_is_a_400(front_desk_a, family_a):
    res = client_for(front_desk_a).get("/api/v1/students/", {"search": "王\x00"})
    assert res.status_code == 400
    assert res.json()["error"]["message"]


def test_deeply_nested_json_is_a_400(front_desk_a):
    body = "[" * 100_000 + "]" * 100_000
    res = client_for(front_desk_a).post("/api/v1/students/", body,
                                        content_type="application/json")
    assert res.status_code == 400
    assert "nested" in res.json()["error"]["message"]

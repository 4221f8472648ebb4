"""The managers' pages in both languages show words, never codes: no snake_case token
(at_risk, develop.maintenance...) in the visible text."""
import re

import pytest
from django.test import Client
from django.urls import clear_url_caches, reverse
from django.utils import translation

from crm.roles import Role
from tests.factories import staff
from tests.workspace.conftest import scored

pytestmark = pytest.mark.django_db

CODE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b|\b(?:core|maintain|develop|ordinary)\."
                  r"(?:expected|maintenance|recovery)\b")


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S | re.I)
    html = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", html)


@pytest.fixture
def pages(branch_a, branch_b):
    # usernames are people's data, not codes: none with an underscore here
    counselor_a = staff(Role.COUNSELOR, branch_a, username="guwen")
    student = scored(branch_a, counselor=counselor_a, period="at_risk", risk=60,
                     segment="develop")
    scored(branch_b, period="termination", segment="core")
    return [reverse("work:dashboard"), reverse("work:dashboard") + f"?branch={branch_a.pk}",
            reverse("work:branches"), reverse("work:strategies"),
            reverse("work:strategies") + f"?branch={branch_a.pk}",
            reverse("work:strategy_edit", args=["develop.maintenance"]),
            reverse("students:list") + "?segment=develop&phase=maintenance",
            reverse("students:detail", args=[student.pk])]


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_no_code_in_visible_text(settings, pages, lang):
    settings.LANGUAGE_CODE = "zh-hans"
    clear_url_caches()
    client = Client()
    client.force_login(staff(Role.HEAD_OFFICE, None, username="zongbu"))
    try:
        for url in pages:
            with translation.override(lang):
                path = url if lang == "zh-hans" else "/en" + url
            response = client.get(path, secure=True)
            assert response.status_code == 200, path
            found = CODE.findall(visible_text(response.content.decode()))
            assert not found, (path, found)
    finally:
        clear_url_caches()

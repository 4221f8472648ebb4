"""Browser tests: Debian's headless Chromium driven by Playwright against pytest-django's
live_server (a real HTTP server on the test database; it serves /static/ itself).

Without Chromium or Playwright these skip on a laptop and FAIL under CI=true (require()).
Screenshots of every main page go to artifacts/screenshots/ (gitignored).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.test.utils import override_settings
from django.urls import clear_url_caches

from tests.conftest import require

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(settings.BASE_DIR) / "artifacts" / "screenshots"


@pytest.fixture(scope="session", autouse=True)
def _live_server_over_http():
    """Production forces https and secure cookies; the live server speaks plain http.

    Session-scoped and autouse so it is in place before live_server (session-scoped too)
    builds its middleware.
    """
    with override_settings(SECURE_SSL_REDIRECT=False, SESSION_COOKIE_SECURE=False,
                           CSRF_COOKIE_SECURE=False, SECURE_HSTS_SECONDS=0):
        yield


@pytest.fixture(autouse=True)
def _chinese_default(settings):
    """The product's real default (the root conftest switches unit tests to English).

    URL reversing caches per language whether to add the /en/ prefix; that depends on
    LANGUAGE_CODE, so the caches are cleared when it changes (and again afterwards).
    """
    settings.LANGUAGE_CODE = "zh-hans"
    clear_url_caches()
    yield
    clear_url_caches()


@pytest.fixture(scope="module")
def browser():
    require(os.path.exists(CHROMIUM), f"Chromium is not installed at {CHROMIUM} "
                                      "(apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - depends on the machine
        require(False, "the playwright package is not installed (pip install -e '.[dev]')")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests
    # make for set-up and assertions are still synchronous, so allow them while it runs.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                        headless=True)
            yield browser
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(browser, live_server):
    """A fresh tablet-sized page (1024x768) in Chinese, failing fast on slow selectors."""
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.base = live_server.url  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors  # type: ignore[attr-defined]
    yield page
    context.close()


@pytest.fixture
def shot():
    """Save a full-page screenshot: shot(page, "home-front-desk")."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def login(page):
    def do(username: str, password: str = "pass-1234") -> None:
        page.goto(page.base + "/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("#login-form [type=submit]")
        page.wait_for_selector("#user-menu")

    return do

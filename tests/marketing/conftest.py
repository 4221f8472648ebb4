"""Marketing tests speak plain http to the test client (production redirects to https)."""
import pytest


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False

"""Webhook test fixtures: the real local receiver (tests/webhooks/receiver.py) and
settings that let the app call it."""
from __future__ import annotations

from typing import Any

import pytest

from tests.webhooks.receiver import receiver  # noqa: F401 (a fixture)


@pytest.fixture
def local_webhooks(settings: Any) -> Any:
    """The test receiver is plain http on loopback: allowed here, refused in production."""
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    settings.WEBHOOKS_RETRY_BACKOFF = 0.01
    settings.WEBHOOKS_TIMEOUT = 5.0
    return settings

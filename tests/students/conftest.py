"""Notices go to the in-memory outbox in these tests; each test starts with it empty."""
import pytest

from crm import messaging


@pytest.fixture(autouse=True)
def _locmem_messages(settings):
    settings.MESSAGING_BACKEND = "crm.messaging.backends.locmem.LocmemBackend"
    settings.MESSAGING_CHANNEL_BACKENDS = {}
    messaging.outbox.clear()
    yield
    messaging.outbox.clear()

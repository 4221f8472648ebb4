from __future__ import annotations

from ..base import BaseBackend, OutboundMessage


class LocmemBackend(BaseBackend):
    """Keeps messages in `crm.messaging.outbox` for tests to inspect."""

    def send(self, message: OutboundMessage) -> str:
        from crm import messaging

        messaging.outbox.append(message)
        return f"locmem-{len(messaging.outbox)}"

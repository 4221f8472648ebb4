"""The message type, the backend interface and backend loading."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULT_BACKEND = "crm.messaging.backends.console.ConsoleBackend"


class MessagingError(Exception):
    """A delivery failed in a way worth retrying (network, 5xx, provider throttling)."""


class PermanentMessagingError(MessagingError):
    """A delivery that will never succeed as is (bad address, rejected template): no retry."""


@dataclass
class OutboundMessage:
    channel: str  # "sms" | "wechat" | "email"
    to: str  # phone (E.164), WeChat id / openid, or email address
    text: str
    template_code: str = ""
    context: dict[str, Any] = field(default_factory=dict)
    reference: str = ""  # our id (MessageLog pk), for the provider's idempotency and logs

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class BaseBackend:
    """Subclasses implement send(); options come from settings, passed as keyword args."""

    def __init__(self, **options: Any) -> None:
        self.options = options

    def send(self, message: OutboundMessage) -> str:
        """Deliver one message; return the provider's message id ("" if none).

        Raise MessagingError to have the caller retry, PermanentMessagingError to give up.
        """
        raise NotImplementedError


def get_backend(channel: str = "", path: str | None = None, **options: Any) -> BaseBackend:
    """The backend for `channel`: the per-channel setting, else MESSAGING_BACKEND."""
    if path is None:
        per_channel = getattr(settings, "MESSAGING_CHANNEL_BACKENDS", {}) or {}
        path = per_channel.get(channel) or getattr(settings, "MESSAGING_BACKEND",
                                                   DEFAULT_BACKEND)
    return import_string(path)(**options)


def send(message: OutboundMessage) -> str:
    return get_backend(message.channel).send(message)

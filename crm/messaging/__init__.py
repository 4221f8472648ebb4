"""Outbound messages to families, with pluggable backends (like Django's email backends).

`MESSAGING_BACKEND` names the default backend class; `MESSAGING_CHANNEL_BACKENDS`
({"sms": "...", "wechat": "..."}) overrides it per channel. Backends know nothing of
the CRM's models: they get an OutboundMessage and deliver it or raise.
"""
from __future__ import annotations

from .base import (
    BaseBackend,
    MessagingError,
    OutboundMessage,
    PermanentMessagingError,
    get_backend,
    send,
)

# Filled by the locmem backend, like django.core.mail.outbox.
outbox: list[OutboundMessage] = []

__all__ = [
    "BaseBackend",
    "MessagingError",
    "OutboundMessage",
    "PermanentMessagingError",
    "get_backend",
    "outbox",
    "send",
]

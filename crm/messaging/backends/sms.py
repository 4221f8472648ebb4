from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ..base import BaseBackend, OutboundMessage, PermanentMessagingError
from .http import post_json


class HttpSmsBackend(BaseBackend):
    """POSTs {to, text, template, reference} to the SMS gateway at MESSAGING_SMS_URL.

    MESSAGING_SMS_TOKEN is sent as a bearer token; the gateway answers {"id": ...} and
    may answer {"error": ...} with HTTP 200, which counts as a permanent failure.
    """

    def __init__(self, url: str | None = None, token: str | None = None,
                 timeout: float | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.url = url or getattr(settings, "MESSAGING_SMS_URL", "")
        if not self.url:
            raise ImproperlyConfigured("HttpSmsBackend needs MESSAGING_SMS_URL.")
        self.token = token if token is not None else getattr(settings, "MESSAGING_SMS_TOKEN", "")
        self.timeout = timeout or getattr(settings, "MESSAGING_HTTP_TIMEOUT", 10.0)

    def send(self, message: OutboundMessage) -> str:
        data = post_json(self.url, {
            "to": message.to, "text": message.text, "template": message.template_code,
            "reference": message.reference,
        }, token=self.token, timeout=self.timeout)
        if data.get("error"):
            raise PermanentMessagingError(str(data["error"]))
        return str(data.get("id", ""))

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ..base import BaseBackend, MessagingError, OutboundMessage, PermanentMessagingError
from .http import post_json


class WeChatTemplateBackend(BaseBackend):
    """Sends a WeChat official-account template message through MESSAGING_WECHAT_URL.

    The URL is our gateway (or the platform's message/template/send endpoint with its
    access token); MESSAGING_WECHAT_TEMPLATES maps our template codes to WeChat template
    ids. The payload follows the platform's shape: touser, template_id, data.
    """

    def __init__(self, url: str | None = None, templates: dict[str, str] | None = None,
                 token: str | None = None, timeout: float | None = None,
                 **options: Any) -> None:
        super().__init__(**options)
        self.url = url or getattr(settings, "MESSAGING_WECHAT_URL", "")
        if not self.url:
            raise ImproperlyConfigured("WeChatTemplateBackend needs MESSAGING_WECHAT_URL.")
        self.templates = templates if templates is not None else getattr(
            settings, "MESSAGING_WECHAT_TEMPLATES", {})
        self.token = token if token is not None else getattr(settings, "MESSAGING_WECHAT_TOKEN",
                                                             "")
        self.timeout = timeout or getattr(settings, "MESSAGING_HTTP_TIMEOUT", 10.0)

    def send(self, message: OutboundMessage) -> str:
        data_fields = {k: {"value": str(v)} for k, v in message.context.items()}
        data_fields["content"] = {"value": message.text}
        data = post_json(self.url, {
            "touser": message.to,
            "template_id": self.templates.get(message.template_code, message.template_code),
            "data": data_fields,
            "client_msg_id": message.reference,
        }, token=self.token, timeout=self.timeout)
        # The platform answers errcode 0 on success; -1 (system busy) and 45009 (quota)
        # are worth retrying, other codes (bad openid, template) are not.
        code = data.get("errcode")
        if code not in (None, 0):
            error = MessagingError if code in (-1, 45009) else PermanentMessagingError
            raise error(f"errcode {code}: {data.get('errmsg')}")
        return str(data.get("msgid", ""))

"""A JSON-over-HTTP POST shared by the SMS and WeChat adapters (urllib, no extra package)."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from ..base import MessagingError, PermanentMessagingError


def post_json(url: str, payload: dict[str, Any], *, token: str = "",
              timeout: float = 10.0) -> dict[str, Any]:
    """POST `payload`; 4xx (but 408/429) is permanent, 5xx/network errors are retryable."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8",
        **({"Authorization": f"Bearer {token}"} if token else {}),
    })
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:500].decode("utf-8", "replace")
        if 400 <= exc.code < 500 and exc.code not in {408, 429}:
            raise PermanentMessagingError(f"HTTP {exc.code}: {detail}") from exc
        raise MessagingError(f"HTTP {exc.code}: {detail}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise MessagingError(f"cannot reach {url}: {exc}") from exc
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise MessagingError(f"the gateway answered non-JSON: {raw[:200]!r}") from exc
    return data if isinstance(data, dict) else {}

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ..base import BaseBackend, MessagingError, OutboundMessage


class FileBackend(BaseBackend):
    """Appends one JSON line per message to MESSAGING_FILE_PATH (staging, audits)."""

    _lock = threading.Lock()

    def __init__(self, path: str | None = None, **options: Any) -> None:
        super().__init__(**options)
        path = path or getattr(settings, "MESSAGING_FILE_PATH", None)
        if not path:
            raise ImproperlyConfigured("FileBackend needs MESSAGING_FILE_PATH.")
        self.path = Path(path)

    def send(self, message: OutboundMessage) -> str:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock, self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(message.as_dict(), ensure_ascii=False, default=str) + "\n")
        except OSError as exc:
            raise MessagingError(f"cannot write {self.path}: {exc}") from exc
        return ""

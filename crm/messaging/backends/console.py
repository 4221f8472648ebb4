from __future__ import annotations

import sys
import threading
from typing import Any, TextIO

from ..base import BaseBackend, OutboundMessage


class ConsoleBackend(BaseBackend):
    """Prints each message: the development default, nothing leaves the machine."""

    _lock = threading.Lock()

    def __init__(self, stream: TextIO | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.stream = stream or sys.stdout

    def send(self, message: OutboundMessage) -> str:
        with self._lock:
            self.stream.write(f"[{message.channel} -> {message.to}] "
                              f"({message.template_code}) {message.text}\n")
            self.stream.flush()
        return ""

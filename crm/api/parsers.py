"""The API's JSON parser: a body nested too deeply is a 400, not a crash.

Python's json module recurses once per nesting level, so `[[[[...]]]]` a few thousand
levels deep raised RecursionError inside DRF's parser and answered 500 (issue #21).
"""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None,
              parser_context: dict[str, Any] | None = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(_("The JSON body is nested too deeply.")) from exc

"""Safe spreadsheet cells: the one place every CSV / XLSX export passes its values through.

Why: a name such as ``=HYPERLINK(...)`` or ``@SUM(...)`` typed into the CRM would run as a
formula when a colleague opens the export in Excel or WPS (CSV formula injection), and a
control character in a name makes openpyxl refuse the whole workbook. Text starting with a
formula character is prefixed with an apostrophe (Excel shows the text as typed), and
characters that XML cannot hold are dropped. Importers undo the apostrophe
(``unquote_cell``) so an export still re-imports unchanged.
"""
from __future__ import annotations

import re
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
# What openpyxl refuses (openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE), kept here so the CSV
# export drops the same characters as the XLSX one.
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
# "+86 138 0013 8000" or "-12.5": a number, which Excel evaluates harmlessly as a number.
_PLAIN_NUMBER = re.compile(r"[+-][\d\s.()-]*\Z")


def safe_cell(value: Any) -> Any:
    """Text made safe to open in a spreadsheet; numbers, dates and None unchanged."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if value.startswith(FORMULA_START) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def safe_row(row: list[Any]) -> list[Any]:
    return [safe_cell(v) for v in row]


def unquote_cell(value: str) -> str:
    """Undo safe_cell's apostrophe on import (the export's round trip)."""
    if value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value

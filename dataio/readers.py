"""Reading uploaded spreadsheets: .xlsx (openpyxl) and .csv in UTF-8 (with or without a
BOM) or GBK/GB18030, the encodings Excel on Chinese Windows writes.

Everything comes out as (spreadsheet row number, list of cells), the header being row 1,
so error messages point at the row staff see in Excel.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

Cell = str | dt.date | dt.datetime | dt.time | None


@dataclass
class Sheet:
    headers: list[str]
    rows: list[tuple[int, list[Cell]]]
    encoding: str = ""


def decode_csv(data: bytes) -> tuple[str, str]:
    """(text, encoding): a BOM wins; else strict UTF-8; else GB18030 (a superset of GBK)."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                      (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(name), name
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gbk"
    except UnicodeDecodeError as exc:
        raise ValidationError(_("The file is neither UTF-8 nor GBK text; save it again as "
                                "“CSV UTF-8” or as an Excel workbook.")) from exc


def _cell(value: object) -> Cell:
    if value is None or isinstance(value, dt.date | dt.time):
        return value  # type: ignore[return-value]
    if isinstance(value, float) and value.is_integer():
        # Excel stores 13812345678 and 2 (hours) as floats.
        return str(int(value))
    return str(value).strip()


def _non_blank(cells: list[Cell]) -> bool:
    return any(c not in (None, "") for c in cells)


def read_csv(data: bytes) -> Sheet:
    text, encoding = decode_csv(data)
    if "\x00" in text:
        # Not text a person typed (often a binary file renamed .csv); PostgreSQL cannot
        # store it either, so the job would stop half-way (issue #21).
        raise ValidationError(_("The file contains a NUL character, so it is not a CSV text "
                                "file; save it again as “CSV UTF-8” or as an Excel "
                                "workbook."))
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            sample.splitlines()[0] if sample else ",", delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    headers: list[str] = []
    rows: list[tuple[int, list[Cell]]] = []
    for n, raw in enumerate(reader, start=1):
        cells = [_cell(c) for c in raw]
        if not headers:
            if _non_blank(cells):
                headers = [str(c or "") for c in cells]
            continue
        if _non_blank(cells):
            rows.append((n, cells))
    return Sheet(headers=headers, rows=rows, encoding=encoding)


def read_xlsx(data: bytes) -> Sheet:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise ValidationError(_("This Excel file cannot be read (%(error)s).")
                              % {"error": exc.__class__.__name__}) from exc
    ws = wb.worksheets[0]
    headers: list[str] = []
    rows: list[tuple[int, list[Cell]]] = []
    for n, values in enumerate(ws.iter_rows(values_only=True), start=1):
        cells = [_cell(v) for v in values]
        if not headers:
            if _non_blank(cells):
                headers = [str(c or "") for c in cells]
            continue
        if _non_blank(cells):
            rows.append((n, cells))
    wb.close()
    return Sheet(headers=headers, rows=rows, encoding="xlsx")


def read_file(name: str, data: bytes) -> Sheet:
    lower = name.lower()
    if lower.endswith(".xlsx") or data[:2] == b"PK":
        return read_xlsx(data)
    if lower.endswith((".csv", ".txt")):
        return read_csv(data)
    raise ValidationError(_("Upload an Excel workbook (.xlsx) or a CSV file (.csv)."))


def iter_chunks(rows: list, size: int) -> Iterator[list]:
    for i in range(0, len(rows), size):
        yield rows[i:i + size]

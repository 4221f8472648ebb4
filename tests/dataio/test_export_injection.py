"""Issue #21 item 8: exports neutralise formulas and survive control characters."""
from __future__ import annotations

import csv
import io

import pytest

from crm.spreadsheets import safe_cell, unquote_cell
from dataio.exports import export_run
from students.models import Student
from tests.factories import GuardianshipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.dataio.urls")]

EVIL = ["=HYPERLINK(\"http://x\",\"y\")", "+SUM(1,2)", "-2+3+cmd|' /C calc'!A0",
        "@SUM(A1)", "\t=1+1", "\r=1+1"]


def _rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("name", EVIL)
@pytest.mark.parametrize("listname", ["students", "parents", "at_risk"])
def test_csv_exports_never_start_a_cell_with_a_formula(manager_a, branch_a, name, listname):
    g = GuardianshipFactory(student__branch=branch_a, student__name_zh=name,
                            parent__branch=branch_a, parent__name=name,
                            parent__phone="+8613800000001")
    Student.objects.filter(pk=g.student_id).update(period="at_risk")
    result = export_run(actor=manager_a, name=listname, filters={}, fmt="csv")
    rows = _rows(result.content)
    assert len(rows) == 2
    cells = [c for row in rows for c in row]
    assert not [c for c in cells if c[:1] in {"=", "+", "-", "@", "\t", "\r"}]
    assert "'" + name.strip("\t\r") in cells or "'" + name in cells


def test_plain_numbers_and_phones_are_left_alone():
    assert safe_cell("+86 138 0013 8000") == "+86 138 0013 8000"
    assert safe_cell("-12.5") == "-12.5"
    assert safe_cell(-3) == -3
    assert unquote_cell(safe_cell("=1+1")) == "=1+1"


def test_control_character_in_a_name_does_not_break_the_xlsx(client, manager_a, branch_a):
    from openpyxl import load_workbook

    GuardianshipFactory(student__branch=branch_a, student__name_zh="甲\x01乙\x1b",
                        parent__branch=branch_a, parent__name="=父\x07")  # PostgreSQL stores no NUL
    client.force_login(manager_a)
    for listname in ("students", "parents"):
        response = client.get(f"/data/export/download/?list={listname}&format=xlsx")
        assert response.status_code == 200
        ws = load_workbook(io.BytesIO(response.content)).active
        values = [c.value for row in ws.iter_rows(min_row=2) for c in row]
        assert ("甲乙" in values) or ("甲乙" in "".join(str(v) for v in values))
        assert "'=父" in values

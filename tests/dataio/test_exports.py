"""Exports: who may export what, masking, branch scoping, audit, and the round trip."""
from __future__ import annotations

import csv
import io

import pytest
from django.core.exceptions import PermissionDenied

from crm.models import AuditLog
from dataio import exports
from dataio.exports import export_run, import_template
from dataio.models import ImportJob
from parents.models import GuardianConsent, Guardianship, Parent
from students.models import Student
from tests.factories import GuardianshipFactory

from .conftest import csv_bytes
from .test_import_students import ROWS, ZH

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.dataio.urls")]


def _rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.fixture
def families(branch_a, branch_b):
    a = GuardianshipFactory(student__branch=branch_a, student__name_zh="甲",
                            parent__phone="+8613800000001")
    b = GuardianshipFactory(student__branch=branch_b, student__name_zh="乙",
                            parent__phone="+8613800000002")
    return a, b


def test_teacher_cannot_export(client, teacher_a, families):
    client.force_login(teacher_a)
    assert client.get("/data/export/").status_code == 403
    assert client.get("/data/export/download/?list=students").status_code == 403
    assert client.get("/api/v1/exports/students/?fmt=csv").status_code == 403
    with pytest.raises(PermissionDenied):
        export_run(actor=teacher_a, name="students", filters={})


def test_front_desk_exports_its_branch_contact_list_but_not_the_at_risk_list(
        client, front_desk_a, families):
    client.force_login(front_desk_a)
    response = client.get("/data/export/download/?list=students&format=csv")
    assert response.status_code == 200
    rows = _rows(response.content)
    assert [r[1] for r in rows[1:]] == ["甲"]
    assert "13800000001" in rows[1]  # front desk calls families: full number
    assert client.get("/data/export/download/?list=at_risk&format=csv").status_code == 403
    assert client.get("/api/v1/exports/at_risk/").status_code == 403


def test_manager_of_branch_b_cannot_export_branch_a_rows(manager_b, families, branch_a):
    result = export_run(actor=manager_b, name="students", filters={"branch": branch_a.pk},
                        fmt="csv")
    assert result.rows == 0
    result = export_run(actor=manager_b, name="parents", filters={}, fmt="csv")
    assert [r[0] for r in _rows(result.content)[1:]] == [families[1].parent.name]


def test_api_export_is_scoped_too(client, manager_b, families, branch_a):
    client.force_login(manager_b)
    response = client.get(f"/api/v1/exports/students/?fmt=csv&branch={branch_a.pk}")
    assert response.status_code == 200 and len(_rows(response.content)) == 1


def test_phones_are_masked_for_roles_without_contact_rights(manager_a, families, monkeypatch):
    monkeypatch.setattr(exports, "can_see_contact", lambda user: False)
    result = export_run(actor=manager_a, name="students", filters={}, fmt="csv")
    row = _rows(result.content)[1]
    assert "138****0001" in row and "13800000001" not in row
    assert AuditLog.objects.get(action="export").data["contacts_masked"] is True


def test_scores_are_left_out_for_roles_that_may_not_see_them(manager_a, families, monkeypatch):
    monkeypatch.setattr(exports, "can_see_scores", lambda user: False)
    result = export_run(actor=manager_a, name="at_risk", filters={}, fmt="csv")
    headers = _rows(result.content)[0]
    assert "Risk score" not in headers and "Main reasons" not in headers


def test_every_export_is_audited_with_filter_and_row_count(manager_a, families, branch_a):
    export_run(actor=manager_a, name="students", filters={"grade": "S2", "period": ""},
               fmt="xlsx")
    entry = AuditLog.objects.get(action="export")
    assert entry.actor == manager_a and entry.branch == branch_a
    assert entry.data["list"] == "students" and entry.data["rows"] == 1
    assert entry.data["filters"] == {"grade": "S2"} and entry.data["format"] == "xlsx"


def test_xlsx_export_opens(manager_a, families):
    from openpyxl import load_workbook

    result = export_run(actor=manager_a, name="students", filters={}, fmt="xlsx")
    ws = load_workbook(io.BytesIO(result.content)).active
    assert ws.cell(row=2, column=2).value == "甲"


def test_at_risk_list_holds_only_at_risk_students(manager_a, families):
    Student.objects.filter(pk=families[0].student_id).update(period="at_risk")
    result = export_run(actor=manager_a, name="at_risk", filters={}, fmt="csv")
    assert result.rows == 1


def test_export_then_import_gives_identical_data(run_import, manager_a):
    """Round trip: import -> export -> wipe -> import the export -> export again."""
    job = run_import(manager_a, csv_bytes([ZH, *ROWS]), confirm=True)
    assert job.status == ImportJob.Status.DONE
    first = export_run(actor=manager_a, name="students", filters={}, fmt="csv").content
    snapshot = sorted(Student.objects.values_list("name_zh", "grade", "birth_date", "gender",
                                                  "school"))
    GuardianConsent.objects.all().delete()
    Guardianship.objects.all().delete()
    Student.objects.all().delete()
    Parent.objects.all().delete()
    again = run_import(manager_a, first, confirm=True)
    assert again.status == ImportJob.Status.DONE, again.errors
    assert again.summary["counts"]["create"] == 3
    second = export_run(actor=manager_a, name="students", filters={}, fmt="csv").content
    assert _rows(second) == _rows(first)
    assert sorted(Student.objects.values_list("name_zh", "grade", "birth_date", "gender",
                                              "school")) == snapshot


@pytest.mark.parametrize("kind", ["students", "contracts", "attendance", "payments", "exams"])
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_templates_import_as_empty_files(run_import, head_office, kind, fmt):
    template = import_template(kind=kind, fmt=fmt)
    job = run_import(head_office, template.content, kind=kind, name=f"t.{fmt}")
    assert job.error_count == 0 and job.rows_total == 0


def test_template_download_is_per_role(client, front_desk_a):
    client.force_login(front_desk_a)
    assert client.get("/data/templates/students.xlsx").status_code == 200
    assert client.get("/data/templates/contracts.csv").status_code == 403

"""The three doors: browser pages (with the htmx status fragment), API and command."""
from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from crm.models import AuditLog
from dataio.models import ImportJob
from students.models import Student

from .conftest import csv_bytes, xlsx_bytes
from .test_import_students import ROWS, ZH

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.dataio.urls")]


def _upload(data: bytes, name: str = "f.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


@pytest.mark.parametrize("fixture", ["teacher_a", "counselor_a"])
def test_roles_without_import_rights_get_403(client, request, fixture):
    client.force_login(request.getfixturevalue(fixture))
    assert client.get("/data/import/").status_code == 403
    response = client.post("/api/v1/imports/", {"kind": "students",
                                                "file": _upload(csv_bytes([ZH]))})
    assert response.status_code == 403


def test_front_desk_imports_families_but_not_contracts(client, front_desk_a):
    client.force_login(front_desk_a)
    page = client.get("/data/import/")
    assert page.status_code == 200
    assert [v for v, _l in page.context["form"].fields["kind"].choices] == ["students",
                                                                          "prospects"]
    response = client.post("/api/v1/imports/", {"kind": "contracts",
                                                "file": _upload(csv_bytes([ZH]))})
    assert response.status_code == 403


def test_browser_upload_dry_run_confirm_and_result(client, manager_a,
                                                   django_capture_on_commit_callbacks):
    client.force_login(manager_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/data/import/", {
            "kind": "students", "file": _upload(xlsx_bytes([ZH, *ROWS]), "f.xlsx")})
    assert response.status_code == 302
    job = ImportJob.objects.get()
    page = client.get(response["Location"])
    assert "张小明" in page.content.decode() and b'id="job-confirm"' in page.content
    status = client.get(f"/data/import/{job.pk}/status/", HTTP_HX_REQUEST="true")
    assert status["HX-Refresh"] == "true"  # finished: the page reloads to show the preview
    assert not Student.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/data/import/{job.pk}/confirm/")
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and Student.objects.count() == 3
    assert b'id="job-result"' in client.get(f"/data/import/{job.pk}/").content
    assert AuditLog.objects.filter(action="import", object_id=str(job.pk)).exists()


def test_running_job_status_fragment_keeps_polling(client, manager_a):
    client.force_login(manager_a)
    job = ImportJob.objects.create(kind="students", file="imports/x.csv", original_name="x.csv",
                                   status=ImportJob.Status.IMPORTING, rows_total=10,
                                   rows_done=4, created_by=manager_a)
    response = client.get(f"/data/import/{job.pk}/status/", HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 1s"' in response.content.decode() and "40%" in \
        response.content.decode()
    assert "HX-Refresh" not in response


def test_error_report_downloads_as_csv(client, manager_a, run_import):
    job = run_import(manager_a, csv_bytes([ZH, ["", *ROWS[0][1:]]]))
    client.force_login(manager_a)
    body = client.get(f"/data/import/{job.pk}/errors.csv").content.decode("utf-8-sig")
    assert "2,学员姓名,This value is required." in body


def test_another_users_job_is_not_found(client, manager_b, manager_a, run_import):
    job = run_import(manager_a, csv_bytes([ZH, *ROWS]))
    client.force_login(manager_b)
    assert client.get(f"/data/import/{job.pk}/").status_code == 404
    assert client.get(f"/api/v1/imports/{job.pk}/").status_code == 404


def test_api_post_file_get_preview_confirm(client, manager_a,
                                           django_capture_on_commit_callbacks):
    client.force_login(manager_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/imports/", {"kind": "students",
                                                    "file": _upload(csv_bytes([ZH, *ROWS]))})
    assert response.status_code == 202
    job_id = response.json()["id"]
    detail = client.get(f"/api/v1/imports/{job_id}/").json()
    assert detail["status"] == "validated" and detail["summary"]["counts"]["create"] == 3
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/imports/{job_id}/confirm/")
    assert response.status_code == 202
    assert client.get(f"/api/v1/imports/{job_id}/").json()["status"] == "done"
    assert client.post(f"/api/v1/imports/{job_id}/confirm/").status_code == 400


def test_command_is_a_dry_run_unless_commit(tmp_path, manager_a, branch_a):
    path = tmp_path / "families.csv"
    path.write_bytes(csv_bytes([ZH, *ROWS], encoding="gbk"))
    call_command("import_data", str(path), "--kind", "students", "--as", "mgr_a")
    assert not Student.objects.exists()
    call_command("import_data", str(path), "--kind", "students", "--as", "mgr_a", "--commit")
    assert Student.objects.filter(branch=branch_a).count() == 3


def test_command_fails_on_errors(tmp_path, manager_a):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes([ZH, ["", *ROWS[0][1:]]]))
    with pytest.raises(CommandError, match="1 errors"):
        call_command("import_data", str(path), "--kind", "students", "--as", "mgr_a",
                     "--commit")

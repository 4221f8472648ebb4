"""Issue #25 step 5: import the valid rows and get the refused ones back as a file with
the original columns and a reason naming row and column; re-uploading is idempotent;
well-formed numbers outside the known ranges are kept with a note."""
from __future__ import annotations

import csv
import io

import pytest

from dataio import services
from dataio.models import ImportJob
from parents.models import Parent
from students.models import Student

from .conftest import csv_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.dataio.urls")]

HEAD = ["学员姓名", "年级", "出生日期", "家长1姓名", "电话1"]
ROWS = [["韩一", "高一", "2009-01-01", "韩母", "13812340601"],
        ["韩二", "高九", "2009-01-02", "杨母", "13812340602"],  # unknown grade
        ["韩三", "高二", "2008-01-03", "朱母", "12345"],  # not a phone
        ["韩四", "高三", "2007-01-04", "秦母", "19212340604"]]


def test_valid_rows_are_imported_and_the_refused_come_back_as_a_file(
        client, manager_a, run_import, django_capture_on_commit_callbacks):
    job = run_import(manager_a, csv_bytes([HEAD, *ROWS]))
    assert job.error_count == 2 and set(job.refused) == {"3", "4"}
    client.force_login(manager_a)
    page = client.get(f"/data/import/{job.pk}/").content.decode()
    assert 'id="job-confirm-valid"' in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/data/import/{job.pk}/confirm/", {"mode": "valid"})
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.errors
    assert set(Student.objects.values_list("name_zh", flat=True)) == {"韩一", "韩四"}
    response = client.get(f"/data/import/{job.pk}/refused.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [*HEAD, "Reason refused"]
    assert [r[:5] for r in rows[1:]] == [ROWS[1], ROWS[2]]
    assert rows[1][5].startswith("Row 3: 年级:") and "高九" in rows[1][5]
    assert rows[2][5].startswith("Row 4: 电话1:")

    # Fixed and uploaded again together with the rows already in: nothing doubles.
    fixed = [ROWS[0], ["韩二", "高一", "2009-01-02", "杨母", "13812340602"],
             ["韩三", "高二", "2008-01-03", "朱母", "13812340603"], ROWS[3]]
    again = run_import(manager_a, csv_bytes([HEAD, *fixed]), confirm=True)
    assert again.status == ImportJob.Status.DONE, again.errors
    assert again.summary["counts"] == {"create": 2, "update": 0, "match": 2, "error": 0}
    assert Student.objects.count() == 4 and Parent.objects.count() == 4


def test_all_or_nothing_refuses_to_import_a_file_with_errors(run_import, manager_a):
    job = run_import(manager_a, csv_bytes([HEAD, *ROWS]))
    with pytest.raises(Exception, match="errors"):
        services.import_confirm(job=job, actor=manager_a, run_later=False)
    assert not Student.objects.exists()


def test_a_missing_column_cannot_be_imported_partially(run_import, manager_a):
    job = run_import(manager_a, csv_bytes([HEAD[:3], ["韩一", "高一", "2009-01-01"]]))
    with pytest.raises(Exception, match="errors"):
        services.import_confirm(job=job, actor=manager_a, mode="valid", run_later=False)


def test_a_well_formed_number_outside_known_ranges_is_kept_with_a_note(run_import,
                                                                       manager_a):
    # 11 digits starting 15: a mainland mobile's form, but 154 is not an assigned range
    import phonenumbers

    number = phonenumbers.parse("15400012345", "CN")
    assert phonenumbers.is_possible_number(number)
    assert not phonenumbers.is_valid_number(number)
    job = run_import(manager_a, csv_bytes([HEAD, ["韩五", "高一", "2009-01-01", "韩母",
                                                  "15400012345"]]), confirm=True)
    assert job.status == ImportJob.Status.DONE, job.errors
    assert Parent.objects.get().phone == "+8615400012345"
    assert [w["column"] for w in job.summary["warnings"]] == ["电话1"]


def test_the_api_imports_the_valid_rows_too(client, manager_a,
                                            django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(manager_a)
    with django_capture_on_commit_callbacks(execute=True):
        body = client.post("/api/v1/imports/", {
            "kind": "students", "mode": "valid",
            "file": SimpleUploadedFile("f.csv", csv_bytes([HEAD, *ROWS]))}).json()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/imports/{body['id']}/confirm/")
    assert response.status_code == 202
    done = client.get(f"/api/v1/imports/{body['id']}/").json()
    assert done["status"] == "done" and sorted(done["refused"]) == ["3", "4"]
    assert Student.objects.count() == 2

"""Issue #25 step 2: unknown headers are mapped in the page (with a preview of the first
rows), the mapping is saved as a named template of its source system and offered for the
next file of that system."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dataio import services
from dataio.models import ColumnTemplate, ImportJob
from students.models import Student

from .conftest import csv_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.dataio.urls")]

# 学生名 / 监护人手机X / 在读年级 are unknown to the aliases; 备注栏 is to be ignored.
HEAD = ["学生名", "在读年级", "家长1姓名", "监护人手机X", "备注栏"]
ROWS = [["赵一", "高一", "赵父", "13812340201", "老学员"],
        ["赵二", "高二", "钱母", "13812340202", ""]]
MAPPING = {"header_0": "name_zh", "header_1": "grade", "header_2": "parent1_name",
           "header_3": "parent1_phone", "header_4": ""}


def _upload(client, data: bytes, **extra):
    with_kind = {"kind": "students", "file": SimpleUploadedFile("old.csv", data), **extra}
    return client.post("/data/import/", with_kind)


def test_unknown_headers_are_mapped_in_the_page_and_saved_as_a_template(
        client, manager_a, django_capture_on_commit_callbacks):
    client.force_login(manager_a)
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, csv_bytes([HEAD, *ROWS]))
    job = ImportJob.objects.get()
    assert job.error_count  # the required columns are missing
    page = client.get(f"/data/import/{job.pk}/").content.decode()
    assert 'id="job-mapping" open' in page
    assert "监护人手机X" in page and "13812340201" in page  # header and preview row
    cols = job.summary["columns"]
    assert [h["unknown"] for h in cols["headers"]] == [True, True, False, True, True]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/data/import/{job.pk}/mapping/",
                    {**MAPPING, "source_system": "校宝", "template_name": "学员导出"})
    job.refresh_from_db()
    assert job.status == ImportJob.Status.VALIDATED and job.error_count == 0, job.errors
    assert job.summary["counts"]["create"] == 2
    template = ColumnTemplate.objects.get()
    assert (template.kind, template.source_system, template.name) == ("students", "校宝",
                                                                       "学员导出")
    assert template.mapping["学生名"] == "name_zh" and template.mapping["备注栏"] == ""

    # The next file from that system: the template is offered, its choices preselected.
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, csv_bytes([HEAD, ["孙三", "初三", "孙母", "13812340203", ""]]))
    second = ImportJob.objects.latest("pk")
    page = client.get(f"/data/import/{second.pk}/").content.decode()
    assert 'id="job-mapping-suggestion"' in page
    assert '<option value="name_zh" selected>' in page
    # ... or chosen at upload: the file is understood at once.
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, csv_bytes([HEAD, ["孙三", "初三", "孙母", "13812340203", ""]]),
                template=template.pk)
    third = ImportJob.objects.latest("pk")
    assert third.error_count == 0 and third.summary["counts"]["create"] == 1
    assert not Student.objects.exists()  # nothing imported before a confirm


def test_two_headers_mapped_to_one_column_are_refused(client, manager_a,
                                                      django_capture_on_commit_callbacks):
    client.force_login(manager_a)
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, csv_bytes([HEAD, *ROWS]))
    job = ImportJob.objects.get()
    response = client.post(f"/data/import/{job.pk}/mapping/",
                           {**MAPPING, "header_4": "name_zh"}, follow=True)
    assert "学生名" in response.content.decode() and "备注栏" in response.content.decode()
    job.refresh_from_db()
    assert job.mapping == {}


def test_roles_without_the_kind_cannot_map(client, manager_a, front_desk_a, counselor_a,
                                           run_import):
    job = run_import(manager_a, csv_bytes([["合同编号"], ["x"]]), kind="contracts")
    client.force_login(front_desk_a)
    assert client.post(f"/data/import/{job.pk}/mapping/", MAPPING).status_code in (403, 404)
    client.force_login(counselor_a)
    assert client.post(f"/data/import/{job.pk}/mapping/", MAPPING).status_code in (403, 404)
    job.refresh_from_db()
    assert job.mapping == {}


def test_a_template_of_another_kind_is_refused(manager_a):
    template = ColumnTemplate.objects.create(kind="contracts", source_system="x", name="y")
    with pytest.raises(Exception, match="another kind"):
        services.import_job_create(actor=manager_a, kind="students", template=template,
                                   upload=SimpleUploadedFile("a.csv", b"a"), run_later=False)

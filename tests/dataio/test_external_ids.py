"""Issue #25 step 1: the previous system's student number (学员编号) is kept, names the
student in later files and the API; 决策人 / 课程顾问 / 来源渠道 and numbered phone
headers (电话1) are understood."""
from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from dataio.models import ImportJob
from marketing.models import Channel
from students.models import Contract, Student
from tests.factories import CourseFactory, StudentFactory

from .conftest import csv_bytes

pytestmark = pytest.mark.django_db

HEAD = ["学员编号", "学员姓名", "年级", "出生日期", "联系人1", "电话1", "关系1", "决策人",
        "课程顾问", "来源渠道"]


def _rows(counselor: str) -> list[list[str]]:
    return [HEAD,
            ["S0001", "陈一", "高一", "2009-03-01", "陈父", "13812340101", "爸爸", "学生",
             counselor, "转介绍"],
            ["S0002", "陈二", "高二", "2008-03-01", "刘母", "13812340102", "妈妈", "家长",
             "离职的老师", "地推传单"]]


def test_student_number_and_extra_columns_are_kept(run_import, manager_a, counselor_a,
                                                   branch_a):
    Channel.objects.get_or_create(code="referral-x", defaults={"name_zh": "转介绍",
                                                                 "name_en": "Referral"})
    job = run_import(manager_a, csv_bytes(_rows(counselor_a.username)), confirm=True)
    assert job.status == ImportJob.Status.DONE, job.errors
    one = Student.objects.get(external_id="S0001")
    assert one.branch == branch_a and one.name_zh == "陈一"
    assert one.decision_style == "student_led" and one.counselor == counselor_a
    assert one.source.name_zh == "转介绍"
    two = Student.objects.get(external_id="S0002")
    assert two.decision_style == "parent_led" and two.counselor is None
    assert two.source is None and two.source_detail == "地推传单"
    # the unknown counselor and channel are kept with a note naming row and column
    notes = {(w["row"], w["column"]) for w in job.summary["warnings"]}
    assert notes == {(3, "课程顾问"), (3, "来源渠道")}
    assert two.guardianships.get().parent.phone == "+8613812340102"


def test_reimport_matches_by_student_number(run_import, manager_a, counselor_a):
    run_import(manager_a, csv_bytes(_rows(counselor_a.username)), confirm=True)
    rows = _rows(counselor_a.username)
    rows[1][3] = ""  # no birth date this time: the number still finds the student
    rows[1][2] = "高二"
    again = run_import(manager_a, csv_bytes(rows), confirm=True)
    assert again.summary["counts"]["create"] == 0, again.summary
    assert Student.objects.count() == 2
    assert Student.objects.get(external_id="S0001").grade == "S2"


def test_a_number_given_to_another_name_is_refused(run_import, manager_a, branch_a):
    StudentFactory(branch=branch_a, external_id="S0001", name_zh="别人")
    job = run_import(manager_a, csv_bytes(_rows("")[:2]))
    assert [(e["column"], e["row"]) for e in job.errors] == [("学员编号", 2)]
    assert "别人" in job.errors[0]["reason"]


def test_number_is_unique_per_branch_only(branch_a, branch_b):
    StudentFactory(branch=branch_a, external_id="S9")
    StudentFactory(branch=branch_b, external_id="S9")
    StudentFactory(branch=branch_a, external_id="")
    StudentFactory(branch=branch_a, external_id="")
    with pytest.raises(IntegrityError), transaction.atomic():
        StudentFactory(branch=branch_a, external_id="S9")


def test_contracts_name_the_student_by_number_only(run_import, manager_a, counselor_a):
    run_import(manager_a, csv_bytes(_rows(counselor_a.username)), confirm=True)
    CourseFactory(code="math-s1", name="高一数学")
    head = ["合同编号", "学员编号", "课程", "购买课时", "金额", "签约日期", "有效期至"]
    job = run_import(manager_a, csv_bytes([
        head, ["HT-9", "S0002", "高一数学", "20", "4000", "2024-09-01", "2025-08-31"],
        ["HT-10", "S404", "高一数学", "20", "4000", "2024-09-01", "2025-08-31"]]),
        kind="contracts")
    assert [(e["row"], e["column"]) for e in job.errors] == [(3, "学员编号")]
    assert "S404" in job.errors[0]["reason"]
    ok = run_import(manager_a, csv_bytes([head, [
        "HT-9", "S0002", "高一数学", "20", "4000", "2024-09-01", "2025-08-31"]]),
        kind="contracts", confirm=True)
    assert ok.status == ImportJob.Status.DONE, ok.errors
    assert Contract.objects.get(contract_no="HT-9").student.external_id == "S0002"


def test_a_file_without_number_nor_name_and_phone_is_refused(run_import, manager_a):
    head = ["合同编号", "学员姓名", "课程", "购买课时", "金额", "签约日期", "有效期至"]
    job = run_import(manager_a, csv_bytes([head, ["HT-1", "陈一", "x", "1", "1", "2024-09-01",
                                                  "2025-01-01"]]), kind="contracts")
    assert [e["row"] for e in job.errors] == [1]
    assert "学员编号" in job.errors[0]["reason"]


def test_api_exposes_and_filters_the_student_number(client, manager_a, manager_b, branch_a,
                                                    branch_b):
    mine = StudentFactory(branch=branch_a, external_id="S77")
    StudentFactory(branch=branch_b, external_id="S77")
    client.force_login(manager_a)
    body = client.get("/api/v1/students/", {"external_id": "S77"}).json()
    assert [s["id"] for s in body["results"]] == [mine.pk]
    assert body["results"][0]["external_id"] == "S77"
    # writing a number another student of the branch holds is a 400 naming the field
    other = StudentFactory(branch=branch_a)
    resp = client.patch(f"/api/v1/students/{other.pk}/", {"external_id": "S77"},
                        content_type="application/json")
    assert resp.status_code == 400

"""Students + parents import: layouts, encodings, headers, dry run, errors, idempotence,
all-or-nothing confirm and the job's progress."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from dataio import parsing
from dataio.models import ImportJob
from parents.models import GuardianConsent, Guardianship, Parent
from students.models import Student
from tests.factories import (
    BranchFactory,
    GuardianshipFactory,
    ParentFactory,
    StudentFactory,
)

from .conftest import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

ZH = ["学员姓名", "年级", "出生日期", "性别", "学校", "家长1姓名", "家长1电话", "家长1关系",
      "家长2姓名", "家长2电话", "家长2关系", "监护人同意", "同意方式"]
ROWS = [
    ["张小明", "高一", "2009-03-01", "男", "杭州二中", "张伟", "13812340001", "爸爸", "李娜",
     "138 1234 0002", "妈妈", "", ""],
    ["王小红", "初一", "2013-05-01", "女", "", "王芳", "13812340003", "妈妈", "", "", "", "是",
     "纸质"],
    ["王小刚", "小学三年级", "", "男", "", "王芳", "+86 138 1234 0003", "母亲", "", "", "", "是",
     "录音电话"],
]


def _summary(job: ImportJob) -> dict[str, int]:
    return job.summary["counts"]


def test_dry_run_shows_the_plan_and_writes_nothing(run_import, manager_a):
    job = run_import(manager_a, csv_bytes([ZH, *ROWS]))
    assert job.status == ImportJob.Status.VALIDATED
    assert job.error_count == 0
    assert _summary(job) == {"create": 3, "update": 0, "match": 0, "error": 0}
    assert [r["row"] for r in job.summary["rows"]] == [2, 3, 4]
    assert "张小明" in job.summary["rows"][0]["text"]
    assert not Student.objects.exists() and not Parent.objects.exists()


def test_confirmed_import_creates_families_guardians_and_consents(run_import, manager_a,
                                                                  branch_a):
    job = run_import(manager_a, csv_bytes([ZH, *ROWS]), confirm=True)
    assert job.status == ImportJob.Status.DONE
    assert Student.objects.filter(branch=branch_a).count() == 3
    assert Parent.objects.count() == 3  # 王芳 is one parent of two siblings
    wang = Parent.objects.get(phone="+8613812340003")
    assert sorted(wang.students.values_list("name_zh", flat=True)) == ["王小刚", "王小红"]
    ming = Student.objects.get(name_zh="张小明")
    assert ming.grade == "S1" and ming.gender == "m" and ming.name_pinyin == "zhangxiaoming"
    assert Guardianship.objects.get(student=ming, is_primary_contact=True).parent.name == "张伟"
    # under-14s got their consent record; the 16-year-old needed none
    assert GuardianConsent.objects.filter(student__name_zh="王小红", method="paper").exists()
    assert not GuardianConsent.objects.filter(student=ming).exists()
    assert ming.history.count() == 1


def test_reimporting_the_same_file_creates_nothing(run_import, manager_a):
    run_import(manager_a, csv_bytes([ZH, *ROWS]), confirm=True)
    before = (Student.objects.count(), Parent.objects.count(), Guardianship.objects.count(),
              GuardianConsent.objects.count())
    job = run_import(manager_a, csv_bytes([ZH, *ROWS]), confirm=True)
    assert _summary(job) == {"create": 0, "update": 0, "match": 3, "error": 0}
    assert job.summary["written"]["students_created"] == 0
    assert (Student.objects.count(), Parent.objects.count(), Guardianship.objects.count(),
            GuardianConsent.objects.count()) == before


def test_an_existing_family_is_matched_by_phone_and_the_new_child_linked(run_import,
                                                                         manager_a, branch_a):
    parent = ParentFactory(branch=branch_a, name="王芳", phone="+8613812340003")
    job = run_import(manager_a, csv_bytes([ZH, ROWS[1]]), confirm=True)
    assert "existing family" in job.summary["rows"][0]["text"]
    assert Parent.objects.count() == 1
    assert list(parent.students.values_list("name_zh", flat=True)) == ["王小红"]


def test_changed_fields_of_a_matched_student_are_an_update(run_import, manager_a):
    run_import(manager_a, csv_bytes([ZH, *ROWS]), confirm=True)
    changed = [[*ROWS[0][:4], "学军中学", *ROWS[0][5:]]]
    job = run_import(manager_a, csv_bytes([ZH, *changed]), confirm=True)
    assert _summary(job)["update"] == 1
    assert Student.objects.get(name_zh="张小明").school == "学军中学"


def test_gbk_csv_is_read(run_import, manager_a):
    job = run_import(manager_a, csv_bytes([ZH, *ROWS], encoding="gbk"))
    assert job.error_count == 0 and job.summary["encoding"] == "gbk"
    assert "张小明" in job.summary["rows"][0]["text"]


def test_utf8_without_bom_is_read(run_import, manager_a):
    job = run_import(manager_a, csv_bytes([ZH, *ROWS], encoding="utf-8"))
    assert job.error_count == 0 and job.summary["encoding"] == "utf-8"


def test_xlsx_with_english_headers_and_one_row_per_parent(run_import, manager_a):
    """The long layout: two rows of the same child with different parents make one student."""
    rows = [["Student name", "Grade", "Birth date", "Parent name", "Parent phone",
             "Parent relation", "Guardian consent", "Consent method"],
            ["李雷", "Senior 1", dt.datetime(2009, 1, 2), "李父", 13900000001, "father", "", ""],
            ["李雷", "S1", dt.datetime(2009, 1, 2), "李母", "13900000002", "mother", "", ""],
            ["韩梅梅", "初一", "2013/4/5", "韩母", "13900000003", "妈妈", "yes", "esign"]]
    job = run_import(manager_a, xlsx_bytes(rows), name="f.xlsx", confirm=True)
    assert job.summary["layout"] == "long"
    assert job.status == ImportJob.Status.DONE, job.errors
    li = Student.objects.get(name_zh="李雷")
    assert li.grade == "S1" and li.birth_date == dt.date(2009, 1, 2)
    assert sorted(li.parents.values_list("name", flat=True)) == ["李母", "李父"]
    assert Student.objects.count() == 2


@pytest.mark.parametrize("value", ["高一", "高1", "S1", "s1", "Senior 1", "高中一年级",
                                   "Grade 10", "十年级"])
def test_grade_spellings_are_accepted(value):
    assert parsing.grade(value) == "S1"


def _one_error(run_import, user, header, row):
    job = run_import(user, csv_bytes([header, row]))
    assert job.error_count >= 1, job.summary
    return job.errors


BASE = ["张三", "高一", "2009-01-01", "男", "", "张父", "13812345678", "父亲", "", "", "", "", ""]


@pytest.mark.parametrize(("column", "value", "reason"), [
    ("家长1电话", "12345", "not a valid mainland mobile number"),
    ("年级", "高五", "Unknown grade “高五”"),
    ("出生日期", "2999-01-01", "is in the future"),
    ("出生日期", "昨天", "is not a date"),
    ("学员姓名", "", "This value is required."),
    ("家长1姓名", "", "This value is required."),
    ("性别", "X", "Unknown gender “X”"),
    ("家长1关系", "邻居", "Unknown relation “邻居”"),
])
def test_each_bad_cell_is_reported_with_row_column_and_reason(run_import, manager_a, column,
                                                              value, reason):
    row = list(BASE)
    row[ZH.index(column)] = value
    errors = _one_error(run_import, manager_a, ZH, row)
    assert {"row": 2, "column": column} == {k: errors[0][k] for k in ("row", "column")}
    assert reason in errors[0]["reason"]


def test_duplicate_rows_within_the_file_are_errors(run_import, manager_a):
    job = run_import(manager_a, csv_bytes([ZH, BASE, BASE]))
    assert job.errors == [{"row": 3, "column": "学员姓名", "reason": "Duplicate of row 2."}]


def test_siblings_sharing_a_phone_under_two_names_get_one_guardian_and_a_note(run_import,
                                                                             manager_a):
    other = ["李四", "高二", "2008-01-01", "男", "", "李父", "13812345678", "父亲", "", "", "",
             "", ""]
    job = run_import(manager_a, csv_bytes([ZH, BASE, other]), confirm=True)
    assert job.status == ImportJob.Status.DONE, job.errors
    note = job.summary["warnings"][0]
    assert (note["row"], note["column"]) == (3, "家长1姓名")
    assert "given for 张父 in row 2" in note["reason"]
    parent = Parent.objects.get()
    assert parent.name == "张父" and parent.students.count() == 2


def test_unknown_branch_is_an_error(run_import, head_office, branch_a):
    job = run_import(head_office, csv_bytes([["校区", *ZH], ["nowhere", *BASE],
                                            ["a", *BASE[:6], "13812345679", *BASE[7:]]]))
    assert job.errors == [{"row": 2, "column": "校区", "reason": "Unknown branch “nowhere”."}]


def test_another_branch_is_refused_for_a_branch_manager(run_import, manager_a, branch_b):
    job = run_import(manager_a, csv_bytes([["校区", *ZH], ["b", *BASE]]))
    assert job.errors[0]["column"] == "校区"
    assert "may not import into branch" in job.errors[0]["reason"]


def test_under_14_without_consent_is_refused_by_the_model_rule(run_import, manager_a):
    row = ["小小", "初一", (timezone.localdate() - dt.timedelta(days=12 * 365)).isoformat(),
           "女", "", "小母", "13812345670", "妈妈", "", "", "", "", ""]
    job = run_import(manager_a, csv_bytes([ZH, row]))
    assert job.errors == [{"row": 2, "column": "监护人同意", "reason":
                           "小小 is under 14: record a guardian's consent before saving the "
                           "student's data."}]
    row[-2] = "是"
    job = run_import(manager_a, csv_bytes([ZH, row]))
    assert job.errors[0]["column"] == "同意方式"


def test_missing_required_column_is_one_file_error(run_import, manager_a):
    job = run_import(manager_a, csv_bytes([["学员姓名", "家长1姓名", "家长1电话"],
                                           ["张三", "张父", "13812345678"]]))
    assert job.errors[0]["row"] == 1 and "Required column is missing" in job.errors[0]["reason"]


def test_a_parent_phone_registered_under_another_name_links_that_guardian_with_a_note(
        run_import, manager_a, branch_a):
    known = ParentFactory(branch=branch_a, name="别人", phone="+8613812345678")
    job = run_import(manager_a, csv_bytes([ZH, BASE]), confirm=True)
    assert job.status == ImportJob.Status.DONE, job.errors
    assert job.summary["warnings"][0]["column"] == "家长1姓名"
    assert "registered to 别人, not 张父" in job.summary["warnings"][0]["reason"]
    assert Guardianship.objects.get().parent == known and Parent.objects.count() == 1


def test_confirm_is_all_or_nothing_when_data_changed_since_the_dry_run(run_import, manager_a,
                                                                      branch_a,
                                                                      django_capture_on_commit_callbacks):
    from dataio import services

    job = run_import(manager_a, csv_bytes([ZH, *ROWS]))
    assert job.error_count == 0
    # Someone registers row 2's student at another branch before the import is confirmed.
    GuardianshipFactory(student__branch=BranchFactory(), student__name_zh="张小明",
                        student__birth_date=dt.date(2009, 3, 1), parent__name="张伟",
                        parent__phone="+8613812340001")
    with django_capture_on_commit_callbacks(execute=True):
        services.import_confirm(job=job, actor=manager_a)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.summary["changed_since_dry_run"] is True
    assert {e["row"] for e in job.errors} == {2}
    assert Student.objects.count() == 1  # only the other branch's: rows 3-4 not imported
    assert Parent.objects.count() == 1


def test_confirm_twice_imports_once(run_import, manager_a, django_capture_on_commit_callbacks):
    from django.core.exceptions import ValidationError

    from dataio import services

    job = run_import(manager_a, csv_bytes([ZH, *ROWS]), confirm=True)
    with pytest.raises(ValidationError):
        services.import_confirm(job=job, actor=manager_a)
    assert services.import_commit(job_id=job.pk).status == ImportJob.Status.DONE
    assert Student.objects.count() == 3


def test_a_job_with_errors_cannot_be_confirmed(run_import, manager_a):
    from django.core.exceptions import ValidationError

    from dataio import services

    job = run_import(manager_a, csv_bytes([ZH, ["", *BASE[1:]]]))
    with pytest.raises(ValidationError, match="nothing is imported"):
        services.import_confirm(job=job, actor=manager_a)


def test_a_large_file_runs_through_the_task_with_progress(run_import, manager_a):
    rows = [ZH] + [[f"学员{i}", "高二", "2008-02-03", "女", "", f"家长{i}",
                    f"139{i:08d}", "妈妈", "", "", "", "", ""] for i in range(3000)]
    job = run_import(manager_a, csv_bytes(rows), confirm=True)
    assert job.status == ImportJob.Status.DONE
    assert job.rows_total == 3000 and job.rows_done == 3000 and job.percent == 100
    assert Student.objects.count() == 3000 and Guardianship.objects.count() == 3000


def test_existing_student_of_the_family_is_matched_not_duplicated(run_import, manager_a,
                                                                 branch_a):
    g = GuardianshipFactory(student=StudentFactory(branch=branch_a, name_zh="张三",
                                                   birth_date=dt.date(2009, 1, 1), grade="S1"),
                            parent__name="张父", parent__phone="+8613812345678")
    job = run_import(manager_a, csv_bytes([ZH, BASE]), confirm=True)
    assert job.summary["counts"]["create"] == 0  # an update: the file adds the gender
    assert Student.objects.get() == g.student
    assert g.student.guardianships.count() == 1

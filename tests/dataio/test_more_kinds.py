"""Issue #25 step 3: every kind an old system exports: opening balances as of a date,
attendance without class or time (placeholder class, optional consumption), visits with
satisfaction, complaints, exam subjects mapped in the page, prospects."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from dataio import services
from dataio.models import ImportJob
from marketing.models import Prospect
from students.models import (
    Attendance,
    ClassGroup,
    Complaint,
    Contract,
    Interaction,
    LedgerEntry,
    SatisfactionSurvey,
)
from tests.factories import CourseFactory, GuardianshipFactory

from .conftest import csv_bytes

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def D(days: int) -> str:
    return (TODAY - dt.timedelta(days=days)).isoformat()


@pytest.fixture
def family(branch_a):
    g = GuardianshipFactory(student__branch=branch_a, student__name_zh="周一",
                            student__external_id="X1", parent__phone="+8613812340301",
                            is_primary_contact=True)
    return g


@pytest.fixture
def contract(run_import, manager_a, family):
    CourseFactory(code="eng-s1", name="高一英语")
    head = ["合同编号", "学员编号", "课程", "购买课时", "剩余课时", "余额日期", "金额",
            "签约日期", "生效日期", "有效期至"]
    job = run_import(manager_a, csv_bytes([head, ["C-1", "X1", "高一英语", "40", "10",
                                                  D(30), "8000", D(200), D(200),
                                                  (TODAY + dt.timedelta(days=100)).isoformat()]]),
                     kind="contracts", confirm=True)
    assert job.status == ImportJob.Status.DONE, job.errors
    return Contract.objects.get(contract_no="C-1")


def test_hours_left_become_one_opening_entry_as_of_the_date(contract):
    entry = contract.ledger.get()
    assert entry.kind == LedgerEntry.Kind.OPENING and entry.hours == 10
    assert timezone.localdate(entry.occurred_at) == TODAY - dt.timedelta(days=30)


def test_attendance_without_class_or_time_goes_to_a_placeholder_and_may_consume(
        run_import, manager_a, contract):
    head = ["学员编号", "上课日期", "考勤状态", "课时"]
    rows = [head, ["X1", D(40), "出勤", "2"], ["X1", D(10), "出勤", "2"],
            ["X1", D(5), "请假", "2"], ["X1", D(3), "迟到", "1.5"]]
    job = run_import(manager_a, csv_bytes(rows), kind="attendance")
    assert job.error_count == 0, job.errors
    # the option is chosen at upload (the page's checkbox); set on the job here
    job.options = {"consumes": True}
    job.save(update_fields=["options"])
    services.import_confirm(job=job, actor=manager_a, run_later=False)
    job = services.import_commit(job_id=job.pk)
    assert job.status == ImportJob.Status.DONE, job.errors
    group = ClassGroup.objects.get()
    assert group.course == contract.course and "高一英语" in group.name
    assert Attendance.objects.filter(session__class_group=group).count() == 4
    # the lesson 40 days ago is inside the opening balance (as of 30 days ago): not charged;
    # the leave draws nothing; 2 + 1.5 hours after the opening date are charged
    consumed = contract.ledger.filter(kind=LedgerEntry.Kind.CONSUMED)
    assert consumed.aggregate(t=Sum("hours"))["t"] == Decimal("-3.5")
    assert contract.ledger.aggregate(t=Sum("hours"))["t"] == Decimal("6.5")
    again = run_import(manager_a, csv_bytes(rows), kind="attendance")
    assert again.summary["counts"]["match"] == 4


def test_attendance_without_the_option_draws_nothing(run_import, manager_a, contract):
    rows = [["学员编号", "上课日期", "考勤状态"], ["X1", D(10), "出勤"]]
    job = run_import(manager_a, csv_bytes(rows), kind="attendance", confirm=True)
    assert job.status == ImportJob.Status.DONE, job.errors
    assert not contract.ledger.filter(kind=LedgerEntry.Kind.CONSUMED).exists()


def test_visits_with_satisfaction_record_a_survey_with_the_guardian(run_import, manager_a,
                                                                    family):
    head = ["学员编号", "回访日期", "回访方式", "回访对象", "回访内容", "满意度", "回访人"]
    rows = [head, ["X1", D(20), "电话", "家长", "对老师满意", "非常满意", "nobody"],
            ["X1", D(10), "微信", "学员", "作业太多", "2", ""]]
    job = run_import(manager_a, csv_bytes(rows), kind="interactions", confirm=True)
    assert job.status == ImportJob.Status.DONE, job.errors
    first = Interaction.objects.get(channel="call")
    assert first.parent == family.parent and first.sentiment == "positive"
    assert Interaction.objects.get(channel="wechat").with_whom == "student"
    assert sorted(SatisfactionSurvey.objects.values_list("overall", flat=True)) == [2, 5]
    assert [w["column"] for w in job.summary["warnings"]] == ["回访人"]
    again = run_import(manager_a, csv_bytes(rows), kind="interactions", confirm=True)
    assert again.summary["counts"]["match"] == 2 and Interaction.objects.count() == 2


def test_complaints_keep_status_and_resolution(run_import, manager_a, family):
    head = ["学员编号", "投诉日期", "投诉类型", "投诉内容", "处理结果", "解决日期"]
    rows = [head, ["X1", D(50), "老师", "老师迟到", "已更换老师", D(45)],
            ["X1", D(5), "停车", "没有停车位", "", ""]]
    job = run_import(manager_a, csv_bytes(rows), kind="complaints", confirm=True)
    assert job.status == ImportJob.Status.DONE, job.errors
    done = Complaint.objects.get(category="teacher")
    assert done.status == "resolved" and done.resolution == "已更换老师"
    assert done.parent == family.parent
    other = Complaint.objects.get(category="other")
    assert other.status == "open" and other.resolved_at is None
    assert [(w["row"], w["column"]) for w in job.summary["warnings"]] == [(3, "投诉类型")]


def test_unknown_subjects_are_mapped_in_the_page(run_import, manager_a, family):
    head = ["学员编号", "考试", "科目", "分数", "日期"]
    rows = [head, ["X1", "期中", "奥数", "88", D(30)], ["X1", "期中", "数学", "90", D(30)]]
    job = run_import(manager_a, csv_bytes(rows), kind="exams")
    assert job.summary["unknown_values"] == {"subject": ["奥数"]}
    assert [(e["row"], e["column"]) for e in job.errors] == [(2, "科目")]
    services.import_job_values(job=job, actor=manager_a, column="subject",
                               values={"奥数": "other"})
    services.import_validate(job_id=job.pk)
    job.refresh_from_db()
    assert job.error_count == 0, job.errors
    assert job.summary["counts"]["create"] == 2
    with pytest.raises(Exception, match="listed"):
        services.import_job_values(job=job, actor=manager_a, column="subject",
                                   values={"奥数": "astrology"})


def test_prospects_become_leads_with_urgency(run_import, front_desk_a, branch_a):
    head = ["学员姓名", "年级", "出生日期", "家长姓名", "家长电话", "意向程度", "来源渠道"]
    rows = [head, ["吴一", "高二", "2008-01-01", "吴母", "13812340401", "高", "地推"]]
    job = run_import(front_desk_a, csv_bytes(rows), kind="prospects", confirm=True)
    assert job.status == ImportJob.Status.DONE, job.errors
    lead = Prospect.objects.get()
    assert lead.student.name_zh == "吴一" and lead.urgency == "high"
    assert lead.pool == "public" and lead.student.branch == branch_a
    again = run_import(front_desk_a, csv_bytes(rows), kind="prospects", confirm=True)
    assert again.status == ImportJob.Status.DONE and Prospect.objects.count() == 1

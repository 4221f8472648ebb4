"""Contracts (opening balances), payments, exam scores and attendance history."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum

from dataio.models import ImportJob
from students.models import Attendance, ClassSession, Contract, ExamScore, LedgerEntry, Payment
from tests.factories import ClassGroupFactory, CourseFactory, GuardianshipFactory

from .conftest import csv_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(branch_a):
    return GuardianshipFactory(student__branch=branch_a, student__name_zh="张三",
                               parent__phone="+8613812345678")


CONTRACT_HEAD = ["合同编号", "学员姓名", "家长电话", "课程", "购买课时", "剩余课时", "金额",
                 "签约日期", "有效期至"]


def test_opening_balance_becomes_contract_purchase_and_consumption(run_import, manager_a,
                                                                   family):
    CourseFactory(code="math-s1", name="高一数学")
    row = ["HT-001", "张三", "138 1234 5678", "math-s1", "40", "12.5", "8000", "2024-09-01",
           "2026-08-31"]
    job = run_import(manager_a, csv_bytes([CONTRACT_HEAD, row]), kind="contracts",
                     confirm=True)
    assert job.status == ImportJob.Status.DONE, job.errors
    c = Contract.objects.get(contract_no="HT-001")
    assert c.student == family.student and c.hours_purchased == 40
    assert c.ledger.aggregate(t=Sum("hours"))["t"] == Decimal("12.5")
    # one opening entry: no made-up purchases and lessons at import time
    assert list(c.ledger.values_list("kind", flat=True)) == ["opening"]
    again = run_import(manager_a, csv_bytes([CONTRACT_HEAD, row]), kind="contracts",
                       confirm=True)
    assert again.summary["counts"]["match"] == 1 and Contract.objects.count() == 1
    assert LedgerEntry.objects.count() == 1


def test_contract_errors_name_the_column(run_import, manager_a, family):
    rows = [CONTRACT_HEAD,
            ["HT-1", "张三", "13812345678", "no-such", "40", "", "8000", "2024-09-01",
             "2025-08-31"],
            ["HT-2", "李四", "13812345678", "x", "40", "", "8000", "2024-09-01", "2025-08-31"],
            ["HT-3", "张三", "13812345678", "x", "40", "50", "8000", "2024-09-01", "2025-08-31"]]
    CourseFactory(code="x")
    job = run_import(manager_a, csv_bytes(rows), kind="contracts")
    by_row = {e["row"]: e for e in job.errors}
    assert by_row[2]["column"] == "课程" and "Unknown course" in by_row[2]["reason"]
    assert by_row[3]["column"] == "学员姓名" and "No student named 李四" in by_row[3]["reason"]
    assert by_row[4]["column"] == "剩余课时"


def test_prepayment_caps_apply_to_imports_too(run_import, manager_a, family, branch_a):
    from students.models import ContractPolicy

    ContractPolicy.objects.create(branch=branch_a, max_prepaid_hours=Decimal("60"))
    CourseFactory(code="x")
    row = ["HT-9", "张三", "13812345678", "x", "80", "", "8000", "2024-09-01", "2024-11-30"]
    job = run_import(manager_a, csv_bytes([CONTRACT_HEAD, row]), kind="contracts")
    assert "prepayment cap is 60" in job.errors[0]["reason"]


def test_payments_are_matched_by_reference(run_import, manager_a, family):
    CourseFactory(code="x")
    run_import(manager_a, csv_bytes([CONTRACT_HEAD, ["HT-1", "张三", "13812345678", "x", "40",
                                                     "", "8000", "2024-09-01", "2025-08-31"]]),
               kind="contracts", confirm=True)
    rows = [["合同编号", "金额", "支付方式", "支付日期", "流水号"],
            ["HT-1", "4000", "微信", "2024-09-01", "WX1"],
            ["HT-1", "4000", "支付宝", "2024-10-01", "ZFB1"]]
    job = run_import(manager_a, csv_bytes(rows), kind="payments", confirm=True)
    assert job.status == ImportJob.Status.DONE and Payment.objects.count() == 2
    again = run_import(manager_a, csv_bytes(rows), kind="payments", confirm=True)
    assert again.summary["counts"]["match"] == 2 and Payment.objects.count() == 2


def test_exam_scores_import_once(run_import, manager_a, family):
    rows = [["学员姓名", "家长电话", "考试", "科目", "分数", "满分", "日期"],
            ["张三", "13812345678", "期中考试", "数学", "128", "150", "2024-11-10"],
            ["张三", "13812345678", "期中考试", "英语", "160", "150", "2024-11-10"]]
    job = run_import(manager_a, csv_bytes(rows), kind="exams")
    assert job.errors[0]["row"] == 3 and "between 0 and the full marks" in job.errors[0]["reason"]
    job = run_import(manager_a, csv_bytes(rows[:2]), kind="exams", confirm=True)
    assert ExamScore.objects.get().score == Decimal("128")
    assert run_import(manager_a, csv_bytes(rows[:2]), kind="exams",
                      confirm=True).summary["counts"]["match"] == 1


def test_attendance_history_creates_sessions_without_drawing_hours(run_import, manager_a,
                                                                  family, branch_a):
    ClassGroupFactory(branch=branch_a, name="高一数学A班")
    rows = [["班级", "日期", "开始时间", "结束时间", "学员姓名", "家长电话", "出勤"],
            ["高一数学A班", "2024-10-01", "18:00", "20:00", "张三", "13812345678", "出勤"],
            ["高一数学A班", "2024-10-08", "18:00", "20:00", "张三", "13812345678", "请假"]]
    job = run_import(manager_a, csv_bytes(rows), kind="attendance", confirm=True)
    assert job.status == ImportJob.Status.DONE, job.errors
    assert ClassSession.objects.count() == 2
    assert sorted(Attendance.objects.values_list("status", flat=True)) == ["attended", "leave"]
    assert not LedgerEntry.objects.exists()
    assert run_import(manager_a, csv_bytes(rows), kind="attendance",
                      confirm=True).summary["counts"]["match"] == 2
    assert Attendance.objects.count() == 2 and ClassSession.objects.count() == 2


def test_future_attendance_is_refused(run_import, manager_a, family, branch_a):
    ClassGroupFactory(branch=branch_a, name="A班")
    day = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    rows = [["班级", "日期", "开始时间", "学员姓名", "家长电话", "出勤"],
            ["A班", day, "18:00", "张三", "13812345678", "出勤"]]
    job = run_import(manager_a, csv_bytes(rows), kind="attendance")
    assert job.errors[0]["column"] == "日期" and "in the future" in job.errors[0]["reason"]

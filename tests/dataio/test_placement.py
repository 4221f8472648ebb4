"""Issue #25 step 4: imported accounts start in the period their records imply, through
an `import` transition; the old system's leaving status places former customers in
termination or lapsed on the leaving date, with the reason."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from dataio.models import ImportJob
from lifecycle.models import Transition, Trigger
from lifecycle.services import account_transition
from students.models import Student
from tests.factories import CourseFactory

from .conftest import csv_bytes

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def day(n: int) -> str:
    return (TODAY + dt.timedelta(days=n)).isoformat()


STUDENTS = [["学员编号", "学员姓名", "年级", "出生日期", "家长1姓名", "家长1电话", "学员状态",
             "退学日期", "退学原因"],
            ["P1", "冯一", "高二", "2008-01-01", "冯母", "13812340501", "在读", "", ""],
            ["P2", "冯二", "高二", "2008-02-01", "陈母", "13812340502", "在读", "", ""],
            ["P3", "冯三", "高三", "2007-02-01", "卫母", "13812340503", "退学", day(-40),
             "成绩没有提高"],
            ["P4", "冯四", "高三", "2007-03-01", "蒋母", "13812340504", "休学", day(-70), ""],
            ["P5", "冯五", "高三", "2007-04-01", "沈母", "13812340505", "在读", "", ""]]


@pytest.fixture
def imported(run_import, manager_a):
    job = run_import(manager_a, csv_bytes(STUDENTS), confirm=True)
    assert job.status == ImportJob.Status.DONE, job.errors
    return job


def test_leaving_status_places_former_customers_on_the_leaving_date(imported):
    dropped = Student.objects.get(external_id="P3")
    assert dropped.period == "termination"
    assert timezone.localdate(dropped.period_since) == TODAY - dt.timedelta(days=40)
    t = Transition.objects.get(student=dropped)
    assert t.trigger == Trigger.IMPORT and t.from_period == "prospecting"
    assert "成绩没有提高" in t.reason and t.evidence["status"] == "dropped"
    assert Student.objects.get(external_id="P4").period == "lapsed"
    # active students without contracts yet stay prospects, with no transition
    assert Student.objects.get(external_id="P1").period == "prospecting"
    assert imported.summary["written"]["accounts_placed"] == 2


def test_a_leaver_needs_the_leaving_date(run_import, manager_a):
    rows = [STUDENTS[0], [*STUDENTS[3][:7], "", ""]]
    job = run_import(manager_a, csv_bytes(rows))
    assert [(e["row"], e["column"]) for e in job.errors] == [(2, "退学日期")]


def test_contracts_and_payments_place_customers_by_tenure_and_renewals(run_import,
                                                                      manager_a, imported):
    CourseFactory(code="m", name="数学")
    head = ["合同编号", "学员编号", "课程", "购买课时", "剩余课时", "金额", "签约日期",
            "生效日期", "有效期至"]
    rows = [head,
            # P1: a customer for 500 days, two renewals, hours left -> maturity
            ["A1", "P1", "数学", "40", "0", "8000", day(-500), day(-500), day(-200)],
            ["A2", "P1", "数学", "40", "0", "8000", day(-300), day(-300), day(-10)],
            ["A3", "P1", "数学", "40", "20", "8000", day(-30), day(-30), day(300)],
            # P2: one recent contract -> socialization
            ["B1", "P2", "数学", "40", "30", "8000", day(-20), day(-20), day(300)],
            # P5: its only contract expired -> termination
            ["C1", "P5", "数学", "40", "0", "8000", day(-400), day(-400), day(-40)]]
    job = run_import(manager_a, csv_bytes(rows), kind="contracts", confirm=True)
    assert job.status == ImportJob.Status.DONE, job.errors
    # contracts alone are not purchases (nothing paid yet): still prospects
    assert Student.objects.get(external_id="P1").period == "prospecting"
    pay = [["合同编号", "金额", "支付方式", "支付日期"]] + [
        [no, "8000", "微信", r[6]] for no, r in zip(["A1", "A2", "A3", "B1", "C1"], rows[1:],
                                                  strict=True)]
    paid = run_import(manager_a, csv_bytes(pay), kind="payments", confirm=True)
    assert paid.status == ImportJob.Status.DONE, paid.errors
    periods = dict(Student.objects.values_list("external_id", "period"))
    assert periods == {"P1": "maturity", "P2": "socialization", "P3": "termination",
                       "P4": "lapsed", "P5": "termination"}
    assert set(Transition.objects.values_list("trigger", flat=True)) == {"import"}
    # one placement per account, straight to its period (not walked through the table)
    assert Transition.objects.filter(student__external_id="P1").get().from_period == \
        "prospecting"
    # the leaver's placement from the old system is final
    assert Transition.objects.filter(student__external_id="P3").count() == 1


def test_an_account_moved_since_is_not_placed_again(run_import, manager_a, imported):
    lapsed = Student.objects.get(external_id="P4")
    account_transition(student=lapsed, to_period="socialization", actor=manager_a,
                       trigger=Trigger.MANUAL, reason="回来了")
    from lifecycle.services import accounts_place_imported

    assert accounts_place_imported(student_ids=[lapsed.pk]) == 0
    lapsed.refresh_from_db()
    assert lapsed.period == "socialization"


def test_the_import_trigger_has_its_own_door(imported):
    student = Student.objects.get(external_id="P1")
    with pytest.raises(ValidationError):
        account_transition(student=student, to_period="socialization",
                           trigger=Trigger.IMPORT, reason="x")

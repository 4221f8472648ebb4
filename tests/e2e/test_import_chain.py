"""A school switching systems, in a real browser: a manager imports a whole messy export
of the old system (GBK and UTF-8 CSV, xlsx; students named by 学员编号 in every later
file; siblings sharing phones) through the import page, after mapping one unknown
header; then the nightly scan gives every imported account its period, scores and
retention tasks. The database is checked afterwards."""
from __future__ import annotations

import pytest
from django.utils import timezone

from crm.roles import Role
from dataio.models import ColumnTemplate, ImportJob
from lifecycle.models import AccountScore, RetentionTask, Transition
from lifecycle.services import scan_lifecycle
from marketing.models import Prospect
from parents.models import Parent
from students.models import (
    Attendance,
    Complaint,
    Contract,
    ExamScore,
    Interaction,
    LedgerEntry,
    Payment,
    SatisfactionSurvey,
    Student,
)
from tests.dataio.chain_export import COURSES, STUDENT_HEAD, chain_export
from tests.factories import BranchFactory, CourseFactory, staff

pytestmark = [pytest.mark.browser,
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]

MIME = {"csv": "text/csv",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _upload(page, kind: str, name: str, data: bytes, *, consumes: bool = False) -> None:
    page.goto(page.base + "/data/import/")
    page.select_option("#id_kind", kind)
    page.set_input_files("#id_file", files=[{"name": name, "buffer": data,
                                             "mimeType": MIME[name.rsplit(".", 1)[1]]}])
    if consumes:
        page.check("#id_consumes")
    page.click("#import-upload")
    page.wait_for_selector("#job-status")


def _confirm(page) -> None:
    page.click("#job-confirm")
    page.wait_for_selector("#job-result")


def test_a_manager_imports_a_whole_chain_export_and_the_scan_takes_over(page, login, shot):
    branch = BranchFactory(code="xh", name="西湖校区")
    staff(Role.MANAGER, branch, username="xiaozhang")
    counselor = staff(Role.COUNSELOR, branch, username="guwen")
    for code, name in COURSES:
        CourseFactory(code=code, name=name)
    files = chain_export(students=30, today=timezone.localdate(), counselor="guwen")
    login("xiaozhang")

    # Students (GBK): one header the aliases do not know; mapped once, saved as a template.
    name, data = files["students"]
    _upload(page, "students", name, data)
    page.wait_for_selector("#job-mapping[open]")
    assert page.locator("#job-mapping-missing").count() == 1
    column = STUDENT_HEAD.index("学员名称")
    page.select_option(f'select[name="header_{column}"]', "name_zh")
    page.fill("#map-source", "旧校务系统")
    page.fill("#map-name", "学员导出")
    shot(page, "import-01-mapping")
    page.click("#job-mapping-apply")
    page.wait_for_selector("#job-confirm")
    assert page.locator("#job-warnings").count() == 1  # shared phones, unknown counselor...
    _confirm(page)
    shot(page, "import-02-students-done")

    for kind in ["prospects", "contracts", "payments", "attendance", "interactions",
                 "complaints"]:
        name, data = files[kind]
        _upload(page, kind, name, data, consumes=kind == "attendance")
        page.wait_for_selector("#job-confirm")
        _confirm(page)

    # Exam scores: a subject outside the built-in list is mapped in the page.
    name, data = files["exams"]
    _upload(page, "exams", name, data)
    page.wait_for_selector("#job-values-subject")
    page.select_option("#value-subject-0", "other")
    page.click("#job-values-subject [type=submit]")
    page.wait_for_selector("#job-confirm")
    _confirm(page)
    assert not page.js_errors

    # --- the database ------------------------------------------------------------------
    assert set(ImportJob.objects.values_list("status", flat=True)) == {"done"}
    assert ImportJob.objects.count() == 8
    assert ColumnTemplate.objects.get().mapping["学员名称"] == "name_zh"
    students = Student.objects.filter(branch=branch, external_id__startswith="XB")
    assert students.count() == 30 and Prospect.objects.count() == 5
    # siblings sharing one phone under two contact names: one guardian for both
    shared = Parent.objects.get(phone="+8613900000000")
    assert shared.students.count() == 2
    assert students.filter(counselor=counselor).count() == 25
    assert Contract.objects.count() == Payment.objects.count() > 30
    assert LedgerEntry.objects.filter(kind="opening").exists()
    assert LedgerEntry.objects.filter(kind="consumed").exists()
    assert Attendance.objects.count() > 100 and Interaction.objects.count() > 20
    assert SatisfactionSurvey.objects.count() == Interaction.objects.count()
    assert Complaint.objects.filter(status="open").exists()
    assert ExamScore.objects.filter(subject="other").exists()
    placed = dict(students.values_list("external_id", "period"))
    assert set(placed.values()) == {"maturity", "growth", "socialization", "termination",
                                    "lapsed"}
    assert set(Transition.objects.values_list("trigger", flat=True)) == {"import"}

    # --- the scan takes over -------------------------------------------------------------
    run = scan_lifecycle()
    assert run.status == "finished" and run.errors == []
    assert AccountScore.objects.filter(student__in=students).count() == 30
    periods = set(Student.objects.filter(pk__in=students).values_list("period", flat=True))
    assert "at_risk" in periods  # the students who stopped coming and complained
    assert RetentionTask.objects.filter(student__in=students).exists()
    # no imported customer was walked back through socialization by newcomer rules
    assert not Transition.objects.filter(student__in=students, trigger="first_purchase").exists()

"""Front-office service work in a real browser (issue #24): a complaint entered and
resolved, a survey answer recorded, a trial booked and marked attended (the funnel moves),
a guardian edited. Each test checks the database afterwards."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django.utils.translation import override

from crm.roles import Role
from marketing.models import Prospect, Stage, TrialLesson
from parents.models import Guardianship
from students.models import Complaint, Interaction, SatisfactionSurvey
from tests.factories import (
    BranchFactory,
    ClassGroupFactory,
    ClassSessionFactory,
    CourseFactory,
    GuardianshipFactory,
    InteractionFactory,
    ParentFactory,
    StudentFactory,
    staff,
)

pytestmark = [pytest.mark.browser,
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def branch():
    return BranchFactory(code="xh", name="西湖校区")


@pytest.fixture
def counselor(branch):
    return staff(Role.COUNSELOR, branch, username="guwen", first_name="伟", last_name="张")


@pytest.fixture
def front_desk(branch):
    return staff(Role.FRONT_DESK, branch, username="qiantai", first_name="敏", last_name="刘")


@pytest.fixture
def family(branch, counselor):
    student = StudentFactory(branch=branch, name_zh="王小明", grade="S2", counselor=counselor)
    mother = ParentFactory(branch=branch, name="李梅", phone="+8613800001111")
    father = ParentFactory(branch=branch, name="王强", phone="+8613800002222")
    GuardianshipFactory(student=student, parent=mother, relation="mother",
                        is_primary_contact=True, is_decision_maker=False)
    GuardianshipFactory(student=student, parent=father, relation="father",
                        is_primary_contact=False, is_decision_maker=True)
    return student


def test_a_counselor_enters_a_complaint_and_resolves_it(page, login, shot, counselor, family):
    login("guwen")
    page.goto(f"{page.base}/students/{family.pk}/")
    page.click("#enter-complaint")
    page.wait_for_selector("#complaint-form")
    page.select_option("#id_raised_by", "parent")
    page.select_option("#id_parent", label="李梅")
    page.select_option("#id_category", "teaching")
    page.fill("#id_description", "数学老师讲得太快，孩子跟不上")
    shot(page, "service-01-complaint-form")
    page.click("#complaint-form-submit")
    page.wait_for_selector("#complaint-status")
    assert "张伟" in page.inner_text("#complaint-owner")
    complaint = Complaint.objects.get()
    assert (complaint.status, complaint.owner, complaint.parent.name) == ("open", counselor,
                                                                         "李梅")
    page.select_option("#id_status", "resolved")
    page.fill("#id_resolution", "已调整进度并安排课后答疑")
    page.click("#complaint-update-submit")
    page.wait_for_selector("#complaint-resolution")
    shot(page, "service-02-complaint-resolved")
    complaint.refresh_from_db()
    assert complaint.status == "resolved" and complaint.resolved_at is not None
    assert complaint.resolution == "已调整进度并安排课后答疑"
    assert page.js_errors == []


def test_a_counselor_records_the_fathers_survey_answer(page, login, counselor, family):
    login("guwen")
    page.goto(f"{page.base}/students/{family.pk}/")
    page.click("#record-survey")
    page.wait_for_selector("#survey-form")
    page.select_option("#id_respondent", "parent")
    page.select_option("#id_parent", label="王强")
    page.select_option("#id_overall", "2")
    page.select_option("#id_teaching", "3")
    page.fill("#id_comment", "作业太多")
    page.click("#survey-form-submit")
    page.wait_for_selector("#student-name")
    assert "2/5" in page.inner_text("#surveys")
    survey = SatisfactionSurvey.objects.get()
    assert (survey.parent.name, survey.overall, survey.teaching, survey.comment) == (
        "王强", 2, 3, "作业太多")


def test_front_desk_books_a_trial_marks_it_attended_and_the_funnel_moves(
        page, login, shot, front_desk, family, branch):
    teacher = staff(Role.TEACHER, branch, username="laoshi", first_name="芳", last_name="陈")
    course = CourseFactory(name="高二数学提高班", level="S2")
    CourseFactory(name="初一英语", level="J1")
    group = ClassGroupFactory(branch=branch, course=course, teacher=teacher, name="高二数学A班")
    lesson = ClassSessionFactory(class_group=group, date=timezone.localdate(),
                                 start_time=dt.time(18), end_time=dt.time(20))
    login("qiantai")
    page.goto(f"{page.base}/students/{family.pk}/")
    page.click("#book-trial")
    page.wait_for_selector("#trial-form")
    # The course fitting the student's grade (高二) is offered first.
    first = page.locator("#id_course option").nth(1).inner_text()
    assert first.startswith("高二数学提高班")
    page.check("#id_kind_0")
    page.select_option("#id_course", str(course.pk))
    page.select_option("#id_session", str(lesson.pk))
    page.select_option("#id_booked_with", "parent")
    page.select_option("#id_parent", label="李梅")
    shot(page, "service-03-trial-form")
    page.click("#trial-form-submit")
    page.wait_for_selector("#trial-outcome")
    assert "陈芳" in page.inner_text("#trial-teacher")
    trial = TrialLesson.objects.get()
    assert (trial.session, trial.teacher, trial.outcome) == (lesson, teacher, "booked")
    assert Prospect.objects.get(student=family).stage == Stage.TRIAL_BOOKED
    page.select_option("#id_outcome", "attended")
    page.click("#trial-outcome-submit")
    page.wait_for_selector("#funnel-stage")
    shot(page, "service-04-trial-attended")
    trial.refresh_from_db()
    assert trial.outcome == "attended" and trial.outcome_by == front_desk
    prospect = Prospect.objects.get(student=family)
    assert prospect.stage == Stage.TRIAL_ATTENDED
    with override("zh-hans"):
        assert page.inner_text("#funnel-stage").strip() == str(Stage.TRIAL_ATTENDED.label)


def test_front_desk_makes_the_father_the_primary_contact_and_adds_a_grandmother(
        page, login, shot, front_desk, family):
    login("qiantai")
    page.goto(f"{page.base}/students/{family.pk}/")
    page.click("#edit-guardians")
    page.wait_for_selector("#guardian-table")
    father = Guardianship.objects.get(student=family, parent__name="王强")
    page.check(f"#id_g{father.pk}-is_primary_contact")
    page.click(f"#save-guardian-{father.pk}")
    page.wait_for_selector(".alert-success")
    assert Guardianship.objects.get(student=family, is_primary_contact=True) == father
    page.fill("#id_new-name", "王奶奶")
    page.fill("#id_new-phone", "139 0000 3333")
    page.select_option("#id_new-relation", "grandparent")
    page.click("#guardian-add-submit")
    page.wait_for_selector("#history")
    shot(page, "service-05-guardians")
    granny = Guardianship.objects.get(student=family, parent__name="王奶奶")
    assert granny.relation == "grandparent" and not granny.is_primary_contact
    assert "刘敏" in page.inner_text("#history")


def test_a_counselor_works_the_follow_ups_due_today(page, login, counselor, family):
    """今日待跟进: a call-back date recorded on last week's call puts the family on the list;
    logging the call from the list takes it off."""
    student = family
    InteractionFactory(student=student, staff=counselor, summary="家长说下周再联系",
                       occurred_at=timezone.now() - dt.timedelta(days=6),
                       next_follow_up=timezone.localdate())
    login("guwen")
    page.click("#nav-service")
    page.click("#nav-follow-ups")
    row = page.locator(f"#follow-up-table tr[data-student='{student.pk}']")
    row.wait_for()
    assert "家长说下周再联系" in row.inner_text()
    row.locator("a.btn").click()
    page.wait_for_selector("#id_summary")
    page.fill("#id_summary", "已回电，确认下周六上课")
    page.select_option("#id_channel", "call")
    page.select_option("#id_parent", index=1)  # the mother asked for the call-back
    page.click("#interaction-form [type=submit]")
    page.wait_for_url(f"**/students/{student.pk}/")
    latest = Interaction.objects.filter(student=student).order_by("-occurred_at").first()
    assert (latest.summary, latest.staff) == ("已回电，确认下周六上课", counselor)
    page.click("#nav-service")
    page.click("#nav-follow-ups")
    page.wait_for_selector("#follow-up-table")
    assert page.locator(f"#follow-up-table tr[data-student='{student.pk}']").count() == 0
    assert page.js_errors == []

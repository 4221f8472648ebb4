"""A front-desk day in a real browser: log in, register a family, meet a duplicate, switch
language; plus screenshots of the main pages."""
import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.roles import Role
from parents.models import Guardianship, Parent
from students.models import Attendance, Student
from tests.factories import (
    BranchFactory,
    ClassGroupFactory,
    ClassSessionFactory,
    ContractFactory,
    ExamScoreFactory,
    GuardianshipFactory,
    InteractionFactory,
    ParentFactory,
    StudentFactory,
    staff,
)

# serialized_rollback: the flush after a live-server test must not wipe the rows data
# migrations seeded (channels, groups) for the tests that run after these.
pytestmark = [pytest.mark.browser,
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def branch():
    return BranchFactory(code="xh", name="西湖校区")


@pytest.fixture
def front_desk(branch):
    return staff(Role.FRONT_DESK, branch, username="qiantai")


def _fill_parent(page, i, name, phone, relation, primary=False, decider=False):
    page.fill(f"#id_parents-{i}-name", name)
    page.fill(f"#id_parents-{i}-phone", phone)
    page.select_option(f"#id_parents-{i}-relation", relation)
    if primary:
        page.check(f"#id_parents-{i}-is_primary_contact")
    if decider:
        page.check(f"#id_parents-{i}-is_decision_maker")


def _fill_student(page, i, name, grade, birth, consent=""):
    page.fill(f"#id_students-{i}-name_zh", name)
    page.select_option(f"#id_students-{i}-grade", grade)
    page.fill(f"#id_students-{i}-birth_date", birth.isoformat())
    if consent:
        page.select_option(f"#id_students-{i}-consent_method", consent)


def test_front_desk_registers_two_parents_and_two_children(page, login, shot, front_desk):
    login("qiantai")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    shot(page, "01-home-front-desk")
    page.click("#home-register")
    page.wait_for_selector("#family-form")
    _fill_parent(page, 0, "李梅", "138 1234 5678", "mother", primary=True)
    page.check("#id_parents-0-contact_channels_0")
    page.click("#add-parent")
    _fill_parent(page, 1, "王强", "139 1234 5678", "father", decider=True)
    today = timezone.localdate()
    _fill_student(page, 0, "王大宝", "S2", today - dt.timedelta(days=16 * 365))
    page.click("#add-student")
    _fill_student(page, 1, "王小宝", "P3", today - dt.timedelta(days=8 * 365), consent="paper")
    shot(page, "02-register-family-filled")
    page.click("#register-submit")
    page.wait_for_selector("#student-name")
    assert "王大宝" in page.inner_text("#student-name")
    assert page.locator(".alert-success").count() == 1
    shot(page, "03-student-360-front-desk")

    assert Student.objects.filter(branch=front_desk.staff_profile.branch).count() == 2
    younger = Student.objects.get(name_zh="王小宝")
    assert set(younger.parents.values_list("name", flat=True)) == {"李梅", "王强"}
    assert younger.consents.count() == 1
    assert "¥" not in page.content()  # front desk sees no money
    assert not page.js_errors


def test_a_known_phone_offers_the_existing_family(page, login, shot, front_desk, branch):
    kid = StudentFactory(branch=branch, name_zh="陈一一")
    GuardianshipFactory(student=kid, parent=ParentFactory(branch=branch, name="陈母",
                                                          phone="+8613600001234"))
    login("qiantai")
    page.goto(page.base + "/families/register/")
    _fill_parent(page, 0, "陈母", "136 0000 1234", "mother", primary=True)
    _fill_student(page, 0, "陈二二", "S1", timezone.localdate() - dt.timedelta(days=15 * 365))
    page.click("#register-submit")
    page.wait_for_selector("#duplicate-offer")
    assert "陈一一" in page.inner_text("#duplicate-offer")
    assert page.locator("#id_parents-0-phone.is-invalid").count() == 1
    shot(page, "04-register-duplicate-offer")
    assert Parent.objects.count() == 1 and Student.objects.count() == 1

    page.click("#link-existing")
    page.wait_for_selector("#student-name")
    assert "陈二二" in page.inner_text("#student-name")
    mother = Parent.objects.get()
    assert set(mother.students.values_list("name_zh", flat=True)) == {"陈一一", "陈二二"}


def test_the_language_switch_and_live_search(page, login, shot, front_desk, branch):
    StudentFactory(branch=branch, name_zh="刘洋")
    login("qiantai")
    page.fill("#nav-search", "liuy")
    page.wait_for_selector("#search-live-results")
    assert "刘洋" in page.inner_text("#search-live-results")
    shot(page, "05-live-search")

    page.click("#lang-en")
    page.wait_for_url("**/en/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Students" in page.inner_text("nav")
    shot(page, "06-home-english")
    page.goto(page.base + "/en/students/")
    page.click("#lang-zh-hans")
    page.wait_for_url(page.base + "/students/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"


def test_screenshots_of_manager_pages_with_charts(page, login, shot, branch):
    manager = staff(Role.MANAGER, branch, username="zhuguan")
    student = StudentFactory(branch=branch, name_zh="赵敏", period="growth", counselor=manager)
    GuardianshipFactory(student=student, parent__branch=branch,
                        relation=Guardianship.Relation.MOTHER)
    ContractFactory(student=student, hours_purchased=Decimal("40"))
    group = ClassGroupFactory(branch=branch)
    for weeks_ago in range(8):
        session = ClassSessionFactory(class_group=group, date=timezone.localdate()
                                      - dt.timedelta(weeks=weeks_ago))
        Attendance.objects.create(session=session, student=student, date=session.date,
                                  status="absent" if weeks_ago % 3 == 0 else "attended")
        ExamScoreFactory(student=student, exam_date=session.date,
                         score=Decimal(90 + weeks_ago * 5))
    InteractionFactory(student=student, summary="家长电话：关心期中成绩")
    StudentFactory.create_batch(3, branch=branch, period="at_risk")
    login("zhuguan")
    page.wait_for_selector("#period-chart")
    shot(page, "07-home-manager")
    page.goto(page.base + "/students/")
    shot(page, "08-student-list")
    page.goto(page.base + f"/students/{student.pk}/")
    page.wait_for_function("() => typeof Chart !== 'undefined' && "
                           "Object.keys(Chart.instances).length === 2")
    assert "¥" in page.content()  # managers see money
    shot(page, "09-student-360-manager")
    page.goto(page.base + "/students/999999/")
    assert page.locator("#error-404").count() == 1
    shot(page, "10-not-found")
    assert not page.js_errors

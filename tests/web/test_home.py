import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.roles import Role
from marketing.models import TrialLesson
from tests.factories import CourseFactory, StudentFactory, UserFactory, staff

pytestmark = pytest.mark.django_db


def test_front_desk_home_offers_registration_search_and_todays_trials(as_user, front_desk_a,
                                                                       family_a, family_b):
    today = timezone.localdate()
    for student, name, day in [(family_a, "高二数学 today", today),
                               (family_b, "other branch", today),
                               (family_a, "tomorrow", today + dt.timedelta(days=1))]:
        TrialLesson.objects.create(student=student, course=CourseFactory(name=name), date=day,
                                   start_time=dt.time(18), end_time=dt.time(19),
                                   booked_with="student")
    html = as_user(front_desk_a).get(reverse("home")).content.decode()
    assert 'id="home-register"' in html
    assert "高二数学 today" in html
    assert "other branch" not in html
    assert "tomorrow" not in html


def test_counselor_home_counts_own_caseload_and_branch_pool_by_period(as_user, counselor_a,
                                                                      branch_a, branch_b):
    StudentFactory.create_batch(3, branch=branch_a, counselor=counselor_a, period="growth")
    StudentFactory(branch=branch_a, counselor=counselor_a, period="at_risk")
    StudentFactory.create_batch(2, branch=branch_a, counselor=None, period="prospecting")
    StudentFactory(branch=branch_b, counselor=None, period="prospecting")
    response = as_user(counselor_a).get(reverse("home"))
    rows = {r["code"]: r for r in response.context["caseload"]["rows"]}
    assert rows["growth"]["n"] == 3
    assert rows["at_risk"]["n"] == 1
    assert rows["prospecting"]["pool"] == 2
    assert response.context["caseload"]["total"] == 4


def test_manager_home_counts_only_own_branch(as_user, manager_a, branch_a, branch_b):
    StudentFactory.create_batch(2, branch=branch_a, period="maturity")
    StudentFactory.create_batch(5, branch=branch_b, period="maturity")
    response = as_user(manager_a).get(reverse("home"))
    matrix = response.context["matrix"]
    assert [r["branch"] for r in matrix["table"]] == [branch_a]
    assert matrix["total"] == 2
    assert 'id="period-chart"' in response.content.decode()


def test_head_office_home_shows_every_branch(as_user, head_office, branch_a, branch_b):
    StudentFactory.create_batch(2, branch=branch_a, period="growth")
    StudentFactory(branch=branch_b, period="lapsed")
    matrix = as_user(head_office).get(reverse("home")).context["matrix"]
    assert {r["branch"] for r in matrix["table"]} == {branch_a, branch_b}
    totals = {p["code"]: p["n"] for p in matrix["totals"]}
    assert totals["growth"] == 2 and totals["lapsed"] == 1


def test_a_user_without_a_staff_role_gets_a_notice_not_data(as_user):
    user = UserFactory()
    html = as_user(user).get(reverse("home")).content.decode()
    assert "no staff role" in html


def test_teacher_home_counts_students_of_own_classes(as_user, branch_a):
    teacher = staff(Role.TEACHER, branch_a, username="t1")
    response = as_user(teacher).get(reverse("home"))
    assert response.context["my_students"] == 0

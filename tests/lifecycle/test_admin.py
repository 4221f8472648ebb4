"""The admin's change-period page: legal targets only, a required reason, the same service."""
from __future__ import annotations

import pytest
from django.contrib.admin.sites import AdminSite
from django.test import Client
from django.urls import reverse

from lifecycle.admin import LifecyclePolicyAdmin
from lifecycle.models import LifecyclePolicy, Transition
from lifecycle.periods import Period
from tests.factories import StudentFactory

pytestmark = pytest.mark.django_db
P = Period


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(student) -> str:
    return reverse("admin:students_student_change_period", args=[student.pk])


@pytest.fixture
def student_a(branch_a):
    return StudentFactory(branch=branch_a, period=P.GROWTH)


def test_the_form_offers_only_the_legal_next_periods(manager_a, student_a):
    res = login(manager_a).get(url(student_a), secure=True)
    assert res.status_code == 200
    choices = [c for c, _ in res.context["form"].fields["to_period"].choices]
    assert choices == [P.MATURITY, P.AT_RISK, P.TERMINATION]


def test_a_change_with_a_reason_goes_through_the_service(manager_a, student_a):
    res = login(manager_a).post(url(student_a), {"to_period": P.AT_RISK,
                                                 "reason": "parent unhappy"}, secure=True)
    assert res.status_code == 302
    student_a.refresh_from_db()
    assert (student_a.period, student_a.previous_period) == (P.AT_RISK, P.GROWTH)
    row = Transition.objects.get(student=student_a)
    assert (row.actor, row.trigger, row.reason) == (manager_a, "manual", "parent unhappy")


def test_the_reason_is_required(manager_a, student_a):
    res = login(manager_a).post(url(student_a), {"to_period": P.AT_RISK, "reason": ""},
                                secure=True)
    assert res.status_code == 200
    assert "reason" in res.context["form"].errors
    student_a.refresh_from_db()
    assert student_a.period == P.GROWTH


def test_an_illegal_target_is_refused_by_the_form(manager_a, student_a):
    res = login(manager_a).post(url(student_a), {"to_period": P.PROSPECTING, "reason": "x"},
                                secure=True)
    assert "to_period" in res.context["form"].errors
    assert not Transition.objects.exists()


def test_front_desk_cannot_change_periods(front_desk_a, student_a):
    assert login(front_desk_a).get(url(student_a), secure=True).status_code == 403


def test_another_branchs_manager_gets_404(manager_b, student_a):
    assert login(manager_b).get(url(student_a), secure=True).status_code == 404


def test_the_student_page_shows_period_phase_pattern_and_timeline(manager_a, student_a):
    from .conftest import move

    move(student_a, P.MATURITY)
    res = login(manager_a).get(reverse("admin:students_student_change", args=[student_a.pk]),
                               secure=True, HTTP_ACCEPT_LANGUAGE="en")
    assert res.status_code == 200
    html = res.content.decode()
    assert "Maturity" in html
    assert "IV long-term" in html
    assert url(student_a) in html
    assert "lifecycle timeline" in html.lower()


def test_managers_may_edit_only_their_own_branchs_policy_in_the_admin(manager_a, branch_a,
                                                                       branch_b, rf):
    own = LifecyclePolicy.objects.create(branch=branch_a)
    default = LifecyclePolicy.objects.create()
    request = rf.get("/")
    request.user = manager_a
    policy_admin = LifecyclePolicyAdmin(LifecyclePolicy, AdminSite())
    assert not policy_admin.has_change_permission(request, default)
    assert list(policy_admin.get_queryset(request).order_by("pk")) == [own, default]

"""Manual period change on the account page: legal moves only, a reason, the right roles."""
from __future__ import annotations

import pytest
from django.urls import reverse

from lifecycle.models import Transition
from students.models import Student

pytestmark = pytest.mark.django_db


def url(student):
    return reverse("students:change_period", args=[student.pk])


def test_the_account_page_offers_only_legal_targets(as_user, manager_a, family_a):
    html = as_user(manager_a).get(reverse("students:detail", args=[family_a.pk])).content
    html = html.decode()
    assert 'id="change-period"' in html
    assert 'value="socialization"' in html and 'value="maturity"' not in html


def test_a_manager_moves_an_account_with_a_reason_and_it_is_recorded(as_user, manager_a,
                                                                      family_a):
    response = as_user(manager_a).post(url(family_a), {
        "to_period": "socialization", "reason": "签约首期课程", "expected_from": "prospecting"},
        follow=True)
    assert "Period changed" in response.content.decode()
    family_a.refresh_from_db()
    assert family_a.period == "socialization"
    t = Transition.objects.get(student=family_a)
    assert (t.trigger, t.actor, t.reason) == ("manual", manager_a, "签约首期课程")


def test_an_illegal_move_or_a_missing_reason_changes_nothing(as_user, manager_a, family_a):
    client = as_user(manager_a)
    client.post(url(family_a), {"to_period": "maturity", "reason": "x"})
    client.post(url(family_a), {"to_period": "socialization", "reason": ""})
    assert Student.objects.get(pk=family_a.pk).period == "prospecting"
    assert not Transition.objects.exists()


def test_a_stale_page_is_refused(as_user, manager_a, family_a):
    response = as_user(manager_a).post(url(family_a), {
        "to_period": "socialization", "reason": "r", "expected_from": "growth"}, follow=True)
    assert "no longer in" in response.content.decode()
    assert not Transition.objects.exists()


def test_front_desk_cannot_change_periods_and_sees_no_form(as_user, front_desk_a, family_a):
    client = as_user(front_desk_a)
    page = client.get(reverse("students:detail", args=[family_a.pk])).content.decode()
    assert 'id="change-period"' not in page
    response = client.post(url(family_a), {"to_period": "socialization", "reason": "r"})
    assert response.status_code == 403


def test_another_branch_manager_gets_404(as_user, manager_b, family_a):
    response = as_user(manager_b).post(url(family_a), {"to_period": "socialization",
                                                       "reason": "r"})
    assert response.status_code == 404

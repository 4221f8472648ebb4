
import pytest
from django.urls import reverse
from django.utils import timezone

from crm.roles import Role
from students.models import Interaction
from tests.factories import staff

pytestmark = pytest.mark.django_db


def test_front_desk_logs_a_call_with_a_named_parent(as_user, front_desk_a, family_a):
    mother = family_a.parents.get()
    url = reverse("students:interaction_create", args=[family_a.pk])
    response = as_user(front_desk_a).post(url, {
        "with_whom": "parent", "parent": mother.pk, "channel": "call",
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "summary": "询问高二数学", "sentiment": "neutral"})
    assert response.status_code == 302
    interaction = Interaction.objects.get()
    assert interaction.parent == mother and interaction.staff == front_desk_a
    assert "logged" in as_user(front_desk_a).get(response["Location"]).content.decode()


def test_a_contact_with_a_parent_must_name_the_parent(as_user, front_desk_a, family_a):
    url = reverse("students:interaction_create", args=[family_a.pk])
    response = as_user(front_desk_a).post(url, {
        "with_whom": "parent", "channel": "visit",
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "summary": "来访", "sentiment": "neutral"})
    assert "parent" in response.context["form"].errors
    assert not Interaction.objects.exists()


def test_a_parent_of_another_family_cannot_be_chosen(as_user, front_desk_a, family_a, family_b):
    other = family_b.parents.get()
    url = reverse("students:interaction_create", args=[family_a.pk])
    response = as_user(front_desk_a).post(url, {
        "with_whom": "parent", "parent": other.pk, "channel": "call",
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "summary": "x",
        "sentiment": "neutral"})
    assert "parent" in response.context["form"].errors


def test_the_old_trial_address_leads_to_the_trial_booking_page(as_user, front_desk_a,
                                                               family_a):
    url = reverse("students:trial_book", args=[family_a.pk])
    response = as_user(front_desk_a).get(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("service:trial_book", args=[family_a.pk])


def test_other_branches_students_cannot_get_contacts_logged(as_user, front_desk_a, family_b):
    url = reverse("students:interaction_create", args=[family_b.pk])
    assert as_user(front_desk_a).get(url).status_code == 404


def test_a_user_without_a_role_gets_403(as_user, family_a):
    from tests.factories import UserFactory

    url = reverse("students:detail", args=[family_a.pk])
    assert as_user(UserFactory()).get(url).status_code == 403


def test_a_teacher_may_log_a_contact(as_user, branch_a, family_a):
    from tests.factories import ClassGroupFactory, ContractFactory

    teacher = staff(Role.TEACHER, branch_a, username="t_c")
    ContractFactory(student=family_a, class_group=ClassGroupFactory(branch=branch_a,
                                                                    teacher=teacher))
    url = reverse("students:interaction_create", args=[family_a.pk])
    assert as_user(teacher).get(url).status_code == 200

"""Editing guardians and student details from the workspace, with history."""
from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from parents.models import Guardianship, Parent
from students.models import Student
from tests.factories import ParentFactory, StudentFactory

pytestmark = pytest.mark.django_db


def _url(name, student, *args):
    return reverse(f"service:{name}", args=[student.pk, *args])


def test_a_guardian_is_added_by_phone_and_becomes_the_primary_contact(
        as_user, family, front_desk_a):
    client = as_user(front_desk_a)
    response = client.post(_url("guardians", family), {
        "new-name": "王奶奶", "new-phone": "139 0000 3333", "new-relation": "grandparent",
        "new-is_primary_contact": "on"})
    assert response.status_code == 302
    granny = Parent.objects.get(name="王奶奶")
    assert granny.phone == "+8613900003333" and granny.branch == family.branch
    primary = Guardianship.objects.get(student=family, is_primary_contact=True)
    assert primary.parent == granny
    page = client.get(_url("guardians", family)).content.decode()
    assert "王奶奶" in page and "Guardian added" in page


def test_a_known_phone_links_the_registered_parent_instead_of_a_copy(as_user, family,
                                                                     front_desk_a, branch_a):
    aunt = ParentFactory(branch=branch_a, name="李娟", phone="+8613700004444")
    as_user(front_desk_a).post(_url("guardians", family), {
        "new-name": "另一个名字", "new-phone": "137 0000 4444", "new-relation": "other"})
    assert Parent.objects.filter(phone="+8613700004444").count() == 1
    assert Guardianship.objects.filter(student=family, parent=aunt).exists()


def test_adding_the_same_guardian_twice_names_the_phone_and_changes_nothing(
        as_user, family, front_desk_a):
    response = as_user(front_desk_a).post(_url("guardians", family), {
        "new-name": "李梅", "new-phone": "13800001111", "new-relation": "mother"})
    assert "phone" in response.context["add_form"].errors
    assert family.guardianships.count() == 2


def test_changing_the_primary_contact_moves_the_flag_and_keeps_history(
        as_user, family, named_counselor):
    father = family.guardianships.get(parent__name="王强")
    client = as_user(named_counselor)
    client.post(_url("guardian_change", family, father.pk), {
        f"g{father.pk}-relation": "father", f"g{father.pk}-is_primary_contact": "on"})
    assert family.guardianships.get(is_primary_contact=True) == father
    assert not family.guardianships.get(parent__name="李梅").is_primary_contact
    version = father.history.order_by("-history_date").first()
    assert version.history_user == named_counselor and version.is_primary_contact
    mother = family.guardianships.get(parent__name="李梅")
    lost = mother.history.order_by("-history_date").first()
    assert lost.history_user == named_counselor and not lost.is_primary_contact
    html = client.get(_url("guardians", family)).content.decode()
    assert "Guardian changed" in html and "张伟" in html


def test_the_primary_flag_cannot_just_be_dropped(as_user, family, front_desk_a):
    mother = family.guardianships.get(parent__name="李梅")
    as_user(front_desk_a).post(_url("guardian_change", family, mother.pk), {
        f"g{mother.pk}-relation": "mother"})
    mother.refresh_from_db()
    assert mother.is_primary_contact


def test_removing_the_primary_contact_passes_the_flag_and_the_last_guardian_stays(
        as_user, family, front_desk_a):
    mother = family.guardianships.get(parent__name="李梅")
    client = as_user(front_desk_a)
    client.post(_url("guardian_remove", family, mother.pk))
    remaining = list(family.guardianships.all())
    assert [g.parent.name for g in remaining] == ["王强"] and remaining[0].is_primary_contact
    assert Parent.objects.filter(name="李梅").exists()  # the parent record stays
    client.post(_url("guardian_remove", family, remaining[0].pk))
    assert family.guardianships.count() == 1


def test_student_details_are_edited_with_history(as_user, family, named_counselor):
    client = as_user(named_counselor)
    response = client.post(_url("student_edit", family), {
        "name_zh": "王小明", "gender": "m", "grade": "S3", "school": "杭州二中",
        "decision_style": "parent_led", "learning_style": ""})
    assert response.status_code == 302
    family.refresh_from_db()
    assert (family.grade, family.school, family.decision_style) == ("S3", "杭州二中",
                                                                    "parent_led")
    latest = family.history.order_by("-history_date").first()
    assert latest.history_user == named_counselor
    html = client.get(_url("student_edit", family)).content.decode()
    assert "杭州二中" in html and "张伟" in html


def test_a_change_making_the_student_under_14_needs_consent(as_user, family, front_desk_a):
    before = family.birth_date
    young = (timezone.localdate() - dt.timedelta(days=365 * 10)).isoformat()
    response = as_user(front_desk_a).post(_url("student_edit", family), {
        "name_zh": "王小明", "gender": "m", "grade": "S2", "birth_date": young,
        "decision_style": "joint", "learning_style": ""})
    assert "birth_date" in response.context["form"].errors
    assert Student.objects.get(pk=family.pk).birth_date == before


def test_teachers_and_other_branches_cannot_edit(as_user, family, teacher_a, manager_b):
    assert as_user(teacher_a).get(_url("guardians", family)).status_code == 403
    assert as_user(manager_b).get(_url("student_edit", family)).status_code == 404
    g = family.guardianships.first()
    assert as_user(manager_b).post(_url("guardian_remove", family, g.pk)).status_code == 404
    assert family.guardianships.count() == 2


def test_the_guardian_page_stays_within_a_fixed_number_of_queries(
        as_user, family, front_desk_a, django_assert_max_num_queries):
    for i in range(4):
        extra = ParentFactory(branch=family.branch, phone=f"+86136000000{i:02d}")
        Guardianship.objects.create(student=family, parent=extra, relation="other")
    StudentFactory(branch=family.branch)
    client = as_user(front_desk_a)
    client.get(_url("guardians", family))
    with django_assert_max_num_queries(14):
        client.get(_url("guardians", family))


def test_the_edit_page_stays_within_a_fixed_number_of_queries(
        as_user, family, front_desk_a, django_assert_max_num_queries):
    client = as_user(front_desk_a)
    for school in ("一中", "二中", "三中"):
        client.post(_url("student_edit", family), {
            "name_zh": "王小明", "gender": "m", "grade": "S2", "school": school,
            "decision_style": "joint", "learning_style": ""})
    client.get(_url("student_edit", family))
    with django_assert_max_num_queries(12):
        response = client.get(_url("student_edit", family))
    assert len([h for h in response.context["history"] if h["changes"]]) >= 3

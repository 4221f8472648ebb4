"""The look-ups front desk makes all day: find a family by a parent's name, link a new
child to a family with all its guardians, the 姓名 label, exam scores hidden from front desk."""
from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from parents.forms import ParentForm
from parents.models import Guardianship
from tests.factories import ExamScoreFactory, ParentFactory, StudentFactory
from tests.web.test_family_register import OLDER, URL, _form

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def test_search_finds_a_family_by_a_parents_chinese_name(as_user, front_desk_a, branch_a):
    child = StudentFactory(branch=branch_a, name_zh="陈一鸣")
    Guardianship.objects.create(student=child, relation="mother", is_primary_contact=True,
                                parent=ParentFactory(branch=branch_a, name="顾丽华"))
    StudentFactory(branch=branch_a, name_zh="别人家")
    for params in ({"q": "顾丽华"}, {"q": "丽华"}):
        response = as_user(front_desk_a).get(reverse("search"), params)
        assert [s.name_zh for s in response.context["page"].object_list] == ["陈一鸣"]
    live = as_user(front_desk_a).get(reverse("search"), {"q": "gulihua"}, **HTMX)
    assert [s.name_zh for s in live.context["students"]] == ["陈一鸣"]


def test_a_parent_in_another_branch_finds_nothing(as_user, front_desk_a, branch_b):
    child = StudentFactory(branch=branch_b)
    Guardianship.objects.create(student=child, relation="mother", is_primary_contact=True,
                                parent=ParentFactory(branch=branch_b, name="顾丽华"))
    response = as_user(front_desk_a).get(reverse("search"), {"q": "顾丽华"})
    assert list(response.context["page"].object_list) == []


def test_linking_a_new_child_to_a_family_brings_all_its_guardians(as_user, front_desk_a,
                                                                  family):
    data = _form([{"name": "李梅", "phone": "138 0000 1111", "relation": "mother"}],
                 [{**OLDER, "name_zh": "王二宝"}], link_existing="1")
    assert as_user(front_desk_a).post(URL, data).status_code == 302
    links = {g.parent.name: g for g in Guardianship.objects.filter(student__name_zh="王二宝")
             .select_related("parent")}
    assert set(links) == {"李梅", "王强"}
    assert links["王强"].relation == "father" and links["王强"].is_decision_maker
    assert links["李梅"].is_primary_contact and not links["王强"].is_primary_contact


def test_the_registration_form_asks_for_a_persons_name():
    with override("zh-hans"):
        assert str(ParentForm().fields["name"].label) == "姓名"


def test_front_desk_sees_no_exam_scores_and_a_counselor_does(as_user, family, front_desk_a,
                                                              named_counselor):
    ExamScoreFactory(student=family, exam_date=timezone.localdate() - dt.timedelta(days=3))
    url = reverse("students:detail", args=[family.pk])
    front = as_user(front_desk_a).get(url)
    assert 'id="exam-scores"' not in front.content.decode()
    assert front.context["exam_trend"]["labels"] == []
    counselor = as_user(named_counselor).get(url)
    assert 'id="exam-scores"' in counselor.content.decode()
    assert counselor.context["exam_trend"]["labels"]

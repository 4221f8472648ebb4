"""Issue #21 item 12: roles that see masked phones cannot search by phone digits."""
from __future__ import annotations

import pytest
from django.urls import reverse

from tests.api.conftest import client_for
from tests.factories import ClassGroupFactory, ContractFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def taught(family_a, teacher_a, branch_a):
    """王小明 (mother's phone 138 0000 1111) is in teacher A's class."""
    group = ClassGroupFactory(branch=branch_a, teacher=teacher_a)
    ContractFactory(student=family_a, class_group=group, course=group.course)
    return family_a


@pytest.mark.parametrize("q", ["00001111", "138 0000 1111", "1380", "1111"])
@pytest.mark.parametrize("htmx", [True, False])
def test_teacher_cannot_find_a_student_by_phone_digits(as_user, teacher_a, taught, q, htmx):
    response = as_user(teacher_a).get(reverse("search"), {"q": q}, **(HTMX if htmx else {}))
    assert response.status_code == 200
    assert "王小明" not in response.content.decode()


def test_teacher_still_finds_the_student_by_name(as_user, teacher_a, taught):
    response = as_user(teacher_a).get(reverse("search"), {"q": "王小"}, **HTMX)
    assert "王小明" in response.content.decode()


def test_front_desk_still_searches_by_phone(as_user, front_desk_a, taught):
    response = as_user(front_desk_a).get(reverse("search"), {"q": "00001111"}, **HTMX)
    assert "王小明" in response.content.decode()


def test_teacher_api_search_by_digits_finds_nothing(teacher_a, taught):
    res = client_for(teacher_a).get("/api/v1/students/", {"search": "00001111"})
    assert res.status_code == 200
    assert res.json()["count"] == 0


@pytest.mark.parametrize("url", ["admin:students_student_changelist",
                                 "admin:parents_parent_changelist"])
def test_teacher_admin_search_by_phone_digits_finds_nothing(client, teacher_a, taught, url):
    client.force_login(teacher_a)
    body = client.get(reverse(url), {"q": "00001111"}, secure=True).content.decode()
    assert "王小明" not in body and "李梅" not in body
    body = client.get(reverse(url), {"q": "王小明" if "student" in url else "李梅"},
                      secure=True).content.decode()
    assert "王小明" in body or "李梅" in body


def test_manager_admin_search_by_phone_still_works(client, manager_a, taught):
    client.force_login(manager_a)
    body = client.get(reverse("admin:students_student_changelist"), {"q": "00001111"},
                      secure=True).content.decode()
    assert "王小明" in body

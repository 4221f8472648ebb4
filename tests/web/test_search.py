import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.mark.parametrize("q", ["王小", "小明", "wangxiaoming", "wangx", "wxm", "138 0000 1111",
                               "00001111"])
def test_live_search_finds_by_name_pinyin_initials_and_phone_digits(as_user, front_desk_a,
                                                                    family_a, q):
    response = as_user(front_desk_a).get(reverse("search"), {"q": q}, **HTMX)
    assert response.templates[0].name == "workspace/search/_live.html"
    assert "王小明" in response.content.decode()


def test_search_never_shows_another_branchs_student(as_user, front_desk_a, family_a, family_b):
    html = as_user(front_desk_a).get(reverse("search"), {"q": "王小"}, **HTMX).content.decode()
    assert "王小明" in html and "王小刚" not in html
    html = as_user(front_desk_a).get(reverse("search"), {"q": "13900002222"}).content.decode()
    assert "王小刚" not in html


def test_a_plain_search_request_gets_the_full_paginated_page(as_user, front_desk_a, family_a):
    response = as_user(front_desk_a).get(reverse("search"), {"q": "wxm"})
    assert response.templates[0].name == "workspace/search/results.html"
    assert response.context["page"].paginator.count == 1


def test_an_empty_live_search_returns_nothing(as_user, front_desk_a, family_a):
    response = as_user(front_desk_a).get(reverse("search"), {"q": ""}, **HTMX)
    assert response.content.decode().strip() == ""

"""Staff are shown by their real names, never by their login where a name exists."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from crm.models import StaffProfile
from crm.text import name_from_parts, staff_name
from tests.factories import InteractionFactory

pytestmark = pytest.mark.django_db


def test_a_chinese_full_name_reads_family_name_first():
    user = get_user_model()(username="li_login", first_name="梅", last_name="李")
    assert staff_name(user) == "李梅"
    assert str(user) == "李梅"


def test_a_latin_full_name_reads_given_name_first():
    user = get_user_model()(username="jsmith", first_name="John", last_name="Smith")
    assert str(user) == "John Smith"


def test_the_display_name_is_used_when_the_user_row_has_no_name(branch_a):
    user = get_user_model().objects.create(username="t_login")
    StaffProfile.objects.create(user=user, role="teacher", branch=branch_a,
                                display_name="陈老师")
    user = get_user_model().objects.select_related("staff_profile").get(pk=user.pk)
    assert str(user) == "陈老师"


def test_the_login_is_the_last_resort():
    assert name_from_parts(first_name="", last_name="", display_name="", username="x1") == "x1"


def test_the_account_page_shows_the_counselor_and_the_caller_by_name(
        as_user, family, named_counselor, manager_a):
    InteractionFactory(student=family, staff=named_counselor, occurred_at=timezone.now(),
                       with_whom="student", parent=None)
    html = as_user(manager_a).get(f"/students/{family.pk}/").content.decode()
    assert "张伟" in html
    assert "zhangw_login" not in html

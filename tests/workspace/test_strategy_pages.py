"""The strategy board and edit page, and the customer type card on the account page:
managers and head office edit, counselors read, front desk and teachers see no type."""
import pytest
from django.urls import reverse

from lifecycle.models import TypeStrategy
from tests.factories import ClassGroupFactory, ContractFactory
from tests.workspace.conftest import scored

pytestmark = pytest.mark.django_db


@pytest.fixture
def student(branch_a, counselor_a):
    return scored(branch_a, counselor=counselor_a, period="growth", segment="develop",
                  current=40, potential=85, name_zh="王小明")


def _edit_url(ctype="develop.maintenance", **query):
    url = reverse("work:strategy_edit", args=[ctype])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_manager_edits_their_branch_and_the_counselor_reads_it(as_user, client, manager_a,
                                                               counselor_a, branch_a,
                                                               student):
    response = as_user(manager_a).post(_edit_url(), {
        "strategy_zh": "本校区发展型：主推物理", "actions_zh": "推荐物理\n组合优惠",
        "strategy_en": "", "actions_en": ""})
    assert response.status_code == 302
    row = TypeStrategy.objects.get(branch=branch_a, customer_type="develop.maintenance")
    assert row.strategy_zh == "本校区发展型：主推物理" and row.updated_by == manager_a
    client.logout()
    html = as_user(counselor_a).get(reverse("students:detail", args=[student.pk])
                                    ).content.decode()
    assert 'id="customer-type-card"' in html
    assert "本校区发展型：主推物理" in html and "<li>组合优惠</li>" in html
    assert 'id="edit-type-strategy"' not in html  # counselors read only
    board = as_user(counselor_a).get(reverse("work:strategies")).content.decode()
    assert "本校区发展型：主推物理" in board and "strategy-edit" not in board
    assert as_user(counselor_a).post(_edit_url(), {"strategy_zh": "x"}).status_code == 403


def test_the_account_page_shows_the_type_in_words(as_user, manager_a, student):
    html = as_user(manager_a).get(reverse("students:detail", args=[student.pk])
                                  ).content.decode()
    assert "Develop (发展) · Maintenance (维系)" in html
    assert "develop.maintenance" not in html.replace(
        reverse("work:strategy_edit", args=["develop.maintenance"]), "")
    assert 'id="edit-type-strategy"' in html


@pytest.mark.parametrize("who", ["front_desk_a", "teacher_a"])
def test_front_desk_and_teachers_see_no_type(as_user, request, who, student, teacher_a):
    group = ClassGroupFactory(branch=student.branch, teacher=teacher_a)
    ContractFactory(student=student, class_group=group)
    user = request.getfixturevalue(who)
    response = as_user(user).get(reverse("students:detail", args=[student.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="customer-type-card"' not in html and "发展" not in html
    assert as_user(user).get(reverse("work:strategies")).status_code == 403
    assert as_user(user).get(_edit_url()).status_code == 403


def test_a_manager_cannot_edit_another_branch_or_the_default(as_user, manager_a, branch_b):
    # the branch parameter is not theirs to choose: they edit their own branch's
    as_user(manager_a).post(_edit_url(branch=branch_b.pk), {"strategy_zh": "越权"})
    assert not TypeStrategy.objects.filter(branch=branch_b).exists()
    assert TypeStrategy.objects.get(strategy_zh="越权").branch == manager_a.staff_profile.branch
    assert TypeStrategy.objects.filter(branch__isnull=True, strategy_zh="越权").count() == 0


def test_head_office_edits_the_institution_default(as_user, head_office):
    response = as_user(head_office).post(_edit_url("ordinary.expected"),
                                         {"strategy_zh": "总部：统一群发"})
    assert response.status_code == 302
    row = TypeStrategy.objects.get(branch__isnull=True, customer_type="ordinary.expected")
    assert row.strategy_zh == "总部：统一群发"


def test_an_empty_strategy_is_refused_with_the_field_named(as_user, manager_a, branch_a):
    response = as_user(manager_a).post(_edit_url(), {"strategy_zh": " ", "actions_zh": "a"})
    assert response.status_code == 200
    assert "Strategy (Chinese)" in response.content.decode()
    assert not TypeStrategy.objects.filter(branch=branch_a).exists()


def test_reset_returns_the_branch_to_the_default(as_user, manager_a, branch_a):
    client = as_user(manager_a)
    client.post(_edit_url(), {"strategy_zh": "临时"})
    response = client.post(reverse("work:strategy_reset", args=["develop.maintenance"]))
    assert response.status_code == 302
    assert not TypeStrategy.objects.filter(branch=branch_a).exists()


def test_an_unknown_type_is_not_found(as_user, manager_a):
    assert as_user(manager_a).get(_edit_url("core.nowhere")).status_code == 404


def test_board_shows_the_grid_of_twelve(as_user, head_office):
    response = as_user(head_office).get(reverse("work:strategies"))
    assert response.status_code == 200
    assert response.content.decode().count('class="strategy-cell"') == 12

"""The student list narrowed by branch (head office), counselor, grade and customer type;
each role is offered only the filters it may use, and an unoffered one is ignored."""
import pytest
from django.urls import reverse

from crm.roles import Role
from tests.factories import staff
from tests.workspace.conftest import scored

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(branch_a, branch_b, counselor_a, counselor_a2):
    return {
        "a_core_s1": scored(branch_a, counselor=counselor_a, period="growth", segment="core",
                            grade="S1", name_zh="甲一"),
        "a_core_end": scored(branch_a, counselor=counselor_a2, period="termination",
                             segment="core", grade="S2", name_zh="甲二"),
        "a_ord_s1": scored(branch_a, counselor=counselor_a2, period="maturity",
                           segment="ordinary", grade="S1", name_zh="甲三"),
        "b_core_s1": scored(branch_b, period="at_risk", segment="core", grade="S1",
                            name_zh="乙一"),
    }


def _names(response):
    return sorted(s.name_zh for s in response.context["page"].object_list)


def test_head_office_filters_by_branch_grade_and_type(as_user, head_office, rows, branch_a,
                                                      branch_b):
    url = reverse("students:list")
    client = as_user(head_office)
    assert _names(client.get(url, {"branch": branch_b.pk})) == ["乙一"]
    assert _names(client.get(url, {"grade": "S1"})) == ["乙一", "甲一", "甲三"]
    assert _names(client.get(url, {"segment": "core", "phase": "maintenance"})) == [
        "乙一", "甲一"]
    assert _names(client.get(url, {"segment": "core", "phase": "recovery",
                                   "branch": branch_a.pk})) == ["甲二"]
    form = client.get(url).context["filters"]
    assert set(form.fields) == {"branch", "counselor", "grade", "segment", "phase"}


def test_manager_filters_by_counselor_but_not_by_branch(as_user, manager_a, counselor_a,
                                                        counselor_a2, rows, branch_b):
    url = reverse("students:list")
    client = as_user(manager_a)
    assert _names(client.get(url, {"counselor": counselor_a2.pk})) == ["甲三", "甲二"]
    # another branch asked for: not offered, so ignored (the rows stay the manager's)
    response = client.get(url, {"branch": branch_b.pk})
    assert "branch" not in response.context["filters"].fields
    assert _names(response) == ["甲一", "甲三", "甲二"]
    counselors = [c for c, _label in response.context["filters"].fields["counselor"].choices
                  if c]
    assert {int(str(c)) for c in counselors} == {counselor_a.pk, counselor_a2.pk}


def test_front_desk_gets_no_score_derived_filter(as_user, front_desk_a, rows):
    url = reverse("students:list")
    response = as_user(front_desk_a).get(url, {"segment": "ordinary"})
    assert set(response.context["filters"].fields) == {"grade"}
    assert _names(response) == ["甲一", "甲三", "甲二"]  # the segment was not applied
    assert "value segment" not in response.content.decode()


def test_a_bad_value_is_named_and_not_applied(as_user, head_office, rows):
    response = as_user(head_office).get(reverse("students:list"), {"grade": "X9"})
    assert response.status_code == 200
    assert len(_names(response)) == 4
    assert "Grade: Select a valid choice" in response.content.decode()


def test_counselor_filter_lists_only_counselors_of_the_branch(as_user, manager_a, branch_b):
    other = staff(Role.COUNSELOR, branch_b, username="elsewhere")
    response = as_user(manager_a).get(reverse("students:list"))
    values = {str(c) for c, _l in response.context["filters"].fields["counselor"].choices}
    assert str(other.pk) not in values

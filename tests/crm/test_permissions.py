"""Row scoping by role and branch: the helpers every view, API and job relies on."""
import pytest

from crm.permissions import (
    can_see_contact,
    can_see_money,
    can_see_scores,
    role_of,
    scope_by_student,
    scope_parents,
    scope_students,
)
from students.models import Contract, Student
from tests.factories import (
    ClassGroupFactory,
    ContractFactory,
    GuardianshipFactory,
    ParentFactory,
    StudentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def students(branch_a, branch_b, counselor_a, counselor_a2):
    return {
        "mine": StudentFactory(branch=branch_a, counselor=counselor_a),
        "colleague": StudentFactory(branch=branch_a, counselor=counselor_a2),
        "pool": StudentFactory(branch=branch_a, counselor=None),
        "other_branch": StudentFactory(branch=branch_b, counselor=None),
    }


def visible(user):
    return set(scope_students(user, Student.objects.all()).values_list("name_zh", flat=True))


def names(students, *keys):
    return {students[k].name_zh for k in keys}


def test_a_counselor_sees_own_caseload_and_the_branch_pool_only(students, counselor_a):
    assert visible(counselor_a) == names(students, "mine", "pool")


def test_a_counselor_of_branch_a_cannot_see_branch_b(students, counselor_b):
    assert visible(counselor_b) == names(students, "other_branch")


def test_a_manager_sees_the_whole_branch_and_nothing_else(students, manager_a):
    assert visible(manager_a) == names(students, "mine", "colleague", "pool")


def test_front_desk_sees_the_whole_branch_for_lookups(students, front_desk_a):
    assert visible(front_desk_a) == names(students, "mine", "colleague", "pool")


def test_head_office_sees_every_branch(students, head_office):
    assert visible(head_office) == names(students, "mine", "colleague", "pool", "other_branch")


def test_a_teacher_sees_only_students_of_own_classes(students, teacher_a, branch_a):
    group = ClassGroupFactory(branch=branch_a, teacher=teacher_a)
    ContractFactory(student=students["colleague"], class_group=group)
    ContractFactory(student=students["colleague"], class_group=group)  # no duplicates
    assert list(scope_students(teacher_a, Student.objects.all())) == [students["colleague"]]


def test_a_user_without_a_staff_profile_sees_nothing(students):
    outsider = UserFactory()
    assert role_of(outsider) is None
    assert visible(outsider) == set()


def test_a_superuser_without_profile_acts_as_head_office(students):
    root = UserFactory(is_superuser=True)
    assert len(visible(root)) == 4


def test_related_rows_follow_student_visibility(students, counselor_a):
    ContractFactory(student=students["mine"])
    ContractFactory(student=students["colleague"])
    ContractFactory(student=students["other_branch"])
    seen = scope_by_student(counselor_a, Contract.objects.all())
    assert [c.student for c in seen] == [students["mine"]]


def test_parents_follow_their_children_and_branch(students, counselor_a, front_desk_a, branch_a,
                                                  branch_b):
    mine = GuardianshipFactory(student=students["mine"]).parent
    colleague = GuardianshipFactory(student=students["colleague"]).parent
    other = GuardianshipFactory(student=students["other_branch"]).parent
    lone = ParentFactory(branch=branch_a)  # registered, no child yet
    from parents.models import Parent

    assert set(scope_parents(counselor_a, Parent.objects.all())) == {mine}
    assert set(scope_parents(front_desk_a, Parent.objects.all())) == {mine, colleague, lone}
    assert other not in scope_parents(front_desk_a, Parent.objects.all())


@pytest.mark.parametrize(
    ("role_fixture", "scores", "money", "contact"),
    [
        ("front_desk_a", False, False, True),
        ("teacher_a", False, False, False),
        ("counselor_a", True, True, True),
        ("manager_a", True, True, True),
        ("head_office", True, True, True),
    ],
)
def test_capabilities_per_role(request, role_fixture, scores, money, contact):
    user = request.getfixturevalue(role_fixture)
    assert (can_see_scores(user), can_see_money(user), can_see_contact(user)) == (
        scores, money, contact)

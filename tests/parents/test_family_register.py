"""Front desk registers a family (parents + students) in one step, never twice."""
import pytest
from django.core.exceptions import ValidationError

from crm.models import AuditLog
from parents.models import ContactConsent, Guardianship, Parent
from parents.services import (
    DuplicateFamilyError,
    ParentInput,
    StudentInput,
    family_register,
    parent_create,
)
from students.models import Student
from tests.factories import ParentFactory

pytestmark = pytest.mark.django_db


def two_parents(**first):
    return [
        ParentInput(name="王芳", phone="13900001111", relation="mother",
                    is_decision_maker=True, contact_channels=["phone", "wechat"], **first),
        ParentInput(name="李强", phone="13900002222", relation="father",
                    is_primary_contact=True),
    ]


def test_a_family_with_two_parents_and_two_children_is_registered_in_one_go(branch_a,
                                                                             front_desk_a):
    _parents, students = family_register(
        branch=branch_a, parents=two_parents(),
        students=[StudentInput(name_zh="李明", grade="S1"),
                  StudentInput(name_zh="李华", grade="P5", consent_method="paper")],
        actor=front_desk_a,
    )
    assert Guardianship.objects.count() == 4
    for student in students:
        assert student.parents.count() == 2
        primary = student.guardianships.get(is_primary_contact=True)
        assert primary.parent.name == "李强"
        assert student.guardianships.get(is_decision_maker=True).parent.name == "王芳"
    assert students[1].consents.get().guardian_name == "王芳"
    assert set(ContactConsent.objects.values_list("channel", flat=True)) == {"phone", "wechat"}
    assert AuditLog.objects.filter(action="family.register", actor=front_desk_a).exists()


def test_a_known_phone_offers_the_existing_family_and_creates_nothing(branch_a):
    existing = ParentFactory(phone="+8613900001111", name="王芳")
    with pytest.raises(DuplicateFamilyError) as exc:
        family_register(branch=branch_a, parents=two_parents(),
                        students=[StudentInput(name_zh="李明", grade="S1")])
    assert exc.value.parents == [existing]
    assert "Already registered: 王芳 (13900001111)" in exc.value.message_dict["phone"][0]
    assert Student.objects.count() == 0
    assert Parent.objects.count() == 1


def test_linking_the_existing_parent_adds_a_sibling_instead_of_a_copy(branch_a):
    parents, (first,) = family_register(
        branch=branch_a, parents=two_parents(),
        students=[StudentInput(name_zh="李明", grade="S1")])
    _same, (sibling,) = family_register(
        branch=branch_a,
        parents=[ParentInput(name="王芳", phone="13900001111", existing=parents[0],
                             relation="mother", is_primary_contact=True)],
        students=[StudentInput(name_zh="李丽", grade="S3")])
    assert Parent.objects.count() == 2
    assert set(parents[0].students.all()) == {first, sibling}


def test_a_bad_phone_rolls_back_the_whole_family(branch_a):
    parents = two_parents()
    parents[1].phone = "12345"
    with pytest.raises(ValidationError):
        family_register(branch=branch_a, parents=parents,
                        students=[StudentInput(name_zh="李明", grade="S1")])
    assert (Parent.objects.count(), Student.objects.count()) == (0, 0)


def test_an_under_14_child_without_consent_rolls_back_the_whole_family(branch_a):
    with pytest.raises(ValidationError) as exc:
        family_register(branch=branch_a, parents=two_parents(),
                        students=[StudentInput(name_zh="李明", grade="S1"),
                                  StudentInput(name_zh="李华", grade="P3")])
    assert "consent" in exc.value.message_dict
    assert (Parent.objects.count(), Student.objects.count()) == (0, 0)


@pytest.mark.parametrize(("parents", "students", "field"), [
    ([], [StudentInput(name_zh="李明", grade="S1")], "parents"),
    (None, [], "students"),
])
def test_a_family_needs_a_parent_and_a_student(branch_a, parents, students, field):
    with pytest.raises(ValidationError) as exc:
        family_register(branch=branch_a, parents=two_parents() if parents is None else parents,
                        students=students)
    assert field in exc.value.message_dict


def test_two_primary_contacts_are_refused(branch_a):
    parents = two_parents(is_primary_contact=True)
    with pytest.raises(ValidationError) as exc:
        family_register(branch=branch_a, parents=parents,
                        students=[StudentInput(name_zh="李明", grade="S1")])
    assert "Only one parent can be the primary contact" in str(exc.value)


def test_the_same_phone_twice_in_one_form_is_refused(branch_a):
    parents = two_parents()
    parents[1].phone = "139 0000 1111"
    with pytest.raises(ValidationError) as exc:
        family_register(branch=branch_a, parents=parents,
                        students=[StudentInput(name_zh="李明", grade="S1")])
    assert "entered twice" in str(exc.value)


def test_a_duplicate_phone_is_caught_whatever_format_was_typed(branch_a):
    parent_create(branch=branch_a, name="王芳", phone="+86 139-0000-1111")
    with pytest.raises(DuplicateFamilyError):
        parent_create(branch=branch_a, name="王芳", phone="13900001111")

"""The admin is scoped and masked by the same rules as everything else."""
import pytest
from django.urls import reverse

from students.models import Student
from tests.factories import (
    ClassGroupFactory,
    ContractFactory,
    GuardianshipFactory,
    StudentFactory,
)

pytestmark = pytest.mark.django_db


def get(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params, secure=True)


def test_a_manager_lists_only_students_of_own_branch(client, manager_a, branch_a, branch_b):
    StudentFactory(branch=branch_a, name_zh="甲同学")
    StudentFactory(branch=branch_b, name_zh="乙同学")
    response = get(client, manager_a, reverse("admin:students_student_changelist"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "甲同学" in body and "乙同学" not in body


def test_another_branch_student_page_is_not_found_for_a_manager(client, manager_a, branch_b):
    other = StudentFactory(branch=branch_b)
    response = get(client, manager_a, reverse("admin:students_student_change", args=[other.pk]))
    # Django's admin redirects to the index with "doesn't exist" rather than revealing it.
    assert response.status_code == 302


def test_front_desk_cannot_open_contracts(client, front_desk_a, branch_a):
    ContractFactory(student=StudentFactory(branch=branch_a))
    response = get(client, front_desk_a, reverse("admin:students_contract_changelist"))
    assert response.status_code == 403


def test_a_teacher_sees_masked_parent_phones(client, teacher_a, branch_a):
    student = StudentFactory(branch=branch_a)
    ContractFactory(student=student, class_group=ClassGroupFactory(branch=branch_a,
                                                                   teacher=teacher_a))
    GuardianshipFactory(student=student, parent__phone="+8613912345678")
    response = get(client, teacher_a, reverse("admin:parents_parent_changelist"))
    body = response.content.decode()
    assert "139****5678" in body and "13912345678" not in body
    parent = student.parents.get()
    detail = get(client, teacher_a, reverse("admin:parents_parent_change", args=[parent.pk]))
    assert detail.status_code == 200
    assert "13912345678" not in detail.content.decode()


def test_front_desk_sees_full_parent_phones(client, front_desk_a, branch_a):
    GuardianshipFactory(student=StudentFactory(branch=branch_a), parent__phone="+8613912345678")
    response = get(client, front_desk_a, reverse("admin:parents_parent_changelist"))
    assert "13912345678" in response.content.decode()


def test_students_are_found_by_pinyin_initials_and_parent_phone(client, manager_a, branch_a):
    s = StudentFactory(branch=branch_a, name_zh="张小明")
    GuardianshipFactory(student=s, parent__phone="+8613955554444")
    StudentFactory(branch=branch_a, name_zh="王大力")
    url = reverse("admin:students_student_changelist")
    for term in ("zxm", "zhangxiao", "5555444"):
        body = get(client, manager_a, url, q=term).content.decode()
        assert "张小明" in body and "王大力" not in body, term


def _student_form(branch, **extra):
    data = {
        "branch": branch.pk, "name_zh": "小雨", "gender": "f", "grade": "P4",
        "birth_date": "2017-05-01", "decision_style": "parent_led", "learning_style": "",
        "guardianships-TOTAL_FORMS": "0", "guardianships-INITIAL_FORMS": "0",
        "consents-TOTAL_FORMS": "1", "consents-INITIAL_FORMS": "0",
    }
    data.update(extra)
    return data


def test_the_admin_refuses_an_under_14_student_without_consent(client, manager_a, branch_a):
    client.force_login(manager_a)
    response = client.post(reverse("admin:students_student_add"), _student_form(branch_a),
                           secure=True)
    assert response.status_code == 200
    assert "under 14" in response.content.decode()
    assert not Student.objects.exists()


def test_the_admin_saves_an_under_14_student_with_consent(client, manager_a, branch_a):
    client.force_login(manager_a)
    data = _student_form(branch_a, **{
        "consents-0-guardian_name": "张伟", "consents-0-given_at_0": "2026-11-01",
        "consents-0-given_at_1": "10:00", "consents-0-method": "paper",
        "consents-0-scope": '["profile"]',
    })
    response = client.post(reverse("admin:students_student_add"), data, secure=True)
    assert response.status_code == 302, response.content.decode()[:3000]
    student = Student.objects.get()
    assert student.consents.get().guardian_name == "张伟"
    assert student.created_by == manager_a


def _admin_models():
    from django.contrib import admin

    ours = {"crm", "students", "parents", "lifecycle", "marketing"}
    return sorted(f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry
                  if m._meta.app_label in ours)


@pytest.mark.parametrize("label", _admin_models())
def test_every_admin_list_renders_with_a_search(client, label):
    from tests.factories import UserFactory

    app_label, model = label.split(".")
    StudentFactory()
    root = UserFactory(is_superuser=True)
    response = get(client, root, reverse(f"admin:{app_label}_{model}_changelist"), q="王")
    assert response.status_code == 200


def test_a_manager_merges_duplicate_students_from_the_admin(client, manager_a, branch_a):
    keep = StudentFactory(branch=branch_a, name_zh="李明")
    dup = StudentFactory(branch=branch_a, name_zh="李明")
    client.force_login(manager_a)
    response = client.post(reverse("admin:students_student_changelist"),
                           {"action": "merge_into_first", "_selected_action": [keep.pk, dup.pk]},
                           secure=True, follow=True)
    assert "Merged 1 records into 李明" in response.content.decode()
    assert list(Student.objects.values_list("pk", flat=True)) == [keep.pk]


def test_a_counselor_cannot_merge_from_the_admin(client, counselor_a, branch_a):
    a = StudentFactory(branch=branch_a, counselor=counselor_a)
    b = StudentFactory(branch=branch_a, counselor=counselor_a)
    client.force_login(counselor_a)
    response = client.post(reverse("admin:students_student_changelist"),
                           {"action": "merge_into_first", "_selected_action": [a.pk, b.pk]},
                           secure=True, follow=True)
    assert "Only managers can merge records." in response.content.decode()
    assert Student.objects.count() == 2

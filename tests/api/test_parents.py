"""Parents and families: masking, de-duplication by phone (409), idempotent registration."""
from __future__ import annotations

import pytest

from parents.models import Guardianship, Parent
from students.models import Student

from .conftest import client_for

pytestmark = pytest.mark.django_db


def family(phone="138 0000 1111", **extra):
    return {"parents": [{"name": "陈妈妈", "phone": phone, "relation": "mother",
                         "contact_channels": ["phone"]}],
            "students": [{"name_zh": "陈小宝", "grade": "S1"}], **extra}


def test_teachers_see_parents_contacts_masked(world, teacher_a, manager_a):
    parent = world["parent"]
    parent.wechat_id = "chenmama88"
    parent.save()

    seen = client_for(teacher_a).get(f"/api/v1/parents/{parent.pk}/").json()
    full = client_for(manager_a).get(f"/api/v1/parents/{parent.pk}/").json()

    assert seen["phone"] == "138****" + parent.phone[-4:]
    assert seen["wechat_id"] == "c********8"
    assert full["phone"] == parent.phone and full["wechat_id"] == "chenmama88"


def test_a_parents_children_list_only_visible_students(world, counselor_a, counselor_a2):
    from tests.factories import GuardianshipFactory, StudentFactory

    hidden = StudentFactory(branch=world["branch"], counselor=counselor_a2)
    GuardianshipFactory(student=hidden, parent=world["parent"], is_primary_contact=False)

    body = client_for(counselor_a).get(f"/api/v1/parents/{world['parent'].pk}/").json()
    assert body["children"] == [world["student"].pk]


def test_creating_a_parent_with_a_known_phone_is_409_with_the_existing_id(world, manager_a):
    spelled_differently = "+86 " + world["parent"].phone[3:]
    res = client_for(manager_a).post("/api/v1/parents/", {"name": "又一个",
                                                          "phone": spelled_differently})
    assert res.status_code == 409
    err = res.json()["error"]
    assert err["code"] == "duplicate_family"
    assert err["existing_parents"] == [world["parent"].pk]
    assert world["parent"].name not in err["message"]  # no names across branches


def test_a_parents_branch_is_never_the_clients_choice(front_desk_a, branch_a, branch_b):
    client = client_for(front_desk_a)
    refused = client.post("/api/v1/parents/", {"name": "赵", "phone": "13900002222",
                                               "branch": branch_b.pk})
    created = client.post("/api/v1/parents/", {"name": "赵", "phone": "13900002222"})
    assert refused.status_code == 400
    assert created.json()["branch"] == branch_a.pk
    assert created.json()["phone"] == "+8613900002222"


def test_front_desk_registers_a_family_in_one_step(front_desk_a, branch_a):
    res = client_for(front_desk_a).post("/api/v1/families/", family())
    assert res.status_code == 201, res.content
    body = res.json()
    parent = Parent.objects.get(pk=body["parents"][0]["id"])
    student = Student.objects.get(pk=body["students"][0]["id"])
    assert (parent.branch, student.branch) == (branch_a, branch_a)
    assert Guardianship.objects.get(parent=parent, student=student).is_primary_contact


def test_a_known_phone_at_registration_is_409_then_linking_it_registers_a_sibling(
        world, manager_a):
    client = client_for(manager_a)
    known = world["parent"]

    dup = client.post("/api/v1/families/", family(phone=known.phone))
    linked = client.post("/api/v1/families/", {
        "parents": [{"existing": known.pk, "relation": "mother"}],
        "students": [{"name_zh": "陈二宝", "grade": "S1"}]})

    assert dup.status_code == 409
    assert dup.json()["error"]["existing_parents"] == [known.pk]
    assert linked.status_code == 201
    assert known.students.count() == 2


def test_registration_errors_name_the_nested_field(manager_a):
    res = client_for(manager_a).post("/api/v1/families/", {
        "parents": [{"name": "钱", "phone": "12345"}], "students": [{"grade": "S1"}]})
    assert res.status_code == 400
    fields = res.json()["error"]["fields"]
    assert "students.0.name_zh" in fields

    bad_phone = client_for(manager_a).post("/api/v1/families/", family(phone="12345"))
    assert bad_phone.status_code == 400
    assert "parents.0.phone" in bad_phone.json()["error"]["fields"]


def test_a_retried_registration_with_the_same_key_creates_one_family(manager_a):
    client = client_for(manager_a)
    headers = {"Idempotency-Key": "reg-42"}

    first = client.post("/api/v1/families/", family(), headers=headers)
    again = client.post("/api/v1/families/", family(), headers=headers)
    other_body = client.post("/api/v1/families/", family(phone="13900003333"),
                             headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Parent.objects.count() == 1 and Student.objects.count() == 1
    assert other_body.status_code == 422
    assert other_body.json()["error"]["code"] == "idempotency_key_reused"


def test_a_failed_create_does_not_burn_the_idempotency_key(manager_a):
    client = client_for(manager_a)
    headers = {"Idempotency-Key": "reg-43"}
    assert client.post("/api/v1/families/", family(phone="1"), headers=headers
                       ).status_code == 400
    assert client.post("/api/v1/families/", family(phone="1"), headers=headers
                       ).status_code == 400
    assert Parent.objects.count() == 0


def test_teachers_cannot_register_families(teacher_a):
    assert client_for(teacher_a).post("/api/v1/families/", family()).status_code == 403


def test_guardianship_flags_are_validated_by_the_model(world, manager_a):
    from tests.factories import ParentFactory

    other = ParentFactory(branch=world["branch"])
    res = client_for(manager_a).post("/api/v1/guardianships/", {
        "student": world["student"].pk, "parent": other.pk, "relation": "father",
        "is_primary_contact": True})
    assert res.status_code == 400
    assert res.json()["error"]["fields"]  # one primary contact per student


def test_parent_search_by_phone_digits(world, manager_a):
    digits = world["parent"].phone[-5:]
    res = client_for(manager_a).get("/api/v1/parents/", {"search": digits}).json()
    assert [r["id"] for r in res["results"]] == [world["parent"].pk]

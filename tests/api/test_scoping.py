"""Every resource is scoped: another branch's records are 404, a role without the
capability is 403, and nobody anonymous or roleless gets anything."""
from __future__ import annotations

import pytest

from tests.factories import UserFactory

from .conftest import client_for

pytestmark = pytest.mark.django_db

# URL segment -> key of the branch-A object in the `world` fixture.
RESOURCES = {
    "branches": "branch", "students": "student", "parents": "parent",
    "guardianships": "guardianship", "courses": "course", "class-groups": "class_group",
    "sessions": "session", "attendance": "attendance", "contracts": "contract",
    "ledger-entries": "ledger_entry", "payments": "payment", "refunds": "refund",
    "exam-scores": "exam_score", "interactions": "interaction", "complaints": "complaint",
    "surveys": "survey",
}
MONEY = ["contracts", "ledger-entries", "payments", "refunds"]
NOT_FOR_FRONT_DESK = [*MONEY, "exam-scores", "complaints", "surveys"]


@pytest.mark.parametrize("resource", RESOURCES)
def test_a_counselor_never_reads_another_branchs_record(resource, world, counselor_b):
    obj = world[RESOURCES[resource]]
    client = client_for(counselor_b)

    detail = client.get(f"/api/v1/{resource}/{obj.pk}/")
    listed = client.get(f"/api/v1/{resource}/", {"page_size": 200})

    assert detail.status_code == 404
    assert detail.json()["error"]["code"] == "not_found"
    assert obj.pk not in [row["id"] for row in listed.json()["results"]]


@pytest.mark.parametrize("resource", RESOURCES)
def test_the_own_branch_sees_its_record_and_head_office_sees_both(resource, world, manager_a,
                                                                   head_office):
    obj, twin = world[RESOURCES[resource]], world[RESOURCES[resource] + "_b"]

    assert client_for(manager_a).get(f"/api/v1/{resource}/{obj.pk}/").status_code == 200
    assert client_for(manager_a).get(f"/api/v1/{resource}/{twin.pk}/").status_code == 404
    ids = [r["id"] for r in client_for(head_office).get(
        f"/api/v1/{resource}/", {"page_size": 200}).json()["results"]]
    assert {obj.pk, twin.pk} <= set(ids)


@pytest.mark.parametrize("resource", NOT_FOR_FRONT_DESK)
def test_front_desk_sees_no_money_and_no_scores(resource, world, front_desk_a):
    obj = world[RESOURCES[resource]]
    client = client_for(front_desk_a)

    listed = client.get(f"/api/v1/{resource}/")
    detail = client.get(f"/api/v1/{resource}/{obj.pk}/")

    assert (listed.status_code, detail.status_code) == (403, 403)
    assert listed.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("resource", ["staff", *RESOURCES])
def test_anonymous_callers_get_401_with_the_token_challenge(resource, world):
    res = client_for().get(f"/api/v1/{resource}/")
    assert res.status_code == 401
    assert res["WWW-Authenticate"].startswith("Token")
    assert res.json()["error"]["code"] == "not_authenticated"


def test_a_login_without_a_staff_role_gets_403(world):
    res = client_for(UserFactory()).get("/api/v1/students/")
    assert res.status_code == 403


def test_a_counselor_sees_own_caseload_and_the_pool_not_a_colleagues(world, counselor_a,
                                                                    counselor_a2):
    from tests.factories import StudentFactory

    pool = StudentFactory(branch=world["branch"], counselor=None)
    colleagues = StudentFactory(branch=world["branch"], counselor=counselor_a2)

    ids = {r["id"] for r in client_for(counselor_a).get("/api/v1/students/").json()["results"]}

    assert {world["student"].pk, pool.pk} <= ids
    assert colleagues.pk not in ids


def test_a_teacher_sees_only_the_students_of_own_classes(world, teacher_a):
    from tests.factories import StudentFactory

    other = StudentFactory(branch=world["branch"])
    ids = {r["id"] for r in client_for(teacher_a).get("/api/v1/students/").json()["results"]}
    assert ids == {world["student"].pk}
    assert other.pk not in ids


def test_staff_are_listed_without_passwords_or_contacts(world, manager_a):
    rows = client_for(manager_a).get("/api/v1/staff/").json()["results"]
    assert rows and all(set(r) == {"id", "username", "display_name", "role", "branch",
                                   "is_active"} for r in rows)
    assert {r["branch"] for r in rows} == {world["branch"].pk}


def test_filtering_by_another_branchs_id_reveals_nothing(world, counselor_b):
    """An existing foreign id and a missing id answer alike (200, empty)."""
    client = client_for(counselor_b)
    existing = client.get("/api/v1/contracts/", {"student": world["student"].pk}).json()
    missing = client.get("/api/v1/contracts/", {"student": 999999}).json()
    assert existing["count"] == missing["count"] == 0


def test_writes_cannot_point_at_another_branchs_records(world, counselor_b):
    res = client_for(counselor_b).post("/api/v1/interactions/", {
        "student": world["student"].pk, "with_whom": "student", "channel": "call",
        "occurred_at": "2025-03-01T10:00:00Z", "summary": "想看看"})
    assert res.status_code == 400
    assert "student" in res.json()["error"]["fields"]

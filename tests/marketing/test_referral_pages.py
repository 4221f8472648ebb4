"""Referral pages and API: recording who referred whom (student, parent, teacher, outside
person), the reward's status moves, branch scoping and denials; one service behind all."""
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from marketing.models import Referral, RewardPolicy
from tests.factories import ParentFactory, StudentFactory

from .factories import paid_contract

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.marketing.urls")]


def api(user):
    c = APIClient()
    c.force_authenticate(user)
    return c


@pytest.fixture
def policy():
    return RewardPolicy.objects.create(name="老带新", reward="4 课时", value=Decimal("800"))


def test_front_desk_records_a_referral_from_the_page(client, front_desk_a, branch_a, policy):
    newcomer, friend = StudentFactory(branch=branch_a), StudentFactory(branch=branch_a)
    client.force_login(front_desk_a)
    page = client.get(f"/m/referrals/new/?student={newcomer.pk}")
    assert page.status_code == 200
    assert page.context["chosen"]["referred"] == newcomer
    response = client.post("/m/referrals/new/", {
        "referred": newcomer.pk, "kind": "student", "referrer_student": friend.pk,
        "reward_policy": policy.pk, "note": "同班同学"})
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/m/referrals/{referral.pk}/"
    assert (referral.referred, referral.referrer_student, referral.reward_policy,
            referral.recorded_by) == (newcomer, friend, policy, front_desk_a)


def test_an_outside_referrer_without_a_name_is_refused_on_that_field(client, counselor_a,
                                                                    branch_a):
    newcomer = StudentFactory(branch=branch_a)
    client.force_login(counselor_a)
    response = client.post("/m/referrals/new/", {"referred": newcomer.pk, "kind": "outside"})
    assert response.status_code == 400
    assert "referrer_name" in response.context["form"].errors
    response = client.post("/m/referrals/new/", {"referred": newcomer.pk, "kind": "outside",
                                                 "referrer_name": "张阿姨",
                                                 "referrer_phone": "139 0000 2222"})
    assert response.status_code == 302
    assert Referral.objects.get().referrer_phone == "+8613900002222"


def test_a_teacher_of_the_branch_can_be_named_but_not_one_of_another(client, counselor_a,
                                                                     teacher_a, branch_a):
    from crm.roles import Role
    from tests.factories import staff

    elsewhere = staff(Role.TEACHER, username="t_elsewhere")
    newcomer = StudentFactory(branch=branch_a)
    client.force_login(counselor_a)
    response = client.post("/m/referrals/new/", {"referred": newcomer.pk, "kind": "staff",
                                                 "referrer_staff": elsewhere.pk})
    assert response.status_code == 400 and "referrer_staff" in response.context["form"].errors
    response = client.post("/m/referrals/new/", {"referred": newcomer.pk, "kind": "staff",
                                                 "referrer_staff": teacher_a.pk})
    assert response.status_code == 302


def test_another_branchs_student_can_be_neither_referred_nor_referrer(client, front_desk_a,
                                                                      branch_a, branch_b):
    mine, theirs = StudentFactory(branch=branch_a), StudentFactory(branch=branch_b)
    client.force_login(front_desk_a)
    response = client.post("/m/referrals/new/", {"referred": theirs.pk, "kind": "student",
                                                 "referrer_student": mine.pk})
    assert response.status_code == 400 and "referred" in response.context["form"].errors
    response = client.post("/m/referrals/new/", {"referred": mine.pk, "kind": "student",
                                                 "referrer_student": theirs.pk})
    assert response.status_code == 400
    assert "referrer_student" in response.context["form"].errors
    assert not Referral.objects.exists()


def test_the_lookup_finds_students_and_parents_of_the_branch_only(client, front_desk_a,
                                                                  branch_a, branch_b):
    StudentFactory(branch=branch_a, name_zh="陈小雨")
    StudentFactory(branch=branch_b, name_zh="陈小云")
    ParentFactory(branch=branch_a, name="陈妈妈", phone="+8613911112222")
    client.force_login(front_desk_a)
    found = client.get("/m/referrals/lookup/?field=referrer_student&q=陈小").content.decode()
    assert "陈小雨" in found and "陈小云" not in found
    assert 'name="referrer_student"' in found
    found = client.get("/m/referrals/lookup/?field=referrer_parent&q_referrer_parent=1111")
    assert "陈妈妈" in found.content.decode()
    assert client.get("/m/referrals/lookup/?field=password&q=x").status_code == 403


def test_reward_status_moves_on_the_page_for_counselors_not_front_desk(
        client, counselor_a, front_desk_a, branch_a, policy):
    from marketing.services import referral_record

    a, b = StudentFactory(branch=branch_a), StudentFactory(branch=branch_a)
    referral = referral_record(referred=b, kind="student", referrer_student=a,
                               reward_policy=policy)
    client.force_login(counselor_a)
    response = client.post(f"/m/referrals/{referral.pk}/", {"status": "earned"})
    assert response.status_code == 400  # no paid contract yet: not earned
    paid_contract(b)
    assert client.post(f"/m/referrals/{referral.pk}/", {"status": "earned"}).status_code == 302
    referral.refresh_from_db()
    assert referral.reward_status == "earned"
    client.force_login(front_desk_a)
    page = client.get(f"/m/referrals/{referral.pk}/")
    assert page.status_code == 200 and page.context["status_form"] is None
    assert client.post(f"/m/referrals/{referral.pk}/", {"status": "paid"}).status_code == 403


def test_the_reward_policy_changes_only_while_pending(client, counselor_a, branch_a, policy):
    from marketing.services import referral_record

    a, b = StudentFactory(branch=branch_a), StudentFactory(branch=branch_a)
    referral = referral_record(referred=b, kind="student", referrer_student=a)
    client.force_login(counselor_a)
    response = client.post(f"/m/referrals/{referral.pk}/", {"reward_policy": policy.pk,
                                                            "note": "补录"})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert (referral.reward_policy, referral.note) == (policy, "补录")
    Referral.objects.filter(pk=referral.pk).update(reward_status="void")
    assert client.post(f"/m/referrals/{referral.pk}/", {"reward_policy": ""}
                       ).status_code == 400


def test_teachers_are_refused_and_other_branches_are_404(client, teacher_a, counselor_b,
                                                         branch_a):
    from marketing.services import referral_record

    referral = referral_record(referred=StudentFactory(branch=branch_a), kind="outside",
                               referrer_name="张阿姨")
    client.force_login(teacher_a)
    assert client.get("/m/referrals/").status_code == 403
    assert client.get("/m/referrals/new/").status_code == 403
    client.force_login(counselor_b)
    assert client.get(f"/m/referrals/{referral.pk}/").status_code == 404


def test_the_list_takes_the_same_queries_for_2_or_20_referrals(client, manager_a, branch_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from marketing.services import referral_record

    def add(n):
        for _ in range(n):
            parent = ParentFactory(branch=branch_a)
            referral_record(referred=StudentFactory(branch=branch_a), kind="parent",
                            referrer_parent=parent)
            referral_record(referred=StudentFactory(branch=branch_a), kind="student",
                            referrer_student=StudentFactory(branch=branch_a))

    client.force_login(manager_a)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/m/referrals/").status_code == 200
        return len(ctx)

    add(1)
    few = queries()
    add(10)
    assert queries() == few


# --- API -----------------------------------------------------------------------------------

def test_the_api_records_a_parent_referral_and_moves_the_reward(counselor_a, branch_a,
                                                                policy):
    newcomer = StudentFactory(branch=branch_a)
    mother = ParentFactory(branch=branch_a)
    response = api(counselor_a).post("/api/v1/referrals/", {
        "referred": newcomer.pk, "referrer_kind": "parent", "referrer_parent": mother.pk,
        "reward_policy": policy.pk}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["referrer_label"], body["reward_status"]) == (str(mother), "pending")
    rid = body["id"]
    response = api(counselor_a).post(f"/api/v1/referrals/{rid}/reward/", {"reward_status": "paid"},
                                     format="json")
    assert response.status_code == 400
    assert "reward_status" in response.json()["error"]["fields"]
    response = api(counselor_a).post(f"/api/v1/referrals/{rid}/reward/", {"reward_status": "void"},
                                     format="json")
    assert response.status_code == 200 and response.json()["reward_status"] == "void"


def test_the_api_refuses_a_duplicate_and_names_the_field(counselor_a, branch_a):
    newcomer = StudentFactory(branch=branch_a)
    body = {"referred": newcomer.pk, "referrer_kind": "outside", "referrer_name": "张阿姨"}
    assert api(counselor_a).post("/api/v1/referrals/", body, format="json").status_code == 201
    response = api(counselor_a).post("/api/v1/referrals/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "duplicate"
    assert "referred" in response.json()["error"]["fields"]


def test_the_api_scopes_referrals_and_refuses_front_desk_rewards(front_desk_a, counselor_b,
                                                                 teacher_a, branch_a):
    newcomer = StudentFactory(branch=branch_a)
    response = api(front_desk_a).post("/api/v1/referrals/", {
        "referred": newcomer.pk, "referrer_kind": "outside", "referrer_name": "张阿姨"},
        format="json")
    assert response.status_code == 201
    rid = response.json()["id"]
    assert api(front_desk_a).post(f"/api/v1/referrals/{rid}/reward/", {"reward_status": "void"},
                                  format="json").status_code == 403
    assert api(counselor_b).get(f"/api/v1/referrals/{rid}/").status_code == 404
    assert api(counselor_b).get("/api/v1/referrals/").json()["count"] == 0
    assert api(teacher_a).get("/api/v1/referrals/").status_code == 403
    other = StudentFactory(branch=counselor_b.staff_profile.branch)
    response = api(front_desk_a).post("/api/v1/referrals/", {
        "referred": newcomer.pk, "referrer_kind": "student", "referrer_student": other.pk},
        format="json")
    assert response.status_code == 400
    assert "referrer_student" in response.json()["error"]["fields"]


def test_the_api_patches_the_reward_policy_while_pending(counselor_a, branch_a, policy):
    from marketing.services import referral_record

    referral = referral_record(referred=StudentFactory(branch=branch_a), kind="outside",
                               referrer_name="张阿姨")
    response = api(counselor_a).patch(f"/api/v1/referrals/{referral.pk}/",
                                      {"reward_policy": policy.pk, "note": "补录"},
                                      format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["reward_policy"], response.json()["note"]) == (policy.pk, "补录")

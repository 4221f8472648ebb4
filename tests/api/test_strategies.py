"""/api/v1/lifecycle/strategies/: counselors read, managers write their branch, head
office the institution or a branch; front desk and teachers get 403."""
import pytest

from lifecycle.models import TypeStrategy
from lifecycle.value import CUSTOMER_TYPES
from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db

LIST = "/api/v1/lifecycle/strategies/"


def test_counselor_reads_the_twelve_that_apply(counselor_a):
    response = client_for(counselor_a).get(LIST)
    assert response.status_code == 200
    body = response.json()
    assert [r["customer_type"] for r in body] == list(CUSTOMER_TYPES)
    assert all(r["branch"] is None and r["strategy_zh"] and r["actions_zh"] for r in body)


def test_manager_patches_their_branch_keeping_unsent_fields(manager_a, counselor_a,
                                                             branch_a):
    url = f"{LIST}core.maintenance/"
    default = TypeStrategy.objects.get(branch=None, customer_type="core.maintenance")
    response = client_for(manager_a).patch(url, {"strategy_zh": "本校区核心：校长每月面谈"},
                                           format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["branch"] == branch_a.pk
    row = TypeStrategy.objects.get(branch=branch_a, customer_type="core.maintenance")
    assert row.strategy_zh == "本校区核心：校长每月面谈"
    assert row.actions_zh == default.actions_zh  # not sent: kept
    mine = {r["customer_type"]: r for r in client_for(counselor_a).get(LIST).json()}
    assert mine["core.maintenance"]["strategy_zh"] == "本校区核心：校长每月面谈"
    reset = client_for(manager_a).post(f"{url}reset/", {}, format="json")
    assert reset.status_code == 200 and reset.json()["branch"] is None
    assert not TypeStrategy.objects.filter(branch=branch_a).exists()


def test_bad_input_names_the_field(manager_a, branch_a):
    response = client_for(manager_a).patch(f"{LIST}core.expected/", {"strategy_zh": " "},
                                           format="json")
    assert response.status_code == 400
    assert "strategy_zh" in str(response.json())
    assert not TypeStrategy.objects.filter(branch=branch_a).exists()
    assert client_for(manager_a).patch(f"{LIST}core.nowhere/", {"strategy_zh": "x"},
                                       format="json").status_code == 404


def test_head_office_writes_the_default(head_office):
    response = client_for(head_office).patch(f"{LIST}ordinary.recovery/",
                                             {"actions_zh": ["记录原因", "群发资讯"]},
                                             format="json")
    assert response.status_code == 200
    row = TypeStrategy.objects.get(branch=None, customer_type="ordinary.recovery")
    assert row.actions_zh == "记录原因\n群发资讯"


def test_who_is_refused(counselor_a, front_desk_a, teacher_a):
    for user in (front_desk_a, teacher_a):
        assert client_for(user).get(LIST).status_code == 403
    for user in (counselor_a, front_desk_a, teacher_a):
        response = client_for(user).patch(f"{LIST}core.expected/", {"strategy_zh": "x"},
                                          format="json")
        assert response.status_code == 403
        assert client_for(user).post(f"{LIST}core.expected/reset/", {},
                                     format="json").status_code == 403
    assert not TypeStrategy.objects.filter(strategy_zh="x").exists()

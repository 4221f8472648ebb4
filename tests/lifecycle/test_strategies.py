"""Strategies per customer type: seeded defaults, branch overrides, who may edit, bad
input named and nothing half-written, repeated saves never duplicate."""
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from crm.models import AuditLog
from lifecycle.models import TypeStrategy
from lifecycle.strategies import (
    account_type,
    strategies_for,
    strategy_reset,
    strategy_save,
    type_label,
)
from lifecycle.value import CUSTOMER_TYPES
from tests.workspace.conftest import scored

pytestmark = pytest.mark.django_db


def test_every_type_has_a_chinese_default_from_the_migration():
    rows = strategies_for(None)
    assert set(rows) == set(CUSTOMER_TYPES)
    assert all(r.branch_id is None and r.strategy_zh and r.actions for r in rows.values())
    with translation.override("zh-hans"):
        assert "核心" in rows["core.maintenance"].strategy
        assert len(rows["core.maintenance"].actions) >= 3
    with translation.override("en"):
        assert rows["core.recovery"].strategy.startswith("A lost core customer")


def test_a_branch_override_replaces_the_default_for_that_branch_only(
        manager_a, branch_a, branch_b):
    strategy_save(user=manager_a, branch=branch_a, customer_type="develop.maintenance",
                  strategy_zh="本校区：先做数学+物理组合", actions_zh="推荐物理\n\n- 组合优惠 ")
    mine = strategies_for(branch_a.pk)["develop.maintenance"]
    assert mine.branch_id == branch_a.pk and mine.actions == ["推荐物理", "组合优惠"]
    assert strategies_for(branch_b.pk)["develop.maintenance"].branch_id is None
    assert strategies_for(branch_a.pk)["core.maintenance"].branch_id is None
    assert AuditLog.objects.filter(action="strategy.save", branch=branch_a).count() == 1


def test_saving_twice_keeps_one_row(manager_a, branch_a):
    for text in ("第一版", "第二版"):
        strategy_save(user=manager_a, branch=branch_a, customer_type="core.expected",
                      strategy_zh=text)
    rows = TypeStrategy.objects.filter(branch=branch_a, customer_type="core.expected")
    assert [r.strategy_zh for r in rows] == ["第二版"]


def test_reset_brings_back_the_institution_strategy(manager_a, branch_a):
    strategy_save(user=manager_a, branch=branch_a, customer_type="core.expected",
                  strategy_zh="临时")
    assert strategy_reset(user=manager_a, branch=branch_a, customer_type="core.expected")
    assert strategies_for(branch_a.pk)["core.expected"].branch_id is None
    assert not strategy_reset(user=manager_a, branch=branch_a, customer_type="core.expected")


def test_who_may_edit(head_office, manager_a, counselor_a, front_desk_a, teacher_a,
                      branch_a, branch_b):
    strategy_save(user=head_office, branch=None, customer_type="core.expected",
                  strategy_zh="总部新版")
    assert strategies_for(None)["core.expected"].strategy_zh == "总部新版"
    strategy_save(user=head_office, branch=branch_b, customer_type="core.expected",
                  strategy_zh="总部为滨江写")
    with pytest.raises(PermissionDenied):  # a manager: not the institution's
        strategy_save(user=manager_a, branch=None, customer_type="core.expected",
                      strategy_zh="x")
    with pytest.raises(PermissionDenied):  # nor another branch's
        strategy_save(user=manager_a, branch=branch_b, customer_type="core.expected",
                      strategy_zh="x")
    for user in (counselor_a, front_desk_a, teacher_a):
        with pytest.raises(PermissionDenied):
            strategy_save(user=user, branch=branch_a, customer_type="core.expected",
                          strategy_zh="x")
    assert not TypeStrategy.objects.filter(strategy_zh="x").exists()


def test_bad_input_is_named_and_nothing_is_written(manager_a, branch_a):
    with pytest.raises(ValidationError) as err:
        strategy_save(user=manager_a, branch=branch_a, customer_type="core.expected",
                      strategy_zh="  ", actions_en="x" * 3000)
    assert set(err.value.message_dict) == {"strategy_zh", "actions_en"}
    assert "Strategy (Chinese)" in err.value.message_dict["strategy_zh"][0]
    with pytest.raises(ValidationError):
        strategy_save(user=manager_a, branch=branch_a, customer_type="core.nowhere",
                      strategy_zh="x")
    assert not TypeStrategy.objects.filter(branch=branch_a).exists()
    assert not AuditLog.objects.filter(action="strategy.save").exists()


def test_account_type_follows_the_current_period(branch_a):
    student = scored(branch_a, period="termination", segment="core")
    assert account_type(student.score, student.period) == "core.recovery"
    assert account_type(None, "growth") is None


def test_type_labels_are_words_in_both_languages():
    with translation.override("zh-hans"):
        assert type_label("core.maintenance") == "核心客户 · 维系"
    with translation.override("en"):
        label = type_label("ordinary.recovery")
    assert "ordinary" not in label and "Ordinary" in label

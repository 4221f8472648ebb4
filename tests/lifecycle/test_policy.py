"""LifecyclePolicy: validated field by field, branch overrides the default, versioned."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from lifecycle.models import LifecyclePolicy, PolicyValues
from lifecycle.selectors import policies_by_branch, policy_for
from lifecycle.services import policy_save

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("field", "value"), [
    ("growth_after_weeks", -1), ("risk_clear_days", -3), ("lapse_after_days", -1),
    ("growth_attendance_rate", Decimal("1.01")), ("risk_attendance_rate", Decimal("-0.01")),
    ("risk_threshold", 101), ("weight_satisfaction", 101),
    ("maturity_min_satisfaction", Decimal("0.5")), ("risk_window_weeks", 0),
])
def test_out_of_range_values_are_refused_on_their_field(field, value):
    with pytest.raises(ValidationError) as err:
        policy_save(policy=LifecyclePolicy(), actor=None, data={field: value})
    assert list(err.value.message_dict) == [field]
    assert not LifecyclePolicy.objects.exists()


@pytest.mark.parametrize(("field", "value"), [
    ("growth_attendance_rate", Decimal("1")), ("risk_attendance_rate", Decimal("0")),
    ("risk_threshold", 100), ("risk_clear_days", 0), ("maturity_min_satisfaction", 5),
])
def test_values_at_the_edges_of_their_range_are_accepted(field, value):
    policy = policy_save(policy=LifecyclePolicy(), actor=None, data={field: value})
    assert getattr(policy, field) == value


def test_without_any_row_the_built_in_defaults_apply(branch_a):
    assert policy_for(branch_a.pk) == PolicyValues()


def test_a_branch_row_overrides_the_institution_default(branch_a, branch_b):
    LifecyclePolicy.objects.create(risk_threshold=40)
    LifecyclePolicy.objects.create(branch=branch_a, risk_threshold=70)
    by_branch = policies_by_branch([branch_a.pk, branch_b.pk])
    assert by_branch[branch_a.pk].risk.threshold == 70
    assert by_branch[branch_b.pk].risk.threshold == 40
    assert policy_for(branch_b.pk).risk.threshold == 40


def test_only_one_institution_wide_default_can_exist():
    LifecyclePolicy.objects.create()
    with pytest.raises(ValidationError):
        LifecyclePolicy().full_clean()


def test_every_edit_is_versioned_with_its_author(manager_a, branch_a):
    policy = policy_save(policy=LifecyclePolicy(), actor=manager_a,
                         data={"branch": branch_a, "risk_threshold": 55})
    policy_save(policy=policy, actor=manager_a, data={"risk_threshold": 65})
    versions = list(policy.history.order_by("history_id"))
    assert [v.risk_threshold for v in versions] == [55, 65]
    assert {v.history_user for v in versions} == {manager_a}


def test_policy_values_are_floats_so_rates_compare_like_the_sql_figures():
    values = LifecyclePolicy(growth_attendance_rate=Decimal("0.85")).values()
    assert values.growth_attendance_rate == 17 / 20


def test_the_database_refuses_a_second_default_too():
    from django.db import IntegrityError, transaction

    LifecyclePolicy.objects.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        LifecyclePolicy.objects.create()

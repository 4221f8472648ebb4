"""Value scores, segments and the 12 types are pure: boundaries, weights, CPV/PPV inputs."""
from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from lifecycle.models import LifecyclePolicy
from lifecycle.services import policy_save
from lifecycle.value import (
    CUSTOMER_TYPES,
    Segment,
    ValueFigures,
    ValuePolicy,
    customer_type,
    indicators,
    segment_of,
    value_score,
)

P = ValuePolicy()


@pytest.mark.parametrize(("current", "potential", "segment"), [
    (71, 71, Segment.CORE), (70, 71, Segment.DEVELOP), (71, 70, Segment.MAINTAIN),
    (70, 70, Segment.ORDINARY), (100, 0, Segment.MAINTAIN), (0, 0, Segment.ORDINARY),
])
def test_over_70_is_high_and_exactly_70_is_low(current, potential, segment):
    assert segment_of(current, potential, 70) == segment


def test_the_cut_is_policy():
    assert segment_of(65, 65, 60) == Segment.CORE


def test_segment_times_phase_gives_twelve_types():
    assert len(CUSTOMER_TYPES) == 12
    assert customer_type(Segment.CORE, "at_risk") == "core.maintenance"
    assert customer_type(Segment.ORDINARY, "prospecting") == "ordinary.expected"
    assert customer_type(Segment.DEVELOP, "lapsed") == "develop.recovery"


def _loyal() -> ValueFigures:
    return ValueFigures(paid_total=30000, list_value=30000, contract_amount=30000,
                        spend_365=20000, subjects_365=2, renewals=3, tenure_days=800,
                        student_satisfaction=5, parent_satisfaction=5, recommend=10,
                        contacts_180=4, positive_contacts_180=4,
                        branch_avg_first_purchase=8000)


def test_a_loyal_full_price_family_is_core_with_every_indicator_explained():
    result = value_score(_loyal(), P)
    assert (result.current, result.potential) == (100, 100)
    assert result.segment == Segment.CORE
    assert set(result.indicators) == {"margin", "volume", "cost", "satisfaction", "loyalty",
                                      "trust", "influence"}
    breakdown = result.breakdown(P)
    assert breakdown["cut"] == 70 and breakdown["weights"]["margin"] == 40


def test_discounts_and_complaints_lower_current_value():
    discounted = value_score(ValueFigures(paid_total=30000, list_value=60000,
                                          contract_amount=30000, complaints_365=5), P)
    assert discounted.indicators["margin"] == 5.0
    assert discounted.indicators["cost"] == 0.0  # 5 complaints x 2 points
    assert discounted.current == round((40 * 5 + 40 * 10 + 20 * 0) / 10)


def test_weights_come_from_the_policy():
    only_volume = ValuePolicy(w_margin=0, w_volume=100, w_cost=0)
    assert value_score(ValueFigures(paid_total=15000, list_value=1, contract_amount=1),
                       only_volume).current == 50


def test_cpv_and_ppv_show_their_inputs():
    result = value_score(_loyal(), P)
    assert result.cpv == {"spending_capacity": 30000.0, "share_of_wallet": 0.667,
                          "unit_margin": 0.45, "value": pytest.approx(9000, abs=1)}
    assert result.ppv["influence"] == 1.0 and result.ppv["reach"] == 8.0
    assert result.ppv["avg_purchase_value"] == 1000.0  # 8000 x 1/8 close rate
    assert result.ppv["referral_count"] == 0
    assert result.ppv["value"] == 8000.0


def test_a_prospect_without_facts_scores_low_and_neutral():
    result = value_score(ValueFigures(), P)
    assert result.current == 0
    assert result.segment == Segment.ORDINARY


@pytest.mark.django_db
@pytest.mark.parametrize(("data", "field"), [
    ({"value_w_margin": 50}, "value_w_margin"),
    ({"value_w_trust": 10}, "value_w_satisfaction"),
])
def test_weights_that_do_not_sum_to_100_are_a_field_error(data, field):
    with pytest.raises(ValidationError) as err:
        policy_save(policy=LifecyclePolicy(), actor=None, data=data)
    assert list(err.value.message_dict) == [field]
    assert "sum to 100" in err.value.message_dict[field][0]


@pytest.mark.django_db
def test_weights_moved_between_indicators_are_accepted():
    policy = policy_save(policy=LifecyclePolicy(), actor=None,
                         data={"value_w_margin": 50, "value_w_volume": 30, "value_high_cut": 60})
    assert policy.values().value.w_margin == 50
    assert policy.values().value.high_cut == 60


def test_referrals_add_to_word_of_mouth_from_the_answer_or_from_neutral():
    assert indicators(ValueFigures(), P)["influence"] == 5.0  # no data: neutral
    assert indicators(ValueFigures(referral_count=2), P)["influence"] == 9.0
    assert indicators(ValueFigures(recommend=3.0, referral_count=1), P)["influence"] == 5.0
    assert indicators(ValueFigures(recommend=8.0, referral_count=3), P)["influence"] == 10.0
    assert value_score(ValueFigures(referral_count=2), P).ppv["reach"] == P.reach + 2


@pytest.mark.parametrize("x", [0, 0.0, -0.0, -1, -0.004, 0.004, 3, 3.0, 2.675, 5.005, 9.999,
                               9.995, 10, 10.0, 10.001, 11, float("inf"), -float("inf"),
                               float("nan")])
def test_the_fast_clip_is_round_of_max_of_min_value_and_type(x):
    """_clip10 skips min/max for speed (a dozen calls per account a night) but must give
    exactly round(max(0.0, min(10.0, x)), 2): the same value and the same type, as the
    stored breakdown's JSON shows ints and floats differently."""
    from lifecycle.value import _clip10

    expected = round(max(0.0, min(10.0, x)), 2)
    got = _clip10(x)
    assert (type(got), repr(got)) == (type(expected), repr(expected))


@pytest.mark.parametrize(("a", "b"), [(None, None), (4.0, None), (None, 2.5), (1.0, 2.0),
                                      (-0.0, None), (0.1, 0.2), (3, None), (3, 4)])
def test_the_mean_of_two_is_sum_over_len_of_those_known(a, b):
    from lifecycle.value import _mean

    known = [v for v in (a, b) if v is not None]
    expected = sum(known) / len(known) if known else None
    got = _mean(a, b)
    assert (type(got), repr(got)) == (type(expected), repr(expected))

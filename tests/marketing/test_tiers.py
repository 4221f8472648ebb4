"""Prospect tiers: points from the policy, thresholds editable, staff override with reason."""
import pytest
from django.core.exceptions import ValidationError

from crm.models import AuditLog
from marketing.models import Channel, MarketingPolicy, Stage, Tier, Urgency
from marketing.services import prospect_advance, prospect_ensure, prospect_tier_override
from marketing.tiering import TierFacts, tier_for, tier_points
from tests.factories import InteractionFactory, StudentFactory

pytestmark = pytest.mark.django_db

POLICY = MarketingPolicy()  # the built-in defaults: 30/15/0, referral 25, S3 15, ...


def facts(**kw):
    base = {"urgency": Urgency.LOW, "referral": False, "grade": "S1", "contacted": False,
            "trial_booked": False}
    return TierFacts(**(base | kw))


def test_points_add_up_from_each_signal():
    assert tier_points(facts(), POLICY) == 0
    assert tier_points(facts(urgency=Urgency.HIGH, referral=True, grade="S3", contacted=True,
                             trial_booked=True), POLICY) == 30 + 25 + 15 + 10 + 20


def test_thresholds_decide_the_tier():
    assert tier_for(60, POLICY) == Tier.QUALITY
    assert tier_for(59, POLICY) == Tier.ORDINARY
    assert tier_for(30, POLICY) == Tier.ORDINARY
    assert tier_for(29, POLICY) == Tier.POOR


def test_a_branch_policy_changes_the_thresholds(branch_a):
    MarketingPolicy.objects.create(branch=branch_a, quality_min_points=20, ordinary_min_points=10)
    student = StudentFactory(branch=branch_a, grade="S1")
    prospect = prospect_ensure(student=student, urgency=Urgency.MEDIUM)  # 15 points
    assert (prospect.tier_points, prospect.tier) == (15, Tier.ORDINARY)


def test_a_referred_senior_three_with_urgent_need_is_quality(branch_a):
    student = StudentFactory(branch=branch_a, grade="S3",
                             source=Channel.objects.get(code="referral"))
    prospect = prospect_ensure(student=student, urgency=Urgency.HIGH)
    assert prospect.tier == Tier.QUALITY  # 30 + 25 + 15 = 70


def test_contact_and_trial_booking_raise_the_tier(branch_a):
    student = StudentFactory(branch=branch_a, grade="S1")
    prospect = prospect_ensure(student=student, urgency=Urgency.LOW)
    assert prospect.tier == Tier.POOR
    InteractionFactory(student=student)
    prospect_advance(prospect=prospect, stage=Stage.TRIAL_BOOKED)
    prospect.refresh_from_db()
    assert (prospect.tier_points, prospect.tier) == (30, Tier.ORDINARY)


def test_staff_override_needs_a_reason_and_is_audited(branch_a, counselor_a):
    prospect = prospect_ensure(student=StudentFactory(branch=branch_a), urgency=Urgency.LOW)
    with pytest.raises(ValidationError):
        prospect_tier_override(prospect=prospect, tier=Tier.QUALITY, reason=" ",
                               actor=counselor_a)
    prospect_tier_override(prospect=prospect, tier=Tier.QUALITY, reason="家长是校长推荐",
                           actor=counselor_a)
    prospect.refresh_from_db()
    assert prospect.effective_tier == Tier.QUALITY
    assert prospect.tier == Tier.POOR  # the rule's tier is kept alongside
    log = AuditLog.objects.get(action="prospect.tier_override")
    assert log.data["reason"] == "家长是校长推荐" and log.actor == counselor_a


def test_policy_refuses_an_ordinary_threshold_above_quality():
    with pytest.raises(ValidationError):
        MarketingPolicy(quality_min_points=10, ordinary_min_points=20).full_clean()

"""Prospect tiering (DOMAIN.md §6: tier prospects quality / ordinary / poor and spend
accordingly). Pure: plain figures in, tier out; the weights come from MarketingPolicy."""
from __future__ import annotations

from dataclasses import dataclass

from .models import MarketingPolicy, Tier, Urgency


@dataclass(frozen=True)
class TierFacts:
    urgency: str
    referral: bool  # came through a word-of-mouth channel or has a referral record
    grade: str
    contacted: bool  # at least one logged interaction
    trial_booked: bool  # reached the trial-booked stage (or further)


def tier_points(facts: TierFacts, policy: MarketingPolicy) -> int:
    """Points from the policy's weights; word of mouth outweighs most other signals."""
    points = {
        Urgency.HIGH: policy.points_urgency_high,
        Urgency.MEDIUM: policy.points_urgency_medium,
        Urgency.LOW: policy.points_urgency_low,
    }.get(facts.urgency, 0)
    if facts.referral:
        points += policy.points_referral
    if facts.grade in (policy.exam_year_grades or []):
        points += policy.points_exam_year
    if facts.contacted:
        points += policy.points_contacted
    if facts.trial_booked:
        points += policy.points_trial_booked
    return points


def tier_for(points: int, policy: MarketingPolicy) -> str:
    if points >= policy.quality_min_points:
        return Tier.QUALITY
    if points >= policy.ordinary_min_points:
        return Tier.ORDINARY
    return Tier.POOR

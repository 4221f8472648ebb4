"""Marketing reads; import from `marketing.selectors`."""
from .analytics import (
    acquisition_vs_retention,
    can_see_analytics,
    churn_analysis,
    funnel,
    losses,
    win_back_candidates,
    win_back_moments,
    won_back,
)
from .campaigns import (
    campaign_audience,
    can_manage_campaigns,
    results_of,
    scope_campaigns,
    segment_students,
    with_results,
)
from .policy import policies_by_branch, policy_for
from .prospects import (
    ReferralFigures,
    follow_ups_due,
    prospect_list,
    public_pool,
    referral_figures,
    scope_prospects,
    unassigned_new_lead_count,
    unassigned_new_leads,
)

__all__ = [
    "ReferralFigures",
    "acquisition_vs_retention",
    "campaign_audience",
    "can_manage_campaigns",
    "can_see_analytics",
    "churn_analysis",
    "follow_ups_due",
    "funnel",
    "losses",
    "policies_by_branch",
    "policy_for",
    "prospect_list",
    "public_pool",
    "referral_figures",
    "results_of",
    "scope_campaigns",
    "scope_prospects",
    "segment_students",
    "unassigned_new_lead_count",
    "unassigned_new_leads",
    "win_back_candidates",
    "win_back_moments",
    "with_results",
    "won_back",
]

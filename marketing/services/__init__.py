"""Marketing writes; import from `marketing.services`."""
from .campaigns import campaign_export, campaign_handoff, campaign_save
from .enquiries import enquiry_convert, enquiry_rate_exceeded, enquiry_submit
from .prospects import (
    NEXT_STAGES,
    OPEN_STAGES,
    leads_auto_assign,
    private_lead_count,
    prospect_advance,
    prospect_assign,
    prospect_claim,
    prospect_ensure,
    prospect_follow_up,
    prospect_release,
    prospect_retier,
    prospect_sync,
    prospect_tier_override,
    prospects_sync,
    release_idle_leads,
)
from .recovery import exit_interview_record
from .referrals import (
    REWARD_NEXT,
    referral_record,
    referral_reward_set,
    referral_rewards_refresh,
    referral_update,
)
from .trials import courses_for, open_sessions, seats_left, trial_book, trial_record_outcome

__all__ = [
    "NEXT_STAGES",
    "OPEN_STAGES",
    "REWARD_NEXT",
    "campaign_export",
    "campaign_handoff",
    "campaign_save",
    "courses_for",
    "enquiry_convert",
    "enquiry_rate_exceeded",
    "enquiry_submit",
    "exit_interview_record",
    "leads_auto_assign",
    "open_sessions",
    "private_lead_count",
    "prospect_advance",
    "prospect_assign",
    "prospect_claim",
    "prospect_ensure",
    "prospect_follow_up",
    "prospect_release",
    "prospect_retier",
    "prospect_sync",
    "prospect_tier_override",
    "prospects_sync",
    "referral_record",
    "referral_reward_set",
    "referral_rewards_refresh",
    "referral_update",
    "release_idle_leads",
    "seats_left",
    "trial_book",
    "trial_record_outcome",
]

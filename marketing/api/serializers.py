"""Shapes of the marketing API (input serializers validate; services decide)."""
from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from crm.api.serializers import ScopedPrimaryKeyRelatedField
from crm.models import Branch
from crm.permissions import scope_branches, scope_students
from parents.models import Parent
from students.models import Student

from ..models import (
    Campaign,
    ChurnReason,
    Enquiry,
    ExitInterview,
    PipelineStep,
    Prospect,
    Referral,
    RewardPolicy,
    Stage,
    Tier,
)


class PipelineStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = PipelineStep
        fields = ["id", "stage", "on", "at", "actor", "note", "evidence"]


class ProspectSerializer(serializers.ModelSerializer):
    student_name = serializers.CharField(source="student.name_zh", read_only=True)
    branch = serializers.IntegerField(source="student.branch_id", read_only=True)
    effective_tier = serializers.CharField(read_only=True)

    class Meta:
        model = Prospect
        fields = ["id", "student", "student_name", "branch", "owner", "pool", "claimed_at",
                  "campaign", "urgency", "tier", "tier_points", "tier_override",
                  "tier_override_reason", "effective_tier", "stage", "stage_changed_at",
                  "lost_reason", "next_follow_up", "last_activity_at", "created_at"]
        read_only_fields = fields


class ProspectDetailSerializer(ProspectSerializer):
    steps = PipelineStepSerializer(many=True, read_only=True)

    class Meta(ProspectSerializer.Meta):
        fields = [*ProspectSerializer.Meta.fields, "steps"]
        read_only_fields = fields


class AdvanceInput(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices)
    on = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    lost_reason = serializers.CharField(required=False, allow_blank=True, default="")
    next_follow_up = serializers.DateField(required=False, allow_null=True)


class TierInput(serializers.Serializer):
    tier = serializers.ChoiceField(choices=[("", ""), *Tier.choices], allow_blank=True)
    reason = serializers.CharField()


class CampaignSerializer(serializers.ModelSerializer):
    """Read and write shape of a campaign. Writes go through services.campaign_save (the
    branch rule and the segment codes are checked there, as on the page)."""

    results = serializers.SerializerMethodField()
    branch = ScopedPrimaryKeyRelatedField(
        scope=scope_branches, queryset=Branch.objects,
        required=False, allow_null=True,
        help_text=_("Head office: empty for every branch. A manager's campaign is always "
                    "their branch's."))
    target_periods = serializers.ListField(child=serializers.CharField(), required=False)
    target_grades = serializers.ListField(child=serializers.CharField(), required=False)
    target_segments = serializers.ListField(child=serializers.CharField(), required=False)

    class Meta:
        model = Campaign
        fields = ["id", "code", "name", "kind", "branch", "channel", "contact_channel",
                  "starts_on", "ends_on", "cost", "target_periods", "target_grades",
                  "target_segments", "exam_from", "exam_until", "message", "is_active",
                  "created_by", "created_at", "results"]
        read_only_fields = ["created_by", "created_at", "results"]

    def get_results(self, obj: Campaign) -> dict[str, Any] | None:
        from ..selectors import results_of

        return results_of(obj) if hasattr(obj, "r_prospects") else None


class HandoffInput(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, default="")


class EnquirySerializer(serializers.ModelSerializer):
    class Meta:
        model = Enquiry
        fields = ["id", "branch", "campaign", "parent_name", "phone", "child_name", "grade",
                  "message", "status", "parent", "student", "created_at"]
        read_only_fields = fields


class ConvertInput(serializers.Serializer):
    consent_method = serializers.CharField(required=False, allow_blank=True, default="")


# --- referrals ---------------------------------------------------------------------------

def _referrer_students(user: Any, qs: Any) -> Any:
    from ..selectors import referrer_students

    return referrer_students(user)


def _referrer_parents(user: Any, qs: Any) -> Any:
    from ..selectors import referrer_parents

    return referrer_parents(user)


def _referrer_staff(user: Any, qs: Any) -> Any:
    from ..selectors import referrer_staff

    return referrer_staff(user)


class ReferralSerializer(serializers.ModelSerializer):
    """A referral as read; `referrer_label` is the referrer's display name whatever kind."""

    referrer_label = serializers.CharField(read_only=True)
    referred_name = serializers.CharField(source="referred.name_zh", read_only=True)
    # "referrer_kind" in the API: several resources have a "kind" of their own.
    referrer_kind = serializers.ChoiceField(source="kind", choices=Referral.Kind.choices,
                                            read_only=True)

    class Meta:
        model = Referral
        fields = ["id", "referred", "referred_name", "referrer_kind", "referrer_student",
                  "referrer_parent", "referrer_staff", "referrer_name", "referrer_phone",
                  "referrer_label", "reward_policy", "reward_status", "reward_changed_at",
                  "note", "recorded_by", "created_at"]
        read_only_fields = fields


class ReferralInput(serializers.Serializer):
    """Create a referral: name the referrer matching `kind` (ids limited to what the
    caller may see: the referred among their accounts, referrers in their branch)."""

    referred = ScopedPrimaryKeyRelatedField(
        scope=scope_students,
        queryset=Student.objects)
    referrer_kind = serializers.ChoiceField(choices=Referral.Kind.choices)
    referrer_student = ScopedPrimaryKeyRelatedField(
        scope=_referrer_students, required=False, allow_null=True,
        queryset=Student.objects)
    referrer_parent = ScopedPrimaryKeyRelatedField(
        scope=_referrer_parents, required=False, allow_null=True,
        queryset=Parent.objects)
    referrer_staff = ScopedPrimaryKeyRelatedField(
        scope=_referrer_staff, required=False, allow_null=True,
        queryset=get_user_model().objects)
    referrer_name = serializers.CharField(required=False, allow_blank=True, default="",
                                          max_length=50)
    referrer_phone = serializers.CharField(required=False, allow_blank=True, default="",
                                           max_length=30)
    reward_policy = serializers.PrimaryKeyRelatedField(
        queryset=RewardPolicy.objects.filter(is_active=True), required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class ReferralUpdateInput(serializers.Serializer):
    reward_policy = serializers.PrimaryKeyRelatedField(
        queryset=RewardPolicy.objects.all(), required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)


class RewardInput(serializers.Serializer):
    reward_status = serializers.ChoiceField(choices=Referral.RewardStatus.choices)


# --- exit interviews -----------------------------------------------------------------------

class ExitInterviewSerializer(serializers.ModelSerializer):
    reason_code = serializers.CharField(source="reason.code", read_only=True)

    class Meta:
        model = ExitInterview
        fields = ["id", "student", "transition", "reason", "reason_code", "detail",
                  "period_lost_in", "interviewer", "held_on", "created_at"]
        read_only_fields = fields


class ExitInterviewInput(serializers.Serializer):
    """Why a terminated or lapsed account left: a reason code from the managed list
    (GET /api/v1/marketing/churn-reasons/) and what they said (required for "other")."""

    student = ScopedPrimaryKeyRelatedField(
        scope=scope_students,
        queryset=Student.objects)
    reason = serializers.SlugRelatedField(slug_field="code",
                                          queryset=ChurnReason.objects.all())
    detail = serializers.CharField(required=False, allow_blank=True, default="")
    held_on = serializers.DateField(required=False, allow_null=True, default=None)


class ChurnReasonSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChurnReason
        fields = ["code", "name_zh", "name_en", "win_back_eligible", "is_active"]
        read_only_fields = fields

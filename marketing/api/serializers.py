"""Shapes of the marketing API (input serializers validate; services decide)."""
from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..models import Campaign, Enquiry, PipelineStep, Prospect, Stage, Tier


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
    results = serializers.SerializerMethodField()

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

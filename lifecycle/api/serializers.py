"""Input/output shapes of the lifecycle API; no business logic here (services decide)."""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from crm.models import Branch
from lifecycle.models import LifecyclePolicy, ScanRun, Transition
from lifecycle.periods import Pattern, Period, Phase


class TransitionOutput(serializers.ModelSerializer):
    from_label = serializers.CharField(source="get_from_period_display", read_only=True)
    to_label = serializers.CharField(source="get_to_period_display", read_only=True)
    trigger_label = serializers.CharField(source="get_trigger_display", read_only=True)
    actor = serializers.SerializerMethodField()

    class Meta:
        model = Transition
        fields = ["id", "from_period", "from_label", "to_period", "to_label", "at", "trigger",
                  "trigger_label", "actor", "reason", "evidence", "win_back", "scan_run"]

    def get_actor(self, obj: Transition) -> str | None:
        if obj.actor is None:
            return None
        profile = getattr(obj.actor, "staff_profile", None)
        return (profile.display_name if profile and profile.display_name
                else obj.actor.get_username())


class RiskOutput(serializers.Serializer):
    score = serializers.IntegerField()
    factors = serializers.ListField(child=serializers.DictField())
    clear_since = serializers.DateTimeField(allow_null=True)


class LifecycleOutput(serializers.Serializer):
    student = serializers.IntegerField()
    period = serializers.ChoiceField(choices=Period.choices)
    period_label = serializers.CharField()
    phase = serializers.ChoiceField(choices=Phase.choices)
    phase_label = serializers.CharField()
    previous_period = serializers.CharField(allow_blank=True)
    period_since = serializers.DateTimeField()
    pattern = serializers.ChoiceField(choices=Pattern.choices, allow_null=True)
    pattern_label = serializers.CharField(allow_null=True)
    allowed_targets = serializers.ListField(child=serializers.CharField())
    risk = RiskOutput(allow_null=True, required=False)
    timeline = TransitionOutput(many=True)


class TransitionInput(serializers.Serializer):
    to_period = serializers.ChoiceField(choices=Period.choices)
    reason = serializers.CharField(max_length=2000, trim_whitespace=True)
    expected_from = serializers.ChoiceField(
        choices=Period.choices, required=False,
        help_text=_("Optional: the period the client saw; refused if it changed meanwhile."))


class PolicySerializer(serializers.ModelSerializer):
    """Field validation comes from the model's validators (no negative days, rates 0-1...)."""

    branch = serializers.PrimaryKeyRelatedField(queryset=Branch.objects.all(), allow_null=True,
                                                required=False)

    class Meta:
        model = LifecyclePolicy
        fields = "__all__"
        read_only_fields = ["updated_at"]
        # The model's conditional unique constraint is checked by the view with a clearer
        # message than DRF's generic one.
        validators: list = []

    def validate_branch(self, value: Branch | None) -> Branch | None:
        request = self.context.get("request")
        if request is not None and (self.instance is None or self.instance.branch != value):
            # Who may write a policy for which branch is decided before anything else.
            from lifecycle.api.views import check_policy_branch

            check_policy_branch(request.user, value)
        qs = LifecyclePolicy.objects.filter(branch=value)
        if self.instance is not None:
            qs = qs.exclude(pk=self.instance.pk)
        if qs.exists():
            raise serializers.ValidationError(
                _("This branch already has a policy; edit it instead.") if value
                else _("There is already an institution-wide policy."))
        return value

    def to_representation(self, instance: LifecyclePolicy) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["branch_name"] = str(instance.branch) if instance.branch_id else None
        return data


class ScanRunOutput(serializers.ModelSerializer):
    class Meta:
        model = ScanRun
        fields = ["id", "branch", "status", "source", "started_by", "created_at", "started_at",
                  "finished_at", "scanned", "moved", "moved_total", "errors"]


class ScanRunInput(serializers.Serializer):
    branch = serializers.PrimaryKeyRelatedField(queryset=Branch.objects.all(), allow_null=True,
                                                required=False)

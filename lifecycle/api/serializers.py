"""Input/output shapes of the lifecycle API; no business logic here (services decide)."""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from crm.models import Branch
from lifecycle.explain import customer_type_label, factors_for_api, transition_reason
from lifecycle.models import (
    AccountScore,
    LifecyclePolicy,
    Playbook,
    RetentionTask,
    RiskProfile,
    ScanRun,
    ScoreHistory,
    Transition,
)
from lifecycle.periods import Pattern, Period, Phase


class TransitionOutput(serializers.ModelSerializer):
    from_label = serializers.CharField(source="get_from_period_display", read_only=True)
    to_label = serializers.CharField(source="get_to_period_display", read_only=True)
    trigger_label = serializers.CharField(source="get_trigger_display", read_only=True)
    actor = serializers.SerializerMethodField()
    reason = serializers.SerializerMethodField(
        help_text=_("Why it moved, in the request's language: a rule's move is worded from "
                    "its trigger and evidence (with the score only for roles that see "
                    "scores), a manual move in the person's words."))

    class Meta:
        model = Transition
        fields = ["id", "from_period", "from_label", "to_period", "to_label", "at", "trigger",
                  "trigger_label", "actor", "reason", "evidence", "win_back", "scan_run"]

    def get_reason(self, obj: Transition) -> str:
        shown = getattr(obj, "reason_shown", None)  # set for the viewer by the view
        return shown if shown is not None else transition_reason(obj, scores=False)

    def get_actor(self, obj: Transition) -> str | None:
        if obj.actor is None:
            return None
        return str(obj.actor)  # the real name (crm.text.staff_name)


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
        fields = ["id", "key", "branch", "status", "source", "started_by", "created_at",
                  "started_at", "finished_at", "attempts", "chunks_done", "scanned", "scored",
                  "moved", "moved_total", "moved_into_risk", "moved_out_of_risk",
                  "tasks_created", "tasks_escalated", "errors"]


class ScanRunInput(serializers.Serializer):
    branch = serializers.PrimaryKeyRelatedField(queryset=Branch.objects.all(), allow_null=True,
                                                required=False)


# --- issue #4: scores, retention tasks, playbooks, risk profiles ---------------------------

class ScoreOutput(serializers.ModelSerializer):
    """The stored scores with their explanations (texts in the request's language)."""

    student_name = serializers.CharField(source="student.name_zh", read_only=True)
    segment_label = serializers.CharField(source="get_segment_display", read_only=True)
    customer_type_label = serializers.SerializerMethodField()
    risk_factors = serializers.SerializerMethodField(
        help_text=_("Each counted factor: code, value, points and its words (text) in the "
                    "request's language; correlated signals are folded into the one counted."))
    risk_change = serializers.IntegerField(read_only=True, allow_null=True)
    risk_trend = serializers.SerializerMethodField()

    class Meta:
        model = AccountScore
        fields = ["student", "student_name", "branch", "period", "scored_at", "run",
                  "current_value", "potential_value", "segment", "segment_label",
                  "customer_type", "customer_type_label", "risk", "risk_factors",
                  "risk_week_ago", "risk_change", "risk_trend", "risk_trail", "breakdown",
                  "figures"]

    def get_customer_type_label(self, obj: AccountScore) -> str:
        return customer_type_label(obj.customer_type)

    def get_risk_factors(self, obj: AccountScore) -> list[dict]:
        return factors_for_api(obj.risk_factors)

    def get_risk_trend(self, obj: AccountScore) -> str | None:
        """'risk rose from 35 to 72 this week' when it moved by 10 points or more."""
        change = obj.risk_change
        if change is None or abs(change) < 10:
            return None
        msg = (_("risk rose from %(before)d to %(now)d this week") if change > 0
               else _("risk fell from %(before)d to %(now)d this week"))
        return str(msg % {"before": obj.risk_week_ago, "now": obj.risk})


class ScoreHistoryOutput(serializers.ModelSerializer):
    risk_factors = serializers.SerializerMethodField()

    def get_risk_factors(self, obj: ScoreHistory) -> list[dict]:
        return factors_for_api(obj.risk_factors)

    class Meta:
        model = ScoreHistory
        fields = ["run", "scored_at", "period", "current_value", "potential_value", "segment",
                  "customer_type", "risk", "risk_factors"]


class RetentionTaskOutput(serializers.ModelSerializer):
    student_name = serializers.CharField(source="student.name_zh", read_only=True)
    playbook_code = serializers.CharField(source="playbook.code", read_only=True)
    title = serializers.CharField(source="playbook.title", read_only=True)
    description = serializers.CharField(source="playbook.description", read_only=True)
    target_label = serializers.CharField(source="get_target_display", read_only=True)
    target_parent_name = serializers.CharField(source="target_parent.name", read_only=True,
                                               allow_null=True, default=None)
    is_overdue = serializers.BooleanField(read_only=True)
    reasons = serializers.SerializerMethodField(
        help_text=_("Why the task was opened: the risk factors at the time, with their words."))

    class Meta:
        model = RetentionTask
        fields = ["id", "student", "student_name", "branch", "playbook", "playbook_code",
                  "title", "description", "target", "target_label", "target_parent",
                  "target_parent_name", "assignee", "priority", "due_at", "is_overdue",
                  "status", "snoozed_until", "snooze_reason", "skip_reason", "outcome",
                  "evidence", "reasons", "created_at", "closed_at", "closed_by", "escalated_at",
                  "escalated_to"]


    def get_reasons(self, obj: RetentionTask) -> list[dict]:
        evidence = obj.evidence if isinstance(obj.evidence, dict) else {}
        return factors_for_api(evidence.get("factors"))


class TaskCompleteInput(serializers.Serializer):
    outcome = serializers.CharField(max_length=4000)


class TaskSkipInput(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class TaskSnoozeInput(serializers.Serializer):
    until = serializers.DateField()
    reason = serializers.CharField(max_length=200)


class _BranchScoped(serializers.ModelSerializer):
    branch = serializers.PrimaryKeyRelatedField(queryset=Branch.objects.all(), allow_null=True,
                                                required=False)


class PlaybookSerializer(_BranchScoped):
    class Meta:
        model = Playbook
        fields = ["id", "code", "branch", "period", "segment", "condition", "condition_value",
                  "assignee", "due", "due_hours", "cooldown_days", "priority", "title_zh",
                  "title_en", "description_zh", "description_en", "is_active", "updated_at"]
        read_only_fields = ["updated_at"]
        validators: list = []  # the model's constraints are checked by full_clean


class RiskProfileSerializer(_BranchScoped):
    class Meta:
        model = RiskProfile
        fields = "__all__"
        read_only_fields = ["updated_at"]
        validators: list = []

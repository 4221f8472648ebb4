"""Admin for the marketing app: editable lists (channels, reasons, rewards), policies,
campaigns; prospects and the rest are read mostly (their writes go through services)."""
from django.contrib import admin

from crm.admin import ScopedAdminMixin
from crm.permissions import scope_by_branch

from .models import (
    AudienceHandoff,
    Campaign,
    Channel,
    ChurnReason,
    Enquiry,
    ExitInterview,
    MarketingPolicy,
    PipelineStep,
    Prospect,
    Referral,
    RewardPolicy,
    TrialLesson,
)
from .selectors import scope_campaigns, scope_prospects


class ThroughServicesMixin:
    """Read-only here: these rows are written by the marketing pages and API through
    marketing.services (branch rules, consent, attribution, audit), never by a raw
    admin form that would skip them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "is_referral", "is_active", "sort_order")
    list_filter = ("is_active", "is_referral")
    search_fields = ("code", "name_zh", "name_en")
    list_editable = ("sort_order", "is_active")


@admin.register(ChurnReason)
class ChurnReasonAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "win_back_eligible", "is_active", "sort_order")
    list_editable = ("win_back_eligible", "is_active", "sort_order")


@admin.register(RewardPolicy)
class RewardPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "reward", "value", "is_active")


@admin.register(MarketingPolicy)
class MarketingPolicyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "quality_min_points", "ordinary_min_points", "private_pool_cap",
                    "idle_release_days", "assignment_mode")

    def get_queryset(self, request):
        return scope_by_branch(request.user, super().get_queryset(request))


@admin.register(Campaign)
class CampaignAdmin(ThroughServicesMixin, admin.ModelAdmin):
    list_display = ("name", "code", "kind", "branch", "starts_on", "cost", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "code")

    def get_queryset(self, request):
        return scope_campaigns(request.user, super().get_queryset(request))


class StepInline(admin.TabularInline):
    model = PipelineStep
    extra = 0
    can_delete = False
    readonly_fields = ("stage", "on", "at", "actor", "note", "evidence")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Prospect)
class ProspectAdmin(admin.ModelAdmin):
    list_display = ("student", "stage", "tier", "tier_override", "pool", "owner", "campaign",
                    "next_follow_up")
    list_filter = ("stage", "tier", "pool")
    raw_id_fields = ("student", "owner", "campaign", "tier_override_by")
    readonly_fields = ("stage", "stage_changed_at", "pool", "owner", "claimed_at", "tier",
                       "tier_points", "tier_override", "tier_override_reason",
                       "tier_override_by")
    inlines = [StepInline]

    def get_queryset(self, request):
        return scope_prospects(request.user, super().get_queryset(request))


@admin.register(Enquiry)
class EnquiryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "branch", "campaign", "parent_name", "child_name", "grade",
                    "status")
    list_filter = ("status",)
    raw_id_fields = ("parent", "student", "campaign")

    def get_queryset(self, request):
        return scope_by_branch(request.user, super().get_queryset(request))


@admin.register(Referral)
class ReferralAdmin(ThroughServicesMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope = "by_student"
    scope_field = "referred"
    list_display = ("referred", "kind", "referrer_name", "reward_policy", "reward_status")
    list_filter = ("kind", "reward_status")
    raw_id_fields = ("referred", "referrer_student", "referrer_parent", "referrer_staff")


@admin.register(ExitInterview)
class ExitInterviewAdmin(ThroughServicesMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope = "by_student"
    list_display = ("student", "reason", "period_lost_in", "held_on", "interviewer")
    list_filter = ("reason", "period_lost_in")
    raw_id_fields = ("student", "transition")


@admin.register(AudienceHandoff)
class AudienceHandoffAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_field = "campaign__branch"
    list_display = ("campaign", "kind", "channel", "recipients", "skipped", "actor", "at")
    readonly_fields = ("campaign", "kind", "channel", "recipients", "skipped", "actor", "at",
                       "text")


@admin.register(TrialLesson)
class TrialLessonAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Read-only: bookings and outcomes go through marketing.services.trials (the
    workspace's trial pages), which move the funnel; the admin only looks."""

    scope = "by_student"
    list_display = ("date", "start_time", "student", "course", "teacher", "outcome")
    list_filter = ("outcome",)
    date_hierarchy = "date"
    raw_id_fields = ("student", "course", "session", "teacher", "parent", "booked_by",
                     "outcome_by")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

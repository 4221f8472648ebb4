"""Marketing API: thin views over the marketing services and selectors.

Prospects follow the account scoping (crm.permissions); campaigns and analytics are
for managers (their branch) and head office; counselors and front desk get 403 there.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters as df
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.filters import IdFilter
from crm.api.idempotency import idempotent_call
from crm.api.permissions import CapabilityPermission, account_writers, managers, roles
from crm.api.viewsets import ScopedCreateReadViewSet, ScopedReadOnlyViewSet, ScopedViewSet
from crm.permissions import scope_by_branch, scope_by_student
from crm.roles import Role

from .. import selectors, services
from ..models import Campaign, ChurnReason, Enquiry, ExitInterview, Prospect, Referral
from . import serializers as s

counselors_up = roles(Role.COUNSELOR, Role.MANAGER, Role.HEAD_OFFICE)


class ProspectFilter(df.FilterSet):
    """Foreign keys by plain id (crm.api.filters.IdFilter): a ModelChoiceFilter answered 400
    for a missing id and 200 for another branch's, telling which ids exist."""

    owner = IdFilter(field_name="owner")
    campaign = IdFilter(field_name="campaign")

    class Meta:
        model = Prospect
        fields = ["pool", "stage", "tier", "owner", "campaign"]


class EnquiryFilter(df.FilterSet):
    campaign = IdFilter(field_name="campaign")

    class Meta:
        model = Enquiry
        fields = ["status", "campaign"]


class ProspectViewSet(ScopedReadOnlyViewSet):
    """Prospects (1:1 with students) with their pipeline; scoped like the accounts."""

    queryset = Prospect.objects.select_related("student").order_by("-created_at", "-id")
    serializer_class = s.ProspectSerializer
    scope = staticmethod(selectors.scope_prospects)
    read_capability = account_writers
    action_capabilities = {"advance": account_writers, "claim": roles(Role.COUNSELOR),
                           "tier": counselors_up, "release": counselors_up}
    filterset_class = ProspectFilter

    def get_serializer_class(self) -> Any:
        return s.ProspectDetailSerializer if self.action == "retrieve" else s.ProspectSerializer

    @extend_schema(request=s.AdvanceInput, responses=s.ProspectDetailSerializer)
    @action(detail=True, methods=["post"])
    def advance(self, request: Request, pk: str | None = None) -> Response:
        prospect = self.get_object()
        data = s.AdvanceInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.prospect_advance(prospect=prospect, actor=request.user, **data.validated_data)
        return Response(s.ProspectDetailSerializer(self.refetch(prospect)).data)

    @extend_schema(request=None, responses=s.ProspectSerializer)
    @action(detail=True, methods=["post"])
    def claim(self, request: Request, pk: str | None = None) -> Response:
        prospect = services.prospect_claim(prospect=self.get_object(), counselor=request.user)
        return Response(s.ProspectSerializer(self.refetch(prospect)).data)

    @extend_schema(request=None, responses=s.ProspectSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request: Request, pk: str | None = None) -> Response:
        prospect = self.get_object()
        if prospect.owner_id != request.user.pk and not managers(request.user):
            from rest_framework.exceptions import PermissionDenied

            raise PermissionDenied(_("Only the owner or a manager can release this lead."))
        prospect = services.prospect_release(prospect=prospect, actor=request.user,
                                             reason=str(request.data.get("reason", "")))
        return Response(s.ProspectSerializer(self.refetch(prospect)).data)

    @extend_schema(request=s.TierInput, responses=s.ProspectSerializer)
    @action(detail=True, methods=["post"])
    def tier(self, request: Request, pk: str | None = None) -> Response:
        data = s.TierInput(data=request.data)
        data.is_valid(raise_exception=True)
        prospect = services.prospect_tier_override(prospect=self.get_object(),
                                                   actor=request.user, **data.validated_data)
        return Response(s.ProspectSerializer(self.refetch(prospect)).data)


def _scope_campaigns(user: Any, qs: QuerySet) -> QuerySet:
    return selectors.with_results(selectors.scope_campaigns(user, qs))


class CampaignViewSet(ScopedViewSet):
    """Campaigns with their results; managers (their branch) and head office only.

    POST creates and PATCH edits through services.campaign_save: a manager's campaign is
    always their branch's, segment codes and dates are checked there (400 per field).
    """

    serializer_class = s.CampaignSerializer
    scope = staticmethod(_scope_campaigns)
    read_capability = managers
    write_capability = managers
    action_capabilities = {"handoff": managers}

    def base_queryset(self) -> QuerySet:
        return Campaign.objects.order_by("-starts_on", "-id")

    def create_object(self, serializer: Any) -> Campaign:
        return services.campaign_save(actor=self.request.user,
                                      data=dict(serializer.validated_data))

    def perform_update(self, serializer: Any) -> None:
        campaign = services.campaign_save(actor=self.request.user,
                                          data=dict(serializer.validated_data),
                                          campaign=serializer.instance)
        serializer.instance = self.refetch(campaign)

    @extend_schema(request=s.HandoffInput, responses={200: None})
    @action(detail=True, methods=["post"])
    def handoff(self, request: Request, pk: str | None = None) -> Response:
        """Queue the campaign's message for its audience (consent-checked); not a send."""
        data = s.HandoffInput(data=request.data)
        data.is_valid(raise_exception=True)
        handoff = services.campaign_handoff(campaign=self.get_object(), actor=request.user,
                                            text=data.validated_data["text"])
        return Response({"handoff": handoff.pk, "recipients": handoff.recipients,
                         "skipped": handoff.skipped, "channel": handoff.channel})


recorders = roles(Role.FRONT_DESK, Role.COUNSELOR, Role.MANAGER, Role.HEAD_OFFICE)


class ReferralViewSet(ScopedViewSet):
    """Who referred whom (DOMAIN.md §6). Front desk, counselors, managers and head office
    record them (POST) and edit the reward policy or note while pending (PATCH); the
    reward status moves through POST .../reward/ (not front desk: it is money)."""

    serializer_class = s.ReferralSerializer
    scope = staticmethod(selectors.scope_referrals)
    read_capability = recorders
    write_capability = recorders
    action_capabilities = {"reward": counselors_up}
    filterset_fields = ["reward_status", "referred"]

    def base_queryset(self) -> QuerySet:
        return Referral.objects.select_related(
            "referred", "referrer_student", "referrer_parent", "referrer_staff"
        ).order_by("-created_at", "-id")

    def get_serializer_class(self) -> Any:
        if self.action == "create":
            return s.ReferralInput
        if self.action == "partial_update":
            return s.ReferralUpdateInput
        return s.ReferralSerializer

    @extend_schema(request=s.ReferralInput, responses={201: s.ReferralSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return idempotent_call(request, lambda: self._create(request))

    def _create(self, request: Request) -> Response:
        data = s.ReferralInput(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        referral = services.referral_record(actor=request.user,
                                            kind=values.pop("referrer_kind"), **values)
        return Response(s.ReferralSerializer(self.refetch(referral)).data, status=201)

    @extend_schema(request=s.ReferralUpdateInput, responses=s.ReferralSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        referral = self.get_object()
        data = s.ReferralUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        referral = services.referral_update(
            referral=referral, actor=request.user,
            reward_policy=values.get("reward_policy", referral.reward_policy),
            note=values.get("note"))
        return Response(s.ReferralSerializer(self.refetch(referral)).data)

    @extend_schema(request=s.RewardInput, responses=s.ReferralSerializer)
    @action(detail=True, methods=["post"])
    def reward(self, request: Request, pk: str | None = None) -> Response:
        data = s.RewardInput(data=request.data)
        data.is_valid(raise_exception=True)
        referral = services.referral_reward_set(referral=self.get_object(), actor=request.user,
                                                status=data.validated_data["reward_status"])
        return Response(s.ReferralSerializer(self.refetch(referral)).data)


class ExitInterviewViewSet(ScopedCreateReadViewSet):
    """Exit interviews of terminated or lapsed accounts (the reason is required, from
    the managed list). POST goes through services.exit_interview_record, like the page."""

    serializer_class = s.ExitInterviewSerializer
    scope = staticmethod(scope_by_student)
    read_capability = counselors_up
    write_capability = counselors_up
    filterset_fields = ["student", "reason", "period_lost_in"]

    def base_queryset(self) -> QuerySet:
        return ExitInterview.objects.select_related("reason").order_by("-held_on", "-id")

    def get_serializer_class(self) -> Any:
        return s.ExitInterviewInput if self.action == "create" else s.ExitInterviewSerializer

    @extend_schema(request=s.ExitInterviewInput, responses={201: s.ExitInterviewSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return idempotent_call(request, lambda: self._create(request))

    def _create(self, request: Request) -> Response:
        data = s.ExitInterviewInput(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        interview = services.exit_interview_record(interviewer=request.user,
                                                   **data.validated_data)
        return Response(s.ExitInterviewSerializer(self.refetch(interview)).data, status=201)


class ChurnReasonViewSet(ScopedReadOnlyViewSet):
    """The managed list of reasons an exit interview picks from (active ones)."""

    serializer_class = s.ChurnReasonSerializer
    scope = staticmethod(lambda user, qs: qs)
    read_capability = counselors_up
    lookup_field = "code"
    pagination_class = None

    def base_queryset(self) -> QuerySet:
        return ChurnReason.objects.filter(is_active=True)


class EnquiryViewSet(ScopedReadOnlyViewSet):
    """Enquiries from the public page, for front desk to follow up and convert."""

    queryset = Enquiry.objects.order_by("-created_at", "-id")
    serializer_class = s.EnquirySerializer
    scope = staticmethod(scope_by_branch)
    read_capability = roles(Role.FRONT_DESK, Role.COUNSELOR, Role.MANAGER, Role.HEAD_OFFICE)
    action_capabilities = {"convert": roles(Role.FRONT_DESK, Role.MANAGER, Role.HEAD_OFFICE)}
    filterset_class = EnquiryFilter

    @extend_schema(request=s.ConvertInput, responses=s.ProspectSerializer)
    @action(detail=True, methods=["post"])
    def convert(self, request: Request, pk: str | None = None) -> Response:
        data = s.ConvertInput(data=request.data)
        data.is_valid(raise_exception=True)
        prospect = services.enquiry_convert(enquiry=self.get_object(), actor=request.user,
                                            **data.validated_data)
        return Response(s.ProspectSerializer(prospect).data)


# --- analytics (plain views) -------------------------------------------------------------

def _window(request: Request) -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    try:
        since = dt.date.fromisoformat(request.query_params.get("since") or
                                      (today - dt.timedelta(days=365)).isoformat())
        until = dt.date.fromisoformat(request.query_params.get("until") or today.isoformat())
    except ValueError as exc:
        raise ValidationError({"since": [_("Dates are YYYY-MM-DD.")]}) from exc
    if until < since:
        raise ValidationError({"until": [_("The window must end after it starts.")]})
    return since, until


class _Analytics(APIView):
    permission_classes = [CapabilityPermission]
    read_capability = managers


class ChurnView(_Analytics):
    """Losses by reason, period lost in, branch, counselor, grade and pattern, by month."""

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        since, until = _window(request)
        return Response(selectors.churn_analysis(request.user, since=since, until=until))


class FunnelView(_Analytics):
    """Prospect -> trial -> enrolled -> renewed by source (?by=source) or campaign."""

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        since, until = _window(request)
        by = request.query_params.get("by", "source")
        if by not in {"source", "campaign"}:
            raise ValidationError({"by": [_("Group by source or campaign.")]})
        return Response(selectors.funnel(request.user, since=since, until=until, by=by))


class CostsView(_Analytics):
    """Acquisition vs retention cost (campaign costs by kind) per customer won or kept."""

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        since, until = _window(request)
        return Response(selectors.acquisition_vs_retention(request.user, since=since,
                                                           until=until))


class WinBackView(APIView):
    """Win-back candidates for a day (?on=YYYY-MM-DD) and the accounts won back."""

    permission_classes = [CapabilityPermission]
    read_capability = counselors_up

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        try:
            on = dt.date.fromisoformat(request.query_params.get("on") or
                                       timezone.localdate().isoformat())
        except ValueError as exc:
            raise ValidationError({"on": [_("Dates are YYYY-MM-DD.")]}) from exc
        candidates = selectors.win_back_candidates(request.user, on=on)[:500]
        back = selectors.won_back(request.user)[:500]
        return Response({
            "on": on, "candidates": [
                {"student": c.pk, "name": c.name_zh, "period": c.period,
                 "lifetime_revenue": c.lifetime_revenue, "moment": c.moment,
                 "last_reason": c.last_reason} for c in candidates],
            "won_back": [{"student": t.student_id, "at": t.at, "transition": t.pk}
                         for t in back]})


class UnassignedAlertView(APIView):
    """How many new leads wait for an owner beyond the policy's hours (dashboard badge)."""

    permission_classes = [CapabilityPermission]
    read_capability = account_writers

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        leads = selectors.unassigned_new_leads(request.user)
        return Response({"count": leads.count(),
                         "oldest": [p.pk for p in leads[:20]]})

"""Thin API views: scope the lookup, validate the input, call the service, shape the output."""
from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.permissions import branch_of, can_see_scores, role_of, scope_students, sees_all_branches
from crm.roles import Role
from lifecycle.explain import factors_for_api, with_reasons
from lifecycle.models import LifecyclePolicy, RiskState, ScanRun
from lifecycle.periods import Pattern, Period, Phase, allowed_targets, phase_of
from lifecycle.selectors import pattern_of_student, timeline
from lifecycle.services import account_transition, can_transition, policy_save, scan_run_create
from lifecycle.tasks import scan_lifecycle_task
from students.models import Student

from .serializers import (
    LifecycleOutput,
    PolicySerializer,
    ScanRunInput,
    ScanRunOutput,
    TransitionInput,
    TransitionOutput,
)


def _drf_error(exc: DjangoValidationError) -> ValidationError:
    """Django's field errors as DRF's 400 body ({field: [messages]})."""
    if hasattr(exc, "error_dict"):
        return ValidationError(exc.message_dict)
    return ValidationError({"non_field_errors": exc.messages})


def _student(request: Request, pk: int) -> Student:
    """Another branch's (or another caseload's) student is a 404, not a 403."""
    return get_object_or_404(scope_students(request.user, Student.objects.all()), pk=pk)


class IsManagerOrHeadOffice(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return role_of(request.user) in {Role.MANAGER, Role.HEAD_OFFICE}


def lifecycle_payload(student: Student, user: Any) -> dict[str, Any]:
    pattern = pattern_of_student(student)
    risk = None
    if can_see_scores(user):
        state = RiskState.objects.filter(student=student).first()
        if state is not None:
            risk = {"score": state.score, "factors": factors_for_api(state.factors),
                    "clear_since": state.clear_since}
    # Reasons worded for this viewer; no evidence for roles that do not see scores.
    rows = with_reasons(timeline(student), scores=can_see_scores(user))
    return {
        "student": student.pk,
        "period": student.period,
        "period_label": Period(student.period).label,
        "phase": phase_of(student.period),
        "phase_label": Phase(phase_of(student.period)).label,
        "previous_period": student.previous_period,
        "period_since": student.period_since,
        "pattern": pattern,
        "pattern_label": Pattern(pattern).label if pattern else None,
        "allowed_targets": allowed_targets(student.period, student.previous_period),
        "risk": risk,
        "timeline": rows,
    }


class StudentLifecycleView(APIView):
    """Current period, phase, pattern and the timeline of one account."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=LifecycleOutput)
    def get(self, request: Request, pk: int) -> Response:
        student = _student(request, pk)
        return Response(LifecycleOutput(lifecycle_payload(student, request.user)).data)


class StudentTransitionView(APIView):
    """Move an account by hand (counselors, managers, head office), with a reason."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=TransitionInput, responses={201: TransitionOutput})
    def post(self, request: Request, pk: int) -> Response:
        student = _student(request, pk)
        if not can_transition(request.user):
            raise PermissionDenied(_("Your role cannot change lifecycle periods."))
        data = TransitionInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            row = account_transition(
                student=student, to_period=data.validated_data["to_period"],
                actor=request.user, trigger="manual", reason=data.validated_data["reason"],
                evidence={"source": "api"},
                expected_from=data.validated_data.get("expected_from"))
        except DjangoValidationError as exc:
            raise _drf_error(exc) from exc
        return Response(TransitionOutput(row).data, status=status.HTTP_201_CREATED)


def _policies_for(user: Any) -> QuerySet:
    qs = LifecyclePolicy.objects.select_related("branch")
    if sees_all_branches(user):
        return qs
    # Managers read the default they inherit and their own branch's row.
    return qs.filter(Q(branch__isnull=True) | Q(branch=branch_of(user)))


def check_policy_branch(user: Any, branch: Any) -> None:
    """Managers edit only their own branch's policy; the default is head office's."""
    if sees_all_branches(user):
        return
    if branch is None or branch != branch_of(user):
        raise PermissionDenied(_("Managers can only change their own branch's policy."))


class PolicyListView(generics.ListCreateAPIView):
    """Lifecycle policies: the institution-wide default and branch overrides."""

    permission_classes = [IsAuthenticated, IsManagerOrHeadOffice]
    serializer_class = PolicySerializer
    filter_backends: list = []

    def get_queryset(self) -> QuerySet:
        return _policies_for(self.request.user)

    def perform_create(self, serializer: PolicySerializer) -> None:
        data = dict(serializer.validated_data)
        check_policy_branch(self.request.user, data.get("branch"))
        try:
            serializer.instance = policy_save(policy=LifecyclePolicy(), actor=self.request.user,
                                              data=data)
        except DjangoValidationError as exc:
            raise _drf_error(exc) from exc


class PolicyDetailView(generics.RetrieveUpdateAPIView):
    permission_classes = [IsAuthenticated, IsManagerOrHeadOffice]
    serializer_class = PolicySerializer

    def get_queryset(self) -> QuerySet:
        return _policies_for(self.request.user)

    def perform_update(self, serializer: PolicySerializer) -> None:
        policy = serializer.instance
        check_policy_branch(self.request.user, policy.branch)
        data = dict(serializer.validated_data)
        if "branch" in data and data["branch"] != policy.branch:
            check_policy_branch(self.request.user, data["branch"])
        try:
            serializer.instance = policy_save(policy=policy, actor=self.request.user, data=data)
        except DjangoValidationError as exc:
            raise _drf_error(exc) from exc


class ScanRunListView(APIView):
    """Recent scan runs; POST starts one (managers for their branch, head office any)."""

    permission_classes = [IsAuthenticated, IsManagerOrHeadOffice]

    def _runs(self, user: Any) -> QuerySet:
        qs = ScanRun.objects.all()
        if not sees_all_branches(user):
            qs = qs.filter(Q(branch=branch_of(user)) | Q(branch__isnull=True))
        return qs

    @extend_schema(responses=ScanRunOutput(many=True))
    def get(self, request: Request) -> Response:
        runs = self._runs(request.user)[:50]
        return Response(ScanRunOutput(runs, many=True).data)

    @extend_schema(request=ScanRunInput, responses={202: ScanRunOutput})
    def post(self, request: Request) -> Response:
        data = ScanRunInput(data=request.data)
        data.is_valid(raise_exception=True)
        branch = data.validated_data.get("branch")
        if not sees_all_branches(request.user):
            if branch is not None and branch != branch_of(request.user):
                raise PermissionDenied(_("Managers can only scan their own branch."))
            branch = branch_of(request.user)
        run = scan_run_create(branch=branch, source=ScanRun.Source.API, actor=request.user)
        # Enqueue only once the run row is committed, so the worker can find it.
        scan_lifecycle_task.delay_on_commit(run_id=run.pk)
        return Response(ScanRunOutput(run).data, status=status.HTTP_202_ACCEPTED)

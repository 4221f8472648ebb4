"""Scores, the retention-task queue, playbooks and risk profiles (issue #4).

Thin: scope with crm.permissions, validate, call lifecycle.retention / services.
Front desk and teachers never see scores or tasks: 403.
"""
from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.permissions import branch_of, can_see_scores, scope_by_student, sees_all_branches
from lifecycle import retention
from lifecycle.models import AccountScore, Playbook, RetentionTask, RiskProfile, ScoreHistory
from lifecycle.services import policy_save

from .serializers import (
    PlaybookSerializer,
    RetentionTaskOutput,
    RiskProfileSerializer,
    ScoreHistoryOutput,
    ScoreOutput,
    TaskCompleteInput,
    TaskSkipInput,
    TaskSnoozeInput,
)
from .views import IsManagerOrHeadOffice, _drf_error, _student


class CanSeeScores(BasePermission):
    message = _("Your role does not see scores.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return can_see_scores(request.user)


class StudentScoreView(APIView):
    """One account's latest scores with explanations, and its recent score history."""

    permission_classes = [IsAuthenticated, CanSeeScores]

    @extend_schema(responses=ScoreOutput)
    def get(self, request: Request, pk: int) -> Response:
        student = _student(request, pk)
        score = get_object_or_404(AccountScore.objects.select_related("student"),
                                  student=student)
        history = ScoreHistory.objects.filter(student=student).order_by("-scored_at")[:30]
        return Response({**ScoreOutput(score).data,
                         "history": ScoreHistoryOutput(history, many=True).data})


class ScoreListView(generics.ListAPIView):
    """Scores of visible accounts; filter ?segment= &type= &period= &risk_min= &branch=."""

    permission_classes = [IsAuthenticated, CanSeeScores]
    serializer_class = ScoreOutput
    filter_backends: list = []

    def get_queryset(self) -> QuerySet:
        qs = scope_by_student(self.request.user,
                              AccountScore.objects.select_related("student"))
        p = self.request.query_params
        if p.get("segment"):
            qs = qs.filter(segment=p["segment"])
        if p.get("type"):
            qs = qs.filter(customer_type=p["type"])
        if p.get("period"):
            qs = qs.filter(period=p["period"])
        if p.get("branch", "").isdigit():
            qs = qs.filter(branch_id=int(p["branch"]))
        if p.get("risk_min", "").isdigit():
            qs = qs.filter(risk__gte=int(p["risk_min"]))
        return qs.order_by("-risk", "-current_value", "student_id")


class TaskListView(generics.ListAPIView):
    """Retention tasks of visible accounts; ?mine=1 (default for counselors) &status= &overdue=1."""

    permission_classes = [IsAuthenticated, CanSeeScores]
    serializer_class = RetentionTaskOutput
    filter_backends: list = []

    def get_queryset(self) -> QuerySet:
        from django.utils import timezone

        qs = retention.tasks_visible_to(self.request.user).select_related(
            "student", "playbook", "target_parent")
        p = self.request.query_params
        if p.get("mine", "1" if not IsManagerOrHeadOffice().has_permission(
                self.request, self) else "0") == "1":
            qs = qs.filter(Q(assignee=self.request.user) | Q(escalated_to=self.request.user))
        qs = qs.filter(status=p.get("status", RetentionTask.Status.OPEN))
        if p.get("overdue") == "1":
            qs = qs.filter(due_at__lt=timezone.now())
        return qs.order_by("-priority", "due_at", "id")


class TaskActionView(APIView):
    """POST claim / complete / skip / snooze on one task."""

    permission_classes = [IsAuthenticated, CanSeeScores]
    action: str = ""

    @extend_schema(request=None, responses=RetentionTaskOutput)
    def post(self, request: Request, pk: int) -> Response:
        task = get_object_or_404(retention.tasks_visible_to(request.user), pk=pk)
        try:
            if self.action == "claim":
                task = retention.task_claim(task=task, user=request.user)
            elif self.action == "complete":
                data = TaskCompleteInput(data=request.data)
                data.is_valid(raise_exception=True)
                task = retention.task_complete(task=task, user=request.user,
                                               outcome=data.validated_data["outcome"])
            elif self.action == "skip":
                data = TaskSkipInput(data=request.data)
                data.is_valid(raise_exception=True)
                task = retention.task_skip(task=task, user=request.user,
                                           reason=data.validated_data["reason"])
            else:
                data = TaskSnoozeInput(data=request.data)
                data.is_valid(raise_exception=True)
                task = retention.task_snooze(task=task, user=request.user,
                                             until=data.validated_data["until"],
                                             reason=data.validated_data["reason"])
        except DjangoValidationError as exc:
            raise _drf_error(exc) from exc
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        return Response(RetentionTaskOutput(task).data)


class WorkloadRow(serializers.Serializer):
    """One assignee's open and overdue retention tasks."""

    assignee_id = serializers.IntegerField(allow_null=True)
    assignee__username = serializers.CharField(allow_null=True)
    assignee_name = serializers.CharField(allow_null=True, help_text="The real name shown to "
                                          "people (falls back to the login).")
    open = serializers.IntegerField()
    overdue = serializers.IntegerField()


class OverdueByCounselorView(APIView):
    """Open and overdue tasks per assignee (the manager dashboard's workload table)."""

    permission_classes = [IsAuthenticated, IsManagerOrHeadOffice]

    @extend_schema(responses=WorkloadRow(many=True))
    def get(self, request: Request) -> Response:
        return Response(retention.overdue_by_counselor(user=request.user))


def _scoped_rows(model: type, user: Any) -> QuerySet:
    qs = model.objects.select_related("branch")
    if sees_all_branches(user):
        return qs
    return qs.filter(Q(branch__isnull=True) | Q(branch=branch_of(user)))


def _check_branch(user: Any, branch: Any) -> None:
    """Managers edit their own branch's rows; the defaults belong to head office."""
    if sees_all_branches(user):
        return
    if branch is None or branch != branch_of(user):
        raise PermissionDenied(_("Managers can only change their own branch's rows."))


class _BranchRowList(generics.ListCreateAPIView):
    permission_classes = [IsAuthenticated, IsManagerOrHeadOffice]
    filter_backends: list = []
    model: type = Playbook

    def get_queryset(self) -> QuerySet:
        return _scoped_rows(self.model, self.request.user)

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        _check_branch(self.request.user, data.get("branch"))
        try:
            serializer.instance = policy_save(policy=self.model(), actor=self.request.user,
                                              data=data)
        except DjangoValidationError as exc:
            raise _drf_error(exc) from exc


class _BranchRowDetail(generics.RetrieveUpdateAPIView):
    permission_classes = [IsAuthenticated, IsManagerOrHeadOffice]
    model: type = Playbook

    def get_queryset(self) -> QuerySet:
        return _scoped_rows(self.model, self.request.user)

    def perform_update(self, serializer: Any) -> None:
        row = serializer.instance
        _check_branch(self.request.user, row.branch)
        data = dict(serializer.validated_data)
        if "branch" in data and data["branch"] != row.branch:
            _check_branch(self.request.user, data["branch"])
        try:
            serializer.instance = policy_save(policy=row, actor=self.request.user, data=data)
        except DjangoValidationError as exc:
            raise _drf_error(exc) from exc


class PlaybookListView(_BranchRowList):
    """Retention playbooks: defaults and branch overrides (managers edit their branch's)."""

    serializer_class = PlaybookSerializer
    model = Playbook


class PlaybookDetailView(_BranchRowDetail):
    serializer_class = PlaybookSerializer
    model = Playbook


class RiskProfileListView(_BranchRowList):
    """Risk thresholds and weights per (branch, period)."""

    serializer_class = RiskProfileSerializer
    model = RiskProfile


class RiskProfileDetailView(_BranchRowDetail):
    serializer_class = RiskProfileSerializer
    model = RiskProfile

"""/api/v1/timetable/: rooms, terms, closed days, holidays, weekly rules, lessons (create,
move, cancel), leave requests (with make-up booking) and teachers' calendar feeds.

Every write calls timetable.services; a schedule conflict answers 409 with code
`schedule_conflict` and the conflicts (kind, date, times, message, suggestion).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as df
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from crm.api.errors import Conflict as ApiConflict
from crm.api.filters import IdFilter
from crm.api.idempotency import idempotent_call
from crm.api.permissions import any_role, managers, roles
from crm.api.schema import error_response
from crm.api.viewsets import ScopedCreateReadViewSet, ScopedReadOnlyViewSet, ScopedViewSet
from crm.permissions import scope_by_branch, scope_by_student
from crm.roles import Role
from students.models import ClassSession
from timetable import services
from timetable.access import check_schedule, scope_sessions
from timetable.models import (
    CalendarFeed,
    ClosedDay,
    Holiday,
    LeaveRequest,
    Room,
    ScheduleRule,
    Term,
)

from . import serializers as s

leave_takers = roles(Role.FRONT_DESK, Role.COUNSELOR, Role.MANAGER, Role.HEAD_OFFICE)
teachers = roles(Role.TEACHER, Role.MANAGER, Role.HEAD_OFFICE)
CONFLICT_409 = error_response(409, _("A schedule conflict: `conflicts` lists each one with "
                                     "who and when and a suggestion; nothing was saved."))


def conflict_checked(call: Callable[[], Any]) -> Any:
    """Run a service; a ConflictError becomes a 409 with the conflicts spelt out."""
    try:
        return call()
    except services.ConflictError as exc:
        raise ApiConflict(exc.messages[0], code="schedule_conflict", extra={"conflicts": [
            {"kind": c.kind, "date": c.placement.date.isoformat(),
             "start_time": c.placement.start.strftime("%H:%M"),
             "end_time": c.placement.end.strftime("%H:%M"), "message": c.message,
             "suggestion": c.suggestion} for c in exc.conflicts[:50]]}) from exc


def _branch_scope(field: str) -> Callable[[Any, QuerySet], QuerySet]:
    def scope(user: Any, qs: QuerySet) -> QuerySet:
        return scope_by_branch(user, qs, field)

    return staticmethod(scope)  # type: ignore[return-value]


class BranchCheckedMixin:
    """Writes name a branch: a manager may write only their own; a chain-wide row (no
    branch) is head office's."""

    request: Request

    def _check(self, serializer: Any) -> None:
        branch = serializer.validated_data.get("branch", getattr(serializer.instance, "branch",
                                                                 None))
        check_schedule(self.request.user, branch.pk if branch else None)

    def create_object(self, serializer: Any) -> Any:
        self._check(serializer)
        return serializer.save()

    def perform_update(self, serializer: Any) -> None:
        self._check(serializer)
        super().perform_update(serializer)  # type: ignore[misc]


class RoomViewSet(BranchCheckedMixin, ScopedViewSet):
    queryset = Room.objects.all()
    serializer_class = s.RoomSerializer
    scope = _branch_scope("branch")
    write_capability = staticmethod(managers)
    filterset_fields = ["branch", "is_active"]
    ordering_fields = ["name", "capacity", "id"]
    ordering = ["branch", "name"]


class TermViewSet(BranchCheckedMixin, ScopedViewSet):
    queryset = Term.objects.all()
    serializer_class = s.TermSerializer
    scope = staticmethod(lambda user, qs: qs)  # terms are calendar facts, not private
    write_capability = staticmethod(managers)
    ordering_fields = ["start_date", "id"]
    ordering = ["-start_date"]


class ClosedDayViewSet(BranchCheckedMixin, ScopedCreateReadViewSet):
    queryset = ClosedDay.objects.all()
    serializer_class = s.ClosedDaySerializer
    scope = _branch_scope("branch")
    write_capability = staticmethod(managers)
    filterset_fields = ["branch"]
    ordering_fields = ["date", "id"]
    ordering = ["date"]


class HolidayViewSet(ScopedReadOnlyViewSet):
    queryset = Holiday.objects.all()
    serializer_class = s.HolidaySerializer
    scope = staticmethod(lambda user, qs: qs)
    ordering_fields = ["date"]
    ordering = ["date"]


class RuleViewSet(ScopedViewSet):
    """Weekly rules; creating or editing one (re)writes its lessons (409 on a conflict)."""

    queryset = ScheduleRule.objects.select_related("class_group")
    serializer_class = s.RuleSerializer
    scope = _branch_scope("class_group__branch")
    write_capability = staticmethod(managers)
    filterset_fields = ["class_group", "term", "teacher", "room", "is_active"]
    ordering_fields = ["weekday", "start_time", "id"]
    ordering = ["class_group", "weekday", "start_time"]

    def _save(self, serializer: Any, rule: ScheduleRule | None) -> ScheduleRule:
        data = dict(serializer.validated_data)
        reason = data.pop("override_reason", "")
        if rule is not None:
            data = {**{f: getattr(rule, f) for f in (
                "class_group", "weekday", "start_time", "end_time", "room", "teacher", "term",
                "start_date", "end_date")}, **data}
        saved, _result = conflict_checked(lambda: services.rule_save(
            actor=self.request.user, rule=rule, override_reason=reason, **data))
        return saved

    @extend_schema(responses={201: s.RuleSerializer, 409: CONFLICT_409})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    def create_object(self, serializer: Any) -> Any:
        return self._save(serializer, None)

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = self.refetch(self._save(serializer, serializer.instance))


class LessonFilter(df.FilterSet):
    branch = IdFilter(field_name="class_group__branch")
    class_group = IdFilter(field_name="class_group")
    teacher = IdFilter(field_name="teacher")
    room = IdFilter(field_name="slot__room")
    date_from = df.DateFilter(field_name="date", lookup_expr="gte")
    date_to = df.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = ClassSession
        fields = ["branch", "class_group", "teacher", "room", "date_from", "date_to"]


class LessonViewSet(ScopedCreateReadViewSet):
    """The timetable's lessons; POST adds one, `move` (调课) and `cancel` change one."""

    queryset = ClassSession.objects.select_related("slot")
    serializer_class = s.LessonSerializer
    scope = staticmethod(scope_sessions)
    write_capability = staticmethod(managers)
    action_capabilities = {"move": managers, "cancel": managers}
    filterset_class = LessonFilter
    ordering_fields = ["date", "start_time", "id"]
    ordering = ["date", "start_time", "id"]

    @extend_schema(request=s.LessonCreateSerializer,
                   responses={201: s.LessonSerializer, 409: CONFLICT_409})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return idempotent_call(request, lambda: self._create(request))

    def _create(self, request: Request) -> Response:
        body = s.LessonCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        lesson = conflict_checked(lambda: services.session_create(actor=request.user, **data))
        return Response(s.LessonSerializer(self.refetch(lesson)).data, status=201)

    @extend_schema(request=s.MoveSerializer, responses={200: s.LessonSerializer,
                                                        409: CONFLICT_409})
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: str | None = None) -> Response:
        lesson = self.get_object()
        body = s.MoveSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        if "room" not in data:
            data["room"] = "keep"
        moved = conflict_checked(lambda: services.session_move(
            session=lesson, actor=request.user, **data))
        return Response(s.LessonSerializer(self.refetch(moved)).data)

    @extend_schema(request=s.CancelSerializer, responses={204: None})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        lesson = self.get_object()
        body = s.CancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.session_cancel(session=lesson, actor=request.user,
                                reason=body.validated_data.get("reason", ""))
        return Response(status=204)


class LeaveViewSet(ScopedCreateReadViewSet):
    """Leave before a lesson (请假); `makeup` books a seat in another lesson."""

    queryset = LeaveRequest.objects.select_related("attendance__makeup")
    serializer_class = s.LeaveSerializer
    scope = staticmethod(lambda user, qs: scope_by_student(user, qs))
    write_capability = staticmethod(leave_takers)
    action_capabilities = {"makeup": leave_takers, "makeup_options": any_role}
    filterset_fields = ["session", "student"]
    ordering_fields = ["requested_at", "id"]
    ordering = ["-requested_at"]

    def create_object(self, serializer: Any) -> Any:
        data = serializer.validated_data
        return services.leave_request(session=data["session"], student=data["student"],
                                      actor=self.request.user, reason=data.get("reason", ""))

    @extend_schema(request=s.MakeupSerializer, responses={200: s.LeaveSerializer,
                                                          409: CONFLICT_409})
    @action(detail=True, methods=["post"])
    def makeup(self, request: Request, pk: str | None = None) -> Response:
        leave = self.get_object()
        body = s.MakeupSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        conflict_checked(lambda: services.leave_makeup(
            leave=leave, session=body.validated_data["session"], actor=request.user))
        return Response(s.LeaveSerializer(self.refetch(leave)).data)

    @extend_schema(responses={200: s.LessonSerializer(many=True)})
    @action(detail=True, methods=["get"], url_path="makeup-options", filter_backends=[],
            pagination_class=None)
    def makeup_options(self, request: Request, pk: str | None = None) -> Response:
        leave = self.get_object()
        return Response(s.LessonSerializer(services.makeup_options(leave), many=True).data)


class FeedViewSet(ScopedCreateReadViewSet):
    """A teacher's iCalendar feeds: POST makes one (the URL holds the token), `revoke`."""

    queryset = CalendarFeed.objects.all()
    serializer_class = s.FeedSerializer
    scope = staticmethod(lambda user, qs: qs.filter(teacher=user))
    write_capability = staticmethod(teachers)
    action_capabilities = {"revoke": teachers}
    ordering_fields = ["created_at"]
    ordering = ["-created_at"]

    def create_object(self, serializer: Any) -> Any:
        return services.feed_create(actor=self.request.user)

    @extend_schema(request=None, responses={200: s.FeedSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        feed = self.get_object()
        services.feed_revoke(feed=feed, actor=request.user)
        return Response(s.FeedSerializer(self.refetch(feed), context={"request": request}).data)



"""Timetable API shapes. Writes go through timetable.services (one door per change)."""
from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from crm.api.serializers import ScopedPrimaryKeyRelatedField
from crm.permissions import scope_by_branch
from students.models import ClassGroup, ClassSession, Student
from timetable.models import (
    CalendarFeed,
    ClosedDay,
    Holiday,
    LeaveRequest,
    Room,
    ScheduleRule,
    Term,
)


def scope_staff(user: Any, qs: QuerySet) -> QuerySet:
    return scope_by_branch(user, qs, "staff_profile__branch")


def scope_lessons(user: Any, qs: QuerySet) -> QuerySet:
    return scope_by_branch(user, qs, "class_group__branch")


def scope_students(user: Any, qs: QuerySet) -> QuerySet:
    from crm.permissions import scope_students as scope

    return scope(user, qs)


class RoomSerializer(serializers.ModelSerializer):
    class Meta:
        model = Room
        fields = ["id", "branch", "name", "capacity", "is_active"]


class TermSerializer(serializers.ModelSerializer):
    class Meta:
        model = Term
        fields = ["id", "branch", "name", "start_date", "end_date", "skip_working_weekends"]


class ClosedDaySerializer(serializers.ModelSerializer):
    class Meta:
        model = ClosedDay
        fields = ["id", "branch", "date", "reason"]


class HolidaySerializer(serializers.ModelSerializer):
    class Meta:
        model = Holiday
        fields = ["id", "date", "kind", "name", "provisional"]


class RuleSerializer(serializers.ModelSerializer):
    class_group = ScopedPrimaryKeyRelatedField(scope=scope_by_branch,
                                               queryset=ClassGroup.objects)
    room = ScopedPrimaryKeyRelatedField(scope=scope_by_branch, queryset=Room.objects,
                                        required=False, allow_null=True)
    teacher = ScopedPrimaryKeyRelatedField(scope=scope_staff,
                                           queryset=get_user_model().objects,
                                           required=False, allow_null=True)
    term = serializers.PrimaryKeyRelatedField(queryset=Term.objects, required=False,
                                              allow_null=True)
    start_date = serializers.DateField(required=False, allow_null=True)
    end_date = serializers.DateField(required=False, allow_null=True)
    override_reason = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=200,
        help_text=_("A manager's reason to let conflicts through (recorded)."))

    class Meta:
        model = ScheduleRule
        fields = ["id", "class_group", "weekday", "start_time", "end_time", "room", "teacher",
                  "term", "start_date", "end_date", "is_active", "override_reason"]
        read_only_fields = ["is_active"]


class LessonSerializer(serializers.ModelSerializer):
    """A lesson as the timetable shows it (its room from the schedule, if any)."""

    room_id = serializers.SerializerMethodField()
    rule = serializers.SerializerMethodField()

    class Meta:
        model = ClassSession
        fields = ["id", "class_group", "date", "start_time", "end_time", "hours", "teacher",
                  "room", "room_id", "rule"]

    def _slot(self, obj: ClassSession) -> Any:
        return getattr(obj, "slot", None) if hasattr(obj, "slot") else None

    def get_room_id(self, obj: ClassSession) -> int | None:
        slot = self._slot(obj)
        return slot.room_id if slot else None

    def get_rule(self, obj: ClassSession) -> int | None:
        slot = self._slot(obj)
        return slot.rule_id if slot else None


class LessonCreateSerializer(serializers.Serializer):
    class_group = ScopedPrimaryKeyRelatedField(scope=scope_by_branch,
                                               queryset=ClassGroup.objects)
    date = serializers.DateField()
    start_time = serializers.TimeField()
    end_time = serializers.TimeField()
    room = ScopedPrimaryKeyRelatedField(scope=scope_by_branch, queryset=Room.objects,
                                        required=False, allow_null=True)
    teacher = ScopedPrimaryKeyRelatedField(scope=scope_staff, queryset=get_user_model().objects,
                                           required=False, allow_null=True)
    override_reason = serializers.CharField(required=False, allow_blank=True, max_length=200)


class MoveSerializer(serializers.Serializer):
    date = serializers.DateField()
    start_time = serializers.TimeField()
    end_time = serializers.TimeField()
    room = ScopedPrimaryKeyRelatedField(scope=scope_by_branch, queryset=Room.objects,
                                        required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200)
    override_reason = serializers.CharField(required=False, allow_blank=True, max_length=200)


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200)


class LeaveSerializer(serializers.ModelSerializer):
    session = ScopedPrimaryKeyRelatedField(scope=scope_lessons, queryset=ClassSession.objects)
    student = ScopedPrimaryKeyRelatedField(scope=scope_students, queryset=Student.objects)
    makeup_session = serializers.SerializerMethodField()

    class Meta:
        model = LeaveRequest
        fields = ["id", "session", "student", "reason", "requested_at", "makeup_session"]
        read_only_fields = ["requested_at"]

    def get_makeup_session(self, obj: LeaveRequest) -> int | None:
        makeup = getattr(obj.attendance, "makeup", None) if obj.attendance_id else None
        return makeup.session_id if makeup else None


class MakeupSerializer(serializers.Serializer):
    session = ScopedPrimaryKeyRelatedField(scope=scope_lessons, queryset=ClassSession.objects)


class FeedSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = CalendarFeed
        fields = ["id", "teacher", "url", "created_at", "revoked_at"]
        read_only_fields = ["teacher", "created_at", "revoked_at"]

    def get_url(self, obj: CalendarFeed) -> str:
        from django.urls import reverse

        request = self.context.get("request")
        path = reverse("timetable:ical", args=[obj.token])
        return request.build_absolute_uri(path) if request else path

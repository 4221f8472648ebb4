"""Timetable admin: the same services as the pages, so a conflict is refused here too.

The lesson admin of `students` is replaced by one whose saves go through
session_create / session_move (a lesson typed in the admin is checked like any other).
"""
from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from crm.admin import ScopedAdminMixin
from students.admin import ClassSessionAdmin
from students.models import ClassSession

from .models import (
    CalendarFeed,
    ClosedDay,
    ConflictOverride,
    Holiday,
    LeaveRequest,
    Room,
    ScheduleRule,
    SessionChange,
    TeacherAvailability,
    Term,
)
from .services import guard, rule_save, rules_generate, session_create, session_move
from .services.conflicts import Placement

OVERRIDE_HELP = _("Only to let a conflict through: why (recorded with your name).")


def _refusal(exc: Exception) -> ValidationError:
    if isinstance(exc, PermissionDenied):
        return ValidationError(str(exc))
    return exc  # type: ignore[return-value]


@admin.register(Room)
class RoomAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "branch", "capacity", "is_active")
    list_filter = ("branch", "is_active")
    search_fields = ("name",)


@admin.register(Term)
class TermAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "branch", "start_date", "end_date", "skip_working_weekends")
    list_filter = ("branch",)


@admin.register(ClosedDay)
class ClosedDayAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("date", "branch", "reason")
    list_filter = ("branch",)
    date_hierarchy = "date"


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ("date", "name", "kind", "provisional")
    list_filter = ("kind", "provisional")
    date_hierarchy = "date"


@admin.register(TeacherAvailability)
class TeacherAvailabilityAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_field = "teacher__staff_profile__branch"
    list_display = ("teacher", "weekly_hours", "days_off", "note")
    autocomplete_fields = ("teacher",)


class RuleForm(forms.ModelForm):
    override_reason = forms.CharField(label=_("override reason"), required=False,
                                      max_length=200, help_text=OVERRIDE_HELP)

    class Meta:
        model = ScheduleRule
        fields = ["class_group", "weekday", "start_time", "end_time", "room", "teacher", "term",
                  "start_date", "end_date", "is_active"]

    request: HttpRequest

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        rule = self.instance
        for name in self.Meta.fields:
            setattr(rule, name, data.get(name))
        rule.start_date = rule.start_date or (rule.term.start_date if rule.term else None)
        rule.end_date = rule.end_date or (rule.term.end_date if rule.term else None)
        if rule.start_date is None or rule.end_date is None:
            raise ValidationError(_("Choose a term or a first and last day."))
        try:  # the conflict check only; the save below writes
            rules_generate([rule], actor=self.request.user,
                           override_reason=data.get("override_reason", ""), dry_run=True)
        except (ValidationError, PermissionDenied) as exc:
            raise _refusal(exc) from exc
        return data


@admin.register(ScheduleRule)
class ScheduleRuleAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = RuleForm
    scope_field = "class_group__branch"
    list_display = ("class_group", "weekday", "start_time", "end_time", "room", "teacher",
                    "term", "start_date", "end_date", "is_active")
    list_filter = ("class_group__branch", "weekday", "term", "is_active")
    search_fields = ("class_group__name",)
    autocomplete_fields = ("class_group", "teacher")

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, **kwargs)
        form.request = request
        return form

    def save_model(self, request: HttpRequest, obj: ScheduleRule, form: Any,
                   change: bool) -> None:
        data = form.cleaned_data
        rule_save(actor=request.user, class_group=data["class_group"], weekday=data["weekday"],
                  start_time=data["start_time"], end_time=data["end_time"], room=data["room"],
                  teacher=data["teacher"], term=data["term"], start_date=data["start_date"],
                  end_date=data["end_date"], rule=obj if change else None,
                  override_reason=data.get("override_reason", ""))


class SessionForm(forms.ModelForm):
    override_reason = forms.CharField(label=_("override reason"), required=False,
                                      max_length=200, help_text=OVERRIDE_HELP)

    class Meta:
        model = ClassSession
        fields = ["class_group", "date", "start_time", "end_time", "teacher"]

    request: HttpRequest

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        group, teacher = data["class_group"], data.get("teacher")
        slot = getattr(self.instance, "slot", None) if self.instance.pk else None
        p = Placement(class_group_id=group.pk, branch_id=group.branch_id, date=data["date"],
                      start=data["start_time"], end=data["end_time"],
                      teacher_id=teacher.pk if teacher else group.teacher_id,
                      room_id=slot.room_id if slot else None, session_id=self.instance.pk)
        try:
            guard([p], actor=self.request.user, override_reason=data.get("override_reason", ""))
        except (ValidationError, PermissionDenied) as exc:
            raise _refusal(exc) from exc
        return data


class CheckedClassSessionAdmin(ClassSessionAdmin):
    """Lessons in the admin: added with session_create, changed with session_move."""

    form = SessionForm
    fields = ["class_group", "date", "start_time", "end_time", "teacher", "override_reason"]

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, **kwargs)
        form.request = request
        return form

    def save_model(self, request: HttpRequest, obj: ClassSession, form: Any,
                   change: bool) -> None:
        data = form.cleaned_data
        if change:
            moved = session_move(session=obj, actor=request.user, date=data["date"],
                                 start_time=data["start_time"], end_time=data["end_time"],
                                 teacher=data.get("teacher") or obj.class_group.teacher,
                                 override_reason=data.get("override_reason", ""))
        else:
            moved = session_create(actor=request.user, class_group=data["class_group"],
                                   date=data["date"], start_time=data["start_time"],
                                   end_time=data["end_time"], teacher=data.get("teacher"),
                                   override_reason=data.get("override_reason", ""))
        obj.pk = moved.pk


admin.site.unregister(ClassSession)
admin.site.register(ClassSession, CheckedClassSessionAdmin)


@admin.register(SessionChange)
class SessionChangeAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_field = "class_group__branch"
    list_display = ("class_group", "kind", "from_date", "from_start", "to_date", "to_start",
                    "reason", "notified", "actor", "at")
    list_filter = ("kind", "class_group__branch")
    readonly_fields = [f.name for f in SessionChange._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ConflictOverride)
class ConflictOverrideAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("at", "branch", "kind", "message", "reason", "actor")
    list_filter = ("branch", "kind")
    readonly_fields = [f.name for f in ConflictOverride._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LeaveRequest)
class LeaveRequestAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Read here: leave goes through leave_request (it writes the roll call's leave row)."""

    scope = "by_student"
    list_display = ("student", "session", "reason", "requested_by", "requested_at")
    readonly_fields = [f.name for f in LeaveRequest._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ("teacher", "created_at", "revoked_at")
    readonly_fields = ("token",)

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(teacher=request.user)

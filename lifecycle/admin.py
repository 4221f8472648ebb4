"""Admin for the lifecycle engine, plus the pieces the Student admin mixes in.

The history and scan runs are read-only (only the service writes them); policies are
versioned with simple_history. `LifecycleStudentAdminMixin` and `TransitionInline` are
added to StudentAdmin in students/admin.py.
"""
from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from crm.permissions import branch_of, scope_by_student, scope_students, sees_all_branches

from .forms import ChangePeriodForm
from .models import (
    AccountScore,
    BranchSnapshot,
    LifecyclePolicy,
    Playbook,
    RetentionTask,
    RiskProfile,
    ScanRun,
    Transition,
)
from .periods import Pattern, Period, Phase, allowed_targets, phase_of
from .selectors import pattern_of_student
from .services import account_transition, can_transition, policy_save


class ReadOnlyAdminMixin:
    """Rows written only by the services: viewable, never added, edited or deleted here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Transition)
class TransitionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["at", "student", "from_period", "to_period", "trigger", "actor", "win_back"]
    list_filter = ["to_period", "from_period", "trigger", "win_back"]
    search_fields = ["student__name_zh", "student__name_pinyin", "reason"]
    list_select_related = ["student", "actor"]
    date_hierarchy = "at"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return scope_by_student(request.user, super().get_queryset(request))


@admin.register(LifecyclePolicy)
class LifecyclePolicyAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "risk_threshold", "risk_clear_days", "growth_after_weeks",
                    "maturity_tenure_days", "lapse_after_days", "updated_at"]
    fieldsets = [
        (None, {"fields": ["branch"]}),
        (gettext_lazy("Socialization and growth"), {"fields": [
            "trial_counts_as_purchase", "growth_after_weeks", "growth_attendance_rate"]}),
        (gettext_lazy("Maturity"), {"fields": [
            "maturity_tenure_days", "maturity_min_renewals", "maturity_min_satisfaction"]}),
        (gettext_lazy("Risk model"), {"fields": [
            "risk_threshold", "risk_clear_days", "risk_window_weeks", "risk_absence_streak",
            "risk_attendance_rate", "risk_hours_weeks", "risk_contact_days",
            "risk_satisfaction", "weight_absences", "weight_attendance", "weight_hours",
            "weight_contact", "weight_open_complaint", "weight_overdue_complaint",
            "weight_satisfaction"]}),
        (gettext_lazy("Termination"), {"fields": ["lapse_after_days"]}),
        (gettext_lazy("Value segmentation (weights of each group sum to 100)"), {"fields": [
            "value_high_cut", "value_w_margin", "value_w_volume", "value_w_cost",
            "value_w_satisfaction", "value_w_loyalty", "value_w_trust", "value_w_influence",
            "value_volume_full", "value_wallet_subjects", "value_gross_margin_rate",
            "value_reach", "value_close_rate"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request).select_related("branch")
        if sees_all_branches(request.user):
            return qs
        return qs.filter(Q(branch__isnull=True) | Q(branch=branch_of(request.user)))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Managers edit their own branch's row; the default belongs to head office.
        own = getattr(branch_of(request.user), "pk", None)
        if (obj is not None and not sees_all_branches(request.user)
                and (obj.branch_id is None or obj.branch_id != own)):
            return False
        return super().has_change_permission(request, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest,
                                 **kwargs: Any) -> Any:
        if db_field.name == "branch" and not sees_all_branches(request.user):
            from crm.models import Branch

            kwargs["queryset"] = Branch.objects.filter(pk=getattr(branch_of(request.user),
                                                                  "pk", None))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: LifecyclePolicy, form: Any,
                   change: bool) -> None:
        # Through the service: validated again, versioned with the user, audited.
        policy_save(policy=obj, actor=request.user, data={})


@admin.register(ScanRun)
class ScanRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "key", "branch", "source", "status", "scanned", "scored",
                    "moved_total", "moved_into_risk", "moved_out_of_risk", "tasks_created",
                    "attempts", "error_count", "finished_at"]
    list_filter = ["status", "source", "branch"]
    actions = ["run_again"]

    @admin.display(description=gettext_lazy("errors"))
    def error_count(self, obj: ScanRun) -> int:
        return len(obj.errors or [])

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request)
        if sees_all_branches(request.user):
            return qs
        return qs.filter(Q(branch=branch_of(request.user)) | Q(branch__isnull=True))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=gettext_lazy("Run the nightly job now (resume unfinished runs, "
                                           "else a new run for the same branch)"))
    def run_again(self, request: HttpRequest, queryset: QuerySet) -> None:
        from .services import scan_run_create
        from .tasks import scan_lifecycle_task

        if not sees_all_branches(request.user) and queryset.exclude(
                branch=branch_of(request.user)).exists():
            raise PermissionDenied
        for run in queryset:
            if run.status != ScanRun.Status.FINISHED:
                target = run
            else:
                target = scan_run_create(branch=run.branch, source=ScanRun.Source.COMMAND,
                                         actor=request.user)
            scan_lifecycle_task.delay_on_commit(run_id=target.pk)
        self.message_user(request, _("The nightly job was queued."), messages.SUCCESS)


class _BranchRowAdmin(SimpleHistoryAdmin):
    """Defaults are head office's; managers see them and edit their own branch's rows."""

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request).select_related("branch")
        if sees_all_branches(request.user):
            return qs
        return qs.filter(Q(branch__isnull=True) | Q(branch=branch_of(request.user)))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        own = getattr(branch_of(request.user), "pk", None)
        if (obj is not None and not sees_all_branches(request.user)
                and (obj.branch_id is None or obj.branch_id != own)):
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        policy_save(policy=obj, actor=request.user, data={})


@admin.register(RiskProfile)
class RiskProfileAdmin(_BranchRowAdmin):
    list_display = ["__str__", "threshold", "absence_streak", "contact_days", "weight_absences",
                    "weight_contact", "updated_at"]
    list_filter = ["period", "branch"]


@admin.register(Playbook)
class PlaybookAdmin(_BranchRowAdmin):
    list_display = ["code", "branch", "period", "segment", "condition", "assignee",
                    "due_hours", "cooldown_days", "priority", "is_active"]
    list_filter = ["period", "segment", "is_active", "branch"]
    search_fields = ["code", "title_zh", "title_en"]


@admin.register(RetentionTask)
class RetentionTaskAdmin(admin.ModelAdmin):
    list_display = ["playbook", "student", "assignee", "priority", "due_at", "status",
                    "escalated_at"]
    list_filter = ["status", "playbook", "branch"]
    list_select_related = ["playbook", "student", "assignee"]
    search_fields = ["student__name_zh", "student__name_pinyin"]
    readonly_fields = ["student", "branch", "playbook", "evidence", "created_at", "closed_at",
                       "closed_by", "escalated_at", "escalated_to", "scan_run"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        from .retention import tasks_visible_to

        return tasks_visible_to(request.user, super().get_queryset(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(AccountScore)
class AccountScoreAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["student", "branch", "period", "current_value", "potential_value",
                    "segment", "customer_type", "risk", "risk_week_ago", "scored_at"]
    list_filter = ["segment", "customer_type", "period", "branch"]
    list_select_related = ["student", "branch"]
    search_fields = ["student__name_zh", "student__name_pinyin"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        from crm.permissions import can_see_scores

        qs = super().get_queryset(request)
        if not can_see_scores(request.user):
            return qs.none()
        return scope_by_student(request.user, qs)


@admin.register(BranchSnapshot)
class BranchSnapshotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["day", "branch", "accounts", "at_risk", "created_at"]
    list_filter = ["branch"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request)
        if sees_all_branches(request.user):
            return qs
        return qs.filter(branch=branch_of(request.user))


class TransitionInline(admin.TabularInline):
    """The account's timeline on the student page, newest first; read-only."""

    model = Transition
    fk_name = "student"
    extra = 0
    can_delete = False
    ordering = ["-at", "-id"]
    fields = ["at", "from_period", "to_period", "trigger", "actor", "reason", "evidence",
              "win_back"]
    readonly_fields = fields
    verbose_name_plural = gettext_lazy("lifecycle timeline")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Whoever may open the student page sees its timeline (roles carry no
        # lifecycle.transition permission of their own). A new student has no timeline.
        if obj is None:
            return False
        return (super().has_view_permission(request, obj)
                or request.user.has_perm("students.view_student"))


class LifecycleStudentAdminMixin:
    """Adds period / phase / pattern (read-only) and a 'change period' page to StudentAdmin.

    The period itself is never editable in the student form: the change page offers the
    legal next periods only, requires a reason, and calls services.account_transition.
    """

    lifecycle_fields = ("lifecycle_period", "lifecycle_phase", "lifecycle_pattern",
                        "lifecycle_change_link")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        extra = [f for f in self.lifecycle_fields if f not in fields]
        # period fields are the service's: never edited through the form
        guard = [f for f in ("period", "previous_period", "period_since") if f not in fields]
        return fields + guard + extra

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list:
        """StudentAdmin's own fieldsets, plus a 'Lifecycle' one holding the fields above."""
        fieldsets = super().get_fieldsets(request, obj)  # type: ignore[misc]
        if obj is None:
            return fieldsets
        ours = set(self.lifecycle_fields) | {"period", "previous_period", "period_since"}
        cleaned = []
        for name, options in fieldsets:
            fields = [f for f in options.get("fields", ()) if f not in ours]
            cleaned.append((name, {**options, "fields": fields}))
        return [*cleaned, (gettext_lazy("Lifecycle"), {"fields": list(self.lifecycle_fields)})]

    @admin.display(description=gettext_lazy("lifecycle period"))
    def lifecycle_period(self, obj: Any) -> str:
        if obj is None or obj.pk is None:
            return "-"
        label = str(Period(obj.period).label)
        if obj.period == Period.AT_RISK and obj.previous_period:
            label += " ← " + str(Period(obj.previous_period).label)
        return label

    @admin.display(description=gettext_lazy("phase"))
    def lifecycle_phase(self, obj: Any) -> str:
        if obj is None or obj.pk is None:
            return "-"
        return str(Phase(phase_of(obj.period)).label)

    @admin.display(description=gettext_lazy("lifecycle pattern"))
    def lifecycle_pattern(self, obj: Any) -> str:
        if obj is None or obj.pk is None:
            return "-"
        pattern = getattr(obj, "pattern", None) or pattern_of_student(obj)
        return str(Pattern(pattern).label) if pattern else _("open (not yet classifiable)")

    @admin.display(description=gettext_lazy("change period"))
    def lifecycle_change_link(self, obj: Any) -> str:
        if obj is None or obj.pk is None:
            return "-"
        opts = obj._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change_period",
                      args=[obj.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, _("Change period…"))

    def get_urls(self) -> list[URLPattern]:
        opts = self.model._meta  # type: ignore[attr-defined]
        extra = [path("<path:object_id>/change-period/",
                      self.admin_site.admin_view(self.change_period_view),  # type: ignore
                      name=f"{opts.app_label}_{opts.model_name}_change_period")]
        return extra + super().get_urls()  # type: ignore[misc]

    def change_period_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """A form with the legal targets only and a required reason; calls the service."""
        qs = scope_students(request.user, self.get_queryset(request))  # type: ignore
        obj = qs.filter(pk=unquote(object_id)).first()
        if obj is None:
            raise Http404(_("No such student."))
        if not can_transition(request.user):
            raise PermissionDenied
        targets = allowed_targets(obj.period, obj.previous_period)
        form = ChangePeriodForm(request.POST or None, targets=targets)
        if request.method == "POST" and form.is_valid():
            try:
                account_transition(student=obj, to_period=form.cleaned_data["to_period"],
                                   actor=request.user, trigger="manual",
                                   reason=form.cleaned_data["reason"],
                                   evidence={"source": "admin"}, expected_from=obj.period)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                self.message_user(request, _("Period changed to %(p)s.")  # type: ignore
                                  % {"p": Period(form.cleaned_data["to_period"]).label},
                                  messages.SUCCESS)
                opts = obj._meta
                return HttpResponseRedirect(
                    reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "title": _("Change lifecycle period"),
            "opts": obj._meta,
            "original": obj,
            "form": form,
            "targets": targets,
        }
        return TemplateResponse(request, "admin/lifecycle/change_period.html", context)

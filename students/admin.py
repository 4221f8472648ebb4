from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from crm.admin import ScopedAdminMixin
from crm.permissions import can_merge_records, can_see_money
from lifecycle.admin import LifecycleStudentAdminMixin, TransitionInline
from parents.models import GuardianConsent, Guardianship

from .models import (
    Attendance,
    ClassGroup,
    ClassSession,
    Complaint,
    Contract,
    Course,
    ExamScore,
    Interaction,
    LedgerEntry,
    Payment,
    Refund,
    SatisfactionSurvey,
    Student,
)
from .selectors import contract_balances, with_figures
from .services import student_merge


class ConsentRequiredFormSet(BaseInlineFormSet):
    """PIPL: an under-14 student cannot be saved without a guardian's consent on record."""

    def clean(self) -> None:
        super().clean()
        student = self.instance
        if not student.grade or not student.needs_guardian_consent():
            return
        kept = [f for f in self.forms
                if f.cleaned_data and not f.cleaned_data.get("DELETE")
                and not f.cleaned_data.get("withdrawn_at")]
        if not kept:
            raise ValidationError(
                _t("%(name)s is under 14: record a guardian's consent before saving the "
                   "student's data.") % {"name": student.name_zh or _t("This student")},
                code="consent_required",
            )


class GuardianConsentInline(admin.StackedInline):
    model = GuardianConsent
    formset = ConsentRequiredFormSet
    extra = 1
    autocomplete_fields = ("guardian",)
    fields = ("guardian", "guardian_name", "given_at", "method", "scope", "withdrawn_at")


class GuardianshipInline(admin.TabularInline):
    model = Guardianship
    extra = 0
    autocomplete_fields = ("parent",)
    fields = ("parent", "relation", "is_primary_contact", "is_decision_maker")


@admin.register(Student)
class StudentAdmin(LifecycleStudentAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    scope = "student"
    list_display = ("name_zh", "name_en", "grade", "branch", "counselor", "period",
                    "decision_style", "remaining", "updated_at")
    list_filter = ("branch", "period", "grade", "decision_style", "source", "gender")
    search_fields = ("name_zh", "name_en", "name_pinyin", "name_initials", "school",
                     "parents__phone", "parents__name")
    autocomplete_fields = ("counselor",)
    list_select_related = ("branch", "counselor")
    readonly_fields = ("period", "previous_period", "period_since", "created_at", "updated_at",
                       "created_by")
    inlines = [GuardianshipInline, GuardianConsentInline, TransitionInline]
    actions = ["merge_into_first"]
    fieldsets = (
        (_("Basic"), {"fields": ("branch", "counselor", "name_zh", "name_en", "gender",
                                 "birth_date", "school", "grade")}),
        (_("Background"), {"fields": ("family_situation", "goals", "target_university",
                                      "source", "source_detail")}),
        (_("Characteristics"), {"fields": ("decision_style", "personality", "learning_style",
                                           "preferences")}),
        (_("Lifecycle"), {"fields": ("period", "previous_period", "period_since")}),
        (_("Record"), {"fields": ("created_at", "updated_at", "created_by")}),
    )

    def get_queryset(self, request: HttpRequest) -> Any:
        return with_figures(super().get_queryset(request))

    @admin.display(description=_("hours left"), ordering="remaining_hours")
    def remaining(self, obj: Student) -> Any:
        return obj.remaining_hours

    def save_model(self, request: HttpRequest, obj: Student, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Merge the selected students into the first one"))
    def merge_into_first(self, request: HttpRequest, queryset: Any) -> None:
        if not can_merge_records(request.user):
            self.message_user(request, _t("Only managers can merge records."), messages.ERROR)
            return
        chosen = list(queryset.order_by("pk"))
        if len(chosen) < 2:
            self.message_user(request, _t("Select at least two students to merge."),
                              messages.WARNING)
            return
        keep = chosen[0]
        try:
            for dup in chosen[1:]:
                keep = student_merge(keep=keep, duplicate=dup, actor=request.user)
        except ValidationError as exc:
            self.message_user(request, "; ".join(exc.messages), messages.ERROR)
            return
        self.message_user(request, _t("Merged %(n)d records into %(name)s.")
                          % {"n": len(chosen) - 1, "name": keep.name_zh}, messages.SUCCESS)


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "subject", "format", "level", "unit_price", "branch",
                    "is_active")
    list_filter = ("subject", "format", "branch", "is_active")
    search_fields = ("code", "name")


@admin.register(ClassGroup)
class ClassGroupAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "course", "branch", "teacher", "capacity", "start_date", "is_active")
    list_filter = ("branch", "is_active", "course__subject")
    search_fields = ("name", "course__name", "teacher__username")
    autocomplete_fields = ("course", "teacher")


@admin.register(ClassSession)
class ClassSessionAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_field = "class_group__branch"
    list_display = ("class_group", "date", "start_time", "end_time", "hours", "teacher", "room")
    list_filter = ("class_group__branch", "date")
    search_fields = ("class_group__name", "room")
    date_hierarchy = "date"
    autocomplete_fields = ("class_group", "teacher")


@admin.register(Attendance)
class AttendanceAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Read-mostly here: recording goes through the roll-call service (it writes the ledger)."""

    scope = "by_student"
    list_display = ("student", "session", "date", "status", "contract", "recorded_by")
    list_filter = ("status", "session__class_group__branch", "date")
    search_fields = ("student__name_zh", "student__name_pinyin")
    date_hierarchy = "date"
    list_select_related = ("student", "session__class_group", "contract", "recorded_by")
    readonly_fields = ("session", "student", "status", "date", "contract", "recorded_by",
                       "recorded_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class LedgerInline(admin.TabularInline):
    model = LedgerEntry
    fk_name = "contract"
    extra = 0
    can_delete = False
    fields = ("occurred_at", "kind", "hours", "attendance", "reverses", "note", "created_by")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    fields = ("paid_at", "amount", "method", "reference", "recorded_by", "note")
    readonly_fields = ("recorded_by",)


@admin.register(Contract)
class ContractAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("contract_no", "student", "course", "branch", "hours_purchased",
                    "balance_shown", "valid_until", "status", "is_renewal")
    list_filter = ("branch", "status", "is_renewal", "is_trial", "course__subject")
    search_fields = ("contract_no", "student__name_zh", "student__name_pinyin")
    date_hierarchy = "signed_on"
    autocomplete_fields = ("student", "course", "class_group", "sales_counselor")
    list_select_related = ("student", "course", "branch")
    inlines = [LedgerInline, PaymentInline]

    def get_queryset(self, request: HttpRequest) -> Any:
        return contract_balances(super().get_queryset(request))

    @admin.display(description=_("hours left"), ordering="balance")
    def balance_shown(self, obj: Contract) -> Any:
        return obj.balance

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_see_money(request.user) and super().has_module_permission(request)


@admin.register(Refund)
class RefundAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_field = "contract__branch"
    list_display = ("contract", "status", "hours", "amount", "requested_at", "decided_by")
    list_filter = ("status", "contract__branch")
    search_fields = ("contract__contract_no", "contract__student__name_zh")
    autocomplete_fields = ("contract",)
    readonly_fields = ("decided_by", "decided_at")


@admin.register(ExamScore)
class ExamScoreAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope = "by_student"
    list_display = ("student", "subject", "exam_name", "kind", "exam_date", "score", "full_marks")
    list_filter = ("subject", "kind", "student__branch")
    search_fields = ("student__name_zh", "student__name_pinyin", "exam_name")
    date_hierarchy = "exam_date"
    autocomplete_fields = ("student",)


@admin.register(Interaction)
class InteractionAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope = "by_student"
    list_display = ("student", "with_whom", "parent", "channel", "staff", "occurred_at",
                    "sentiment", "next_follow_up")
    list_filter = ("channel", "sentiment", "with_whom", "student__branch")
    search_fields = ("student__name_zh", "student__name_pinyin", "summary")
    date_hierarchy = "occurred_at"
    autocomplete_fields = ("student", "parent", "staff")


@admin.register(Complaint)
class ComplaintAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope = "by_student"
    list_display = ("student", "category", "raised_by", "status", "owner", "sla_due",
                    "resolved_at")
    list_filter = ("status", "category", "raised_by", "student__branch")
    search_fields = ("student__name_zh", "student__name_pinyin", "description")
    date_hierarchy = "created_at"
    autocomplete_fields = ("student", "parent", "owner")


@admin.register(SatisfactionSurvey)
class SatisfactionSurveyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope = "by_student"
    list_display = ("student", "respondent", "parent", "overall", "teaching", "service",
                    "environment", "recommend", "surveyed_at")
    list_filter = ("respondent", "overall", "student__branch")
    search_fields = ("student__name_zh", "student__name_pinyin", "comment")
    date_hierarchy = "surveyed_at"
    autocomplete_fields = ("student", "parent")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Append-only: entries are written by services; corrections are reversal entries."""

    scope_field = "contract__branch"
    list_display = ("occurred_at", "contract", "kind", "hours", "attendance", "reverses",
                    "created_by")
    list_filter = ("kind", "contract__branch")
    search_fields = ("contract__contract_no", "contract__student__name_zh", "note")
    date_hierarchy = "occurred_at"
    list_select_related = ("contract", "created_by")
    readonly_fields = [f.name for f in LedgerEntry._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_field = "contract__branch"
    list_display = ("paid_at", "contract", "amount", "method", "reference", "recorded_by")
    list_filter = ("method", "contract__branch")
    search_fields = ("contract__contract_no", "contract__student__name_zh", "reference")
    date_hierarchy = "paid_at"
    autocomplete_fields = ("contract",)
    list_select_related = ("contract", "recorded_by")

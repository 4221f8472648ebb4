from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from crm.admin import ScopedAdminMixin, merge_selected
from crm.permissions import branch_of, can_see_money, role_of
from crm.roles import Role
from lifecycle.admin import LifecycleStudentAdminMixin, TransitionInline
from parents.models import GuardianConsent, Guardianship

from .models import (
    Attendance,
    ChannelPreference,
    ClassGroup,
    ClassSession,
    Complaint,
    Contract,
    ContractPolicy,
    Course,
    ExamScore,
    Interaction,
    LedgerEntry,
    MakeUp,
    MessageLog,
    Payment,
    Refund,
    RetentionAttempt,
    SatisfactionSurvey,
    Student,
    Transfer,
)
from .selectors import contract_balances, with_figures
from .services import (
    complaint_check,
    complaint_open,
    complaint_update,
    contract_cap_errors,
    contract_create,
    contract_owed,
    contract_refund_quote,
    payment_record,
    refund_approve,
    refund_reject,
    refund_request,
    retention_close,
    roll_call_take,
    student_merge,
    transfer_approve,
    transfer_reject,
    transfer_request,
)


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
    phone_search = True
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
        merge_selected(self, request, queryset, student_merge)


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
    actions = ["roll_call_all_present"]

    @admin.action(description=_("Roll call: everyone on the roster present"))
    def roll_call_all_present(self, request: HttpRequest, queryset: Any) -> None:
        _run_each(self, request, queryset, lambda s: roll_call_take(
            session=s, all_present=True, actor=request.user), _t("Roll call taken"))


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


class NewPaymentsFormSet(BaseInlineFormSet):
    """New instalments together may not take more than the contract still owes (the
    service refuses it too; here it is a form error instead of a failed save)."""

    def clean(self) -> None:
        super().clean()
        contract = self.instance
        new = sum((f.cleaned_data.get("amount") or 0 for f in self.forms
                   if f.cleaned_data and f.instance.pk is None), Decimal("0"))
        if contract.pk and new:
            owed = contract_owed(contract)
            if new > owed:
                raise ValidationError(_t("The new payments (¥%(new)s) are more than the "
                                         "contract still owes (¥%(owed)s).")
                                      % {"new": new, "owed": owed})


class PaymentInline(admin.TabularInline):
    """New instalments only (booked through payment_record); booked money is read-only."""

    model = Payment
    formset = NewPaymentsFormSet
    extra = 0
    can_delete = False
    fields = ("paid_at", "amount", "method", "reference", "recorded_by", "note")
    readonly_fields = ("recorded_by",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ContractAddForm(forms.ModelForm):
    """The add form marks the branch's prepayment caps on the fields, as the pages do."""

    class Meta:
        model = Contract
        fields = ["contract_no", "student", "course", "class_group", "hours_purchased",
                  "hours_gifted", "list_price", "discount", "valid_from", "valid_until",
                  "signed_on", "is_trial"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        student = data.get("student")
        if student is not None and not self.errors:
            errors = contract_cap_errors(
                student=student, hours_purchased=data["hours_purchased"],
                valid_from=data["valid_from"], valid_until=data["valid_until"],
                is_trial=data.get("is_trial", False))
            for field, messages_ in errors.items():
                self.add_error(None if field == "__all__" else field, messages_)
        return data


@admin.register(Contract)
class ContractAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Signed only through contract_create (ledger entries, caps); then read-only: hours
    move through roll call, refunds, transfers and expiry, money through payments."""

    list_display = ("contract_no", "student", "course", "branch", "hours_purchased",
                    "balance_shown", "valid_until", "status", "is_renewal")
    list_filter = ("branch", "status", "is_renewal", "is_trial", "course__subject")
    search_fields = ("contract_no", "student__name_zh", "student__name_pinyin")
    date_hierarchy = "signed_on"
    autocomplete_fields = ("student", "course", "class_group", "sales_counselor")
    list_select_related = ("student", "course", "branch")
    inlines = [LedgerInline, PaymentInline]
    add_form = ContractAddForm

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        return [f.name for f in Contract._meta.fields if f.name != "id"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ContractAddForm.Meta.fields
        return self.get_readonly_fields(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Contract, form: Any, change: bool) -> None:
        if change:
            return  # read-only: nothing on the contract itself changes here
        _adopt(obj, contract_create(
            student=obj.student, course=obj.course, class_group=obj.class_group,
            hours_purchased=obj.hours_purchased, hours_gifted=obj.hours_gifted,
            list_price=obj.list_price, discount=obj.discount, valid_from=obj.valid_from,
            valid_until=obj.valid_until, signed_on=obj.signed_on, contract_no=obj.contract_no,
            is_trial=obj.is_trial, actor=request.user))

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """New payments in the inline are booked through payment_record, like the API."""
        if formset.model is not Payment:
            super().save_formset(request, form, formset, change)
            return
        for payment in formset.save(commit=False):
            if payment.pk is None:
                _adopt(payment, payment_record(
                    contract=form.instance, amount=payment.amount, method=payment.method,
                    paid_at=payment.paid_at, reference=payment.reference, note=payment.note,
                    actor=request.user))

    def get_queryset(self, request: HttpRequest) -> Any:
        return contract_balances(super().get_queryset(request))

    @admin.display(description=_("hours left"), ordering="balance")
    def balance_shown(self, obj: Contract) -> Any:
        return obj.balance

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_see_money(request.user) and super().has_module_permission(request)


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


class ComplaintAdminForm(forms.ModelForm):
    """Runs the service's checks as form errors (parent is a guardian, owner's branch)."""

    class Meta:
        model = Complaint
        fields = ["student", "raised_by", "parent", "category", "description", "status",
                  "owner", "resolution"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        student = data.get("student") or getattr(self.instance, "student", None)
        if student is not None and not self.errors:
            try:
                complaint_check(student=student, raised_by=data.get("raised_by"),
                                parent=data.get("parent"), owner=data.get("owner"))
            except ValidationError as exc:
                self._update_errors(exc)
        if data.get("status") == Complaint.Status.RESOLVED and not data.get("resolution"):
            self.add_error("resolution", _("Describe how the complaint was resolved."))
        return data


@admin.register(Complaint)
class ComplaintAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Opened through complaint_open (owner and SLA from policy), changed through
    complaint_update (resolution time stamped), like the API."""

    scope = "by_student"
    form = ComplaintAdminForm
    list_display = ("student", "category", "raised_by", "status", "owner", "sla_due",
                    "resolved_at")
    list_filter = ("status", "category", "raised_by", "student__branch")
    search_fields = ("student__name_zh", "student__name_pinyin", "description")
    date_hierarchy = "created_at"
    autocomplete_fields = ("student", "parent", "owner")
    readonly_fields = ("sla_due", "created_at", "resolved_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fixed = ("student", "raised_by", "parent") if obj is not None else ("status",
                                                                              "resolution")
        return (*self.readonly_fields, *fixed)

    def save_model(self, request: HttpRequest, obj: Complaint, form: Any,
                   change: bool) -> None:
        if not change:
            saved = complaint_open(student=obj.student, category=obj.category,
                                   description=obj.description, raised_by=obj.raised_by,
                                   parent=obj.parent, owner=obj.owner, actor=request.user)
        else:
            Complaint.objects.filter(pk=obj.pk).update(category=obj.category,
                                                       description=obj.description)
            saved = complaint_update(complaint=obj, actor=request.user, status=obj.status,
                                     owner=obj.owner, resolution=obj.resolution)
        _adopt(obj, saved)


def _adopt(obj: Any, saved: Any) -> None:
    """Make the admin's instance the row the service saved (for its log and redirect)."""
    for f in saved._meta.concrete_fields:
        setattr(obj, f.attname, getattr(saved, f.attname))
    obj._state.adding = False


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
    readonly_fields = ("recorded_by",)

    # Booked money is corrected by a refund, never edited or deleted.
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Payment, form: Any, change: bool) -> None:
        _adopt(obj, payment_record(contract=obj.contract, amount=obj.amount,
                                   method=obj.method, paid_at=obj.paid_at,
                                   reference=obj.reference, note=obj.note,
                                   actor=request.user))


def _run_each(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: Any,
              call: Any, done: str) -> None:
    """Run a service per selected row; report refusals (permission, validation) per row."""
    ok = 0
    for obj in queryset:
        try:
            call(obj)
            ok += 1
        except (ValidationError, PermissionDenied) as exc:
            msgs = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            model_admin.message_user(request, f"{obj}: {'; '.join(msgs)}", messages.ERROR)
    if ok:
        model_admin.message_user(request, f"{done}: {ok}", messages.SUCCESS)


def _money_roles(request: HttpRequest) -> bool:
    return role_of(request.user) in {Role.MANAGER, Role.HEAD_OFFICE}


class RetentionInline(admin.StackedInline):
    model = RetentionAttempt
    extra = 0
    can_delete = False
    fields = ("owner", "outcome", "note", "opened_at", "closed_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Refund)
class RefundAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Requests go through refund_request (which opens the save attempt); decisions through
    refund_approve / refund_reject, which write the ledger."""

    scope_field = "contract__branch"
    list_display = ("contract", "status", "hours", "amount", "requested_at", "decided_by")
    list_filter = ("status", "contract__branch")
    search_fields = ("contract__contract_no", "contract__student__name_zh")
    autocomplete_fields = ("contract",)
    inlines = [RetentionInline]
    actions = ["approve", "reject"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        return ("contract", "status", "hours", "amount", "reason", "requested_at",
                "requested_by", "current_quote", "quote", "decided_by", "decided_at",
                "decision_note")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("contract", "reason")
        return self.get_readonly_fields(request, obj)

    @admin.display(description=_("quote now (branch formula)"))
    def current_quote(self, obj: Refund) -> str:
        if obj.status != Refund.Status.REQUESTED:
            return "-"
        q = contract_refund_quote(obj.contract)
        return _t("%(paid)s paid - %(fee)s set-up fee - %(hours)s h x %(price)s = %(amount)s; "
                  "%(refund)s purchased hours refunded, %(gift)s gifted hours forfeited") % {
            "paid": q.paid, "fee": q.setup_fee, "hours": q.charged_hours,
            "price": q.unit_price.quantize(Decimal("0.01")),
            "amount": q.amount, "refund": q.refund_hours, "gift": q.forfeit_hours}

    def save_model(self, request: HttpRequest, obj: Refund, form: Any, change: bool) -> None:
        if change:
            return  # decisions go through the actions
        try:
            saved = refund_request(contract=obj.contract, reason=obj.reason, actor=request.user)
        except (ValidationError, PermissionDenied) as exc:
            raise ValidationError(getattr(exc, "messages", [str(exc)])) from exc
        obj.pk = saved.pk

    @admin.action(description=_("Approve the selected refunds (writes the ledger)"))
    def approve(self, request: HttpRequest, queryset: Any) -> None:
        _run_each(self, request, queryset,
                  lambda r: refund_approve(refund=r, actor=request.user), _t("Approved"))

    @admin.action(description=_("Reject the selected refunds"))
    def reject(self, request: HttpRequest, queryset: Any) -> None:
        _run_each(self, request, queryset,
                  lambda r: refund_reject(refund=r, actor=request.user), _t("Rejected"))


@admin.register(RetentionAttempt)
class RetentionAttemptAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope = "by_student"
    list_display = ("student", "refund", "owner", "outcome", "opened_at", "closed_at")
    list_filter = ("outcome", "student__branch")
    search_fields = ("student__name_zh", "student__name_pinyin", "note")
    readonly_fields = ("refund", "student", "owner", "outcome", "opened_at", "closed_at")
    actions = ["mark_saved", "mark_lost"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Saved: the family stays (withdraws the refund)"))
    def mark_saved(self, request: HttpRequest, queryset: Any) -> None:
        _run_each(self, request, queryset, lambda a: retention_close(
            attempt=a, outcome=RetentionAttempt.Outcome.SAVED, actor=request.user), _t("Saved"))

    @admin.action(description=_("Lost: the refund goes ahead"))
    def mark_lost(self, request: HttpRequest, queryset: Any) -> None:
        _run_each(self, request, queryset, lambda a: retention_close(
            attempt=a, outcome=RetentionAttempt.Outcome.LOST, actor=request.user), _t("Lost"))


@admin.register(Transfer)
class TransferAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_field = "source__branch"
    list_display = ("source", "target_student", "target_course", "status", "hours_out",
                    "hours_in", "value", "requested_at", "decided_by")
    list_filter = ("status", "source__branch")
    search_fields = ("source__contract_no", "target_student__name_zh")
    autocomplete_fields = ("source", "target_student", "target_course", "target_class_group")
    actions = ["approve", "reject"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("source", "target_student", "target_course", "target_class_group", "reason")
        return [f.name for f in Transfer._meta.fields if f.name != "id"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.get_fields(request, obj)

    def save_model(self, request: HttpRequest, obj: Transfer, form: Any, change: bool) -> None:
        if change:
            return
        saved = transfer_request(source=obj.source, reason=obj.reason, actor=request.user,
                                 target_student=obj.target_student,
                                 target_course=obj.target_course,
                                 target_class_group=obj.target_class_group)
        obj.pk = saved.pk

    @admin.action(description=_("Approve the selected transfers (writes both ledgers)"))
    def approve(self, request: HttpRequest, queryset: Any) -> None:
        _run_each(self, request, queryset,
                  lambda t: transfer_approve(transfer=t, actor=request.user), _t("Approved"))

    @admin.action(description=_("Reject the selected transfers"))
    def reject(self, request: HttpRequest, queryset: Any) -> None:
        _run_each(self, request, queryset,
                  lambda t: transfer_reject(transfer=t, actor=request.user), _t("Rejected"))


@admin.register(ContractPolicy)
class ContractPolicyAdmin(SimpleHistoryAdmin):
    """Managers edit their branch's row, head office every row (including the default)."""

    list_display = ("__str__", "max_prepaid_hours", "max_prepaid_months",
                    "renewal_threshold_hours", "shortfall", "absence_consumes",
                    "low_balance_hours", "expiry_grace_days", "refund_setup_fee",
                    "message_daily_limit", "updated_at")

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = super().get_queryset(request)
        if role_of(request.user) == Role.HEAD_OFFICE:
            return qs
        return qs.filter(branch=branch_of(request.user))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _money_roles(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _money_roles(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _money_roles(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if role_of(request.user) == Role.HEAD_OFFICE:
            return True
        return _money_roles(request) and (obj is None or obj.branch == branch_of(request.user))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return role_of(request.user) == Role.HEAD_OFFICE

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, **kwargs)
        if role_of(request.user) != Role.HEAD_OFFICE and "branch" in form.base_fields:
            field = form.base_fields["branch"]
            field.queryset = field.queryset.filter(pk=getattr(branch_of(request.user), "pk",
                                                              None))
            field.required = True
        return form


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MessageLog)
class MessageLogAdmin(ScopedAdminMixin, _ReadOnlyAdmin):
    scope = "by_student"
    list_display = ("created_at", "parent", "student", "channel", "template_code", "status",
                    "attempts", "sent_at")
    list_filter = ("status", "channel", "template_code")
    search_fields = ("student__name_zh", "parent__name", "text")
    date_hierarchy = "created_at"
    list_select_related = ("parent", "student")


@admin.register(MakeUp)
class MakeUpAdmin(ScopedAdminMixin, _ReadOnlyAdmin):
    scope = "by_student"
    scope_field = "original__student"
    list_display = ("original", "session", "booked_by", "booked_at")


@admin.register(ChannelPreference)
class ChannelPreferenceAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope = "parent_rel"
    list_display = ("parent", "channel")
    autocomplete_fields = ("parent",)

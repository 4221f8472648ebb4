"""Student-side API shapes. Server-owned fields (branch after creation, counselor,
lifecycle period, scores, balances, who recorded what) are read-only here: they change
only through their own services and actions."""
from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from crm.api.resources import scope_staff as scope_staff_users
from crm.api.serializers import FullCleanModelSerializer, ScopedPrimaryKeyRelatedField
from crm.models import Branch
from crm.permissions import (
    branch_of,
    role_of,
    scope_branches,
    scope_by_branch,
    scope_by_student,
    scope_parents,
    scope_students,
    sees_all_branches,
)
from parents.models import GuardianConsent, Parent
from students.models import (
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

User = get_user_model()


def scope_courses(user: Any, qs: QuerySet) -> QuerySet:
    """Courses offered at the caller's branch: its own plus chain-wide ones (no branch)."""
    if role_of(user) is None:
        return qs.none()
    if sees_all_branches(user):
        return qs
    return qs.filter(Q(branch=branch_of(user)) | Q(branch__isnull=True))


def scope_contracts(user: Any, qs: QuerySet) -> QuerySet:
    return scope_by_student(user, qs, field="student")


class ConsentSerializer(serializers.Serializer):
    """PIPL: the guardian's consent, required when the student is under 14."""

    guardian_name = serializers.CharField(max_length=50)
    method = serializers.ChoiceField(choices=GuardianConsent.Method.choices)
    scope = serializers.ListField(
        child=serializers.ChoiceField(choices=GuardianConsent.Scope.choices),
        required=False, allow_empty=False,
        help_text=_("What the guardian agreed to; default profile and contact."))
    given_at = serializers.DateTimeField(required=False)


class StudentSerializer(FullCleanModelSerializer):
    """A student account with its figures (remaining hours, attendance rate)."""

    branch = ScopedPrimaryKeyRelatedField(
        scope=scope_branches, queryset=Branch.objects,
        required=False,
        help_text=_("Set on creation only. Head office must give it; other roles always "
                    "create in their own branch."))
    remaining_hours = serializers.DecimalField(max_digits=9, decimal_places=2, read_only=True)
    attendance_rate = serializers.FloatField(read_only=True, allow_null=True)
    consent = ConsentSerializer(write_only=True, required=False,
                                help_text=_("Required for under-14s (PIPL)."))

    class Meta:
        model = Student
        fields = ["id", "branch", "counselor", "external_id", "name_zh", "name_en", "name_pinyin",
                  "name_initials", "gender", "birth_date", "school", "grade",
                  "family_situation", "goals", "target_university", "source", "source_detail",
                  "decision_style", "personality", "learning_style", "preferences",
                  "period", "previous_period", "period_since", "remaining_hours",
                  "attendance_rate", "created_at", "updated_at", "created_by", "consent"]
        read_only_fields = ["counselor", "name_pinyin", "name_initials", "period",
                            "previous_period", "period_since", "created_at", "updated_at",
                            "created_by"]
        # The student number's per-branch uniqueness is checked by full_clean with the
        # branch the view sets; DRF's own validator would demand the branch in the body.
        validators: list = []

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            # Moving a student between branches is a transfer, not an edit.
            fields["branch"].read_only = True
            fields["consent"].read_only = True
        return fields


class CourseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Course
        fields = ["id", "code", "name", "subject", "format", "level", "unit_price", "branch",
                  "is_active"]


class ClassGroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClassGroup
        fields = ["id", "branch", "course", "name", "teacher", "capacity", "start_date",
                  "end_date", "is_active"]


class ClassSessionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClassSession
        fields = ["id", "class_group", "date", "start_time", "end_time", "hours", "teacher",
                  "room"]


class ContractSerializer(serializers.ModelSerializer):
    """A lesson-hour package; `balance` is the sum of its ledger (never stored)."""

    student = ScopedPrimaryKeyRelatedField(scope=scope_students, queryset=Student.objects)
    course = ScopedPrimaryKeyRelatedField(scope=scope_courses, queryset=Course.objects)
    class_group = ScopedPrimaryKeyRelatedField(
        scope=scope_by_branch, queryset=ClassGroup.objects, required=False, allow_null=True)
    balance = serializers.DecimalField(max_digits=9, decimal_places=2, read_only=True,
                                       help_text=_("Hours left: the sum of the ledger."))
    amount = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True,
                                      help_text=_("List price minus discount."))

    class Meta:
        model = Contract
        fields = ["id", "contract_no", "student", "branch", "course", "class_group",
                  "hours_purchased", "hours_gifted", "list_price", "discount", "amount",
                  "valid_from", "valid_until", "signed_on", "status", "is_renewal", "is_trial",
                  "sales_counselor", "balance", "created_at", "updated_at"]
        read_only_fields = ["branch", "status", "is_renewal", "sales_counselor", "created_at",
                            "updated_at"]
        extra_kwargs = {"signed_on": {"required": False}}


class LedgerEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = LedgerEntry
        fields = ["id", "contract", "kind", "hours", "occurred_at", "attendance", "reverses",
                  "note", "created_by"]
        read_only_fields = fields


class PaymentSerializer(FullCleanModelSerializer):
    contract = ScopedPrimaryKeyRelatedField(scope=scope_contracts, queryset=Contract.objects)

    class Meta:
        model = Payment
        fields = ["id", "contract", "amount", "method", "paid_at", "reference", "note",
                  "recorded_by"]
        read_only_fields = ["recorded_by"]
        # A repeated reference is a 409 with the existing payment (PaymentViewSet), not
        # DRF's generic 400 from the unique constraint.
        validators: list[Any] = []
        extra_kwargs = {"reference": {"validators": []}}


class RefundSerializer(serializers.ModelSerializer):
    class Meta:
        model = Refund
        fields = ["id", "contract", "status", "hours", "amount", "reason", "requested_at",
                  "decided_by", "decided_at"]
        read_only_fields = fields


class AttendanceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attendance
        fields = ["id", "session", "student", "status", "date", "contract", "note",
                  "recorded_by", "recorded_at"]
        read_only_fields = fields


class AttendanceRowSerializer(serializers.Serializer):
    """One line of a session's roll call upload."""

    student = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    status = serializers.ChoiceField(choices=Attendance.Status.choices)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ExamScoreSerializer(FullCleanModelSerializer):
    student = ScopedPrimaryKeyRelatedField(scope=scope_students, queryset=Student.objects)

    class Meta:
        model = ExamScore
        fields = ["id", "student", "subject", "exam_name", "kind", "exam_date", "score",
                  "full_marks", "recorded_at"]
        read_only_fields = ["recorded_at"]


class InteractionSerializer(FullCleanModelSerializer):
    student = ScopedPrimaryKeyRelatedField(scope=scope_students, queryset=Student.objects)
    parent = ScopedPrimaryKeyRelatedField(
        scope=scope_parents,
        queryset=Parent.objects,
        required=False, allow_null=True)

    class Meta:
        model = Interaction
        fields = ["id", "student", "with_whom", "parent", "channel", "staff", "occurred_at",
                  "summary", "sentiment", "next_follow_up"]
        read_only_fields = ["staff"]


class ComplaintSerializer(serializers.ModelSerializer):
    """Opening a complaint: status is open, `sla_due` comes from the branch policy and the
    owner defaults to the account's counselor."""

    student = ScopedPrimaryKeyRelatedField(scope=scope_students, queryset=Student.objects)
    parent = ScopedPrimaryKeyRelatedField(scope=scope_parents, queryset=Parent.objects,
                                          required=False, allow_null=True)
    owner = ScopedPrimaryKeyRelatedField(
        scope=scope_staff_users, queryset=User.objects, required=False, allow_null=True,
        help_text=_("Staff user id responsible for resolving it (a counselor or manager of "
                    "the student's branch). Default: the account's counselor."))
    created_at = serializers.DateTimeField(
        required=False,
        help_text=_("When it was raised (default now); the SLA counts from here."))

    class Meta:
        model = Complaint
        fields = ["id", "student", "raised_by", "parent", "category", "description", "status",
                  "owner", "sla_due", "created_at", "resolved_at", "resolution"]
        read_only_fields = ["status", "sla_due", "resolved_at", "resolution"]


class ComplaintUpdateSerializer(serializers.Serializer):
    """PATCH: hand over (`owner`), start (`in_progress`), resolve (needs `resolution`) or
    re-open a complaint. Other fields are fixed once it is raised."""

    status = serializers.ChoiceField(choices=Complaint.Status.choices, required=False)
    owner = ScopedPrimaryKeyRelatedField(scope=scope_staff_users, queryset=User.objects,
                                         required=False, allow_null=True)
    resolution = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class SurveySerializer(serializers.ModelSerializer):
    student = ScopedPrimaryKeyRelatedField(scope=scope_students, queryset=Student.objects)
    parent = ScopedPrimaryKeyRelatedField(scope=scope_parents, queryset=Parent.objects,
                                          required=False, allow_null=True)
    surveyed_at = serializers.DateTimeField(required=False,
                                            help_text=_("When it was answered (default now)."))
    overall = serializers.IntegerField(min_value=1, max_value=5)
    teaching = serializers.IntegerField(min_value=1, max_value=5, required=False,
                                        allow_null=True)
    service = serializers.IntegerField(min_value=1, max_value=5, required=False,
                                       allow_null=True)
    environment = serializers.IntegerField(min_value=1, max_value=5, required=False,
                                           allow_null=True)
    recommend = serializers.IntegerField(min_value=0, max_value=10, required=False,
                                         allow_null=True)

    class Meta:
        model = SatisfactionSurvey
        fields = ["id", "student", "respondent", "parent", "surveyed_at", "overall", "teaching",
                  "service", "environment", "recommend", "comment"]

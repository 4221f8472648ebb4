"""Query filters of the student-side resources.

Foreign keys are filtered by plain ids (crm.api.filters.IdFilter), never
ModelChoiceFilter (see IdFilter for why).
"""
from __future__ import annotations

import django_filters as df
from django.utils.translation import gettext_lazy

from crm.api.filters import IdFilter, SinceFilter, SyncFilterSet
from students.choices import DecisionStyle, Grade
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


def ids(field: str) -> IdFilter:
    return IdFilter(field_name=field)


class StudentFilter(SyncFilterSet):
    branch = ids("branch")
    counselor = ids("counselor")
    unassigned = df.BooleanFilter(field_name="counselor", lookup_expr="isnull",
                                  label=gettext_lazy("true: only the branch pool (no counselor)."))
    grade = df.MultipleChoiceFilter(choices=Grade.choices)
    decision_style = df.ChoiceFilter(choices=DecisionStyle.choices)
    external_id = df.CharFilter(label=gettext_lazy("The previous system's student number."))

    class Meta:
        model = Student
        fields = ["branch", "counselor", "period", "grade", "decision_style", "external_id",
                  "updated_since"]


class CourseFilter(df.FilterSet):
    branch = ids("branch")

    class Meta:
        model = Course
        fields = ["subject", "format", "is_active", "branch"]


class ClassGroupFilter(df.FilterSet):
    branch = ids("branch")
    course = ids("course")
    teacher = ids("teacher")

    class Meta:
        model = ClassGroup
        fields = ["branch", "course", "teacher", "is_active"]


class ClassSessionFilter(df.FilterSet):
    class_group = ids("class_group")
    teacher = ids("teacher")
    date_from = df.DateFilter(field_name="date", lookup_expr="gte")
    date_to = df.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = ClassSession
        fields = ["class_group", "teacher", "date_from", "date_to"]


class ContractFilter(SyncFilterSet):
    student = ids("student")
    branch = ids("branch")
    course = ids("course")
    signed_from = df.DateFilter(field_name="signed_on", lookup_expr="gte")
    signed_to = df.DateFilter(field_name="signed_on", lookup_expr="lte")

    class Meta:
        model = Contract
        fields = ["student", "branch", "course", "status", "is_trial", "is_renewal",
                  "signed_from", "signed_to", "updated_since"]


class LedgerEntryFilter(df.FilterSet):
    contract = ids("contract")
    student = ids("contract__student")
    occurred_since = SinceFilter(field_name="occurred_at")

    class Meta:
        model = LedgerEntry
        fields = ["contract", "student", "kind", "occurred_since"]


class PaymentFilter(df.FilterSet):
    contract = ids("contract")
    student = ids("contract__student")
    paid_since = SinceFilter(field_name="paid_at")

    class Meta:
        model = Payment
        fields = ["contract", "student", "method", "reference", "paid_since"]


class RefundFilter(df.FilterSet):
    contract = ids("contract")
    student = ids("contract__student")

    class Meta:
        model = Refund
        fields = ["contract", "student", "status"]


class AttendanceFilter(df.FilterSet):
    student = ids("student")
    session = ids("session")
    date_from = df.DateFilter(field_name="date", lookup_expr="gte")
    date_to = df.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = Attendance
        fields = ["student", "session", "status", "date_from", "date_to"]


class ExamScoreFilter(df.FilterSet):
    student = ids("student")
    date_from = df.DateFilter(field_name="exam_date", lookup_expr="gte")
    date_to = df.DateFilter(field_name="exam_date", lookup_expr="lte")

    class Meta:
        model = ExamScore
        fields = ["student", "subject", "kind", "date_from", "date_to"]


class InteractionFilter(df.FilterSet):
    student = ids("student")
    parent = ids("parent")
    staff = ids("staff")
    occurred_since = SinceFilter(field_name="occurred_at")

    class Meta:
        model = Interaction
        fields = ["student", "parent", "staff", "channel", "sentiment", "occurred_since"]


class ComplaintFilter(df.FilterSet):
    student = ids("student")
    owner = ids("owner")

    class Meta:
        model = Complaint
        fields = ["student", "owner", "status", "category"]


class SurveyFilter(df.FilterSet):
    student = ids("student")
    surveyed_since = SinceFilter(field_name="surveyed_at")

    class Meta:
        model = SatisfactionSurvey
        fields = ["student", "respondent", "surveyed_since"]

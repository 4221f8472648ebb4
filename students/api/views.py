"""Student-side resources: thin viewsets over scoped querysets; writes call services."""
from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from crm.api.errors import Conflict, django_to_drf
from crm.api.idempotency import idempotent_call
from crm.api.permissions import (
    account_writers,
    any_role,
    can_see_money,
    managers,
    roles,
)
from crm.api.schema import error_response
from crm.api.viewsets import ScopedCreateReadViewSet, ScopedReadOnlyViewSet, ScopedViewSet
from crm.permissions import (
    branch_of,
    can_see_exam_scores,
    role_of,
    scope_by_branch,
    scope_by_student,
    scope_students,
    sees_all_branches,
)
from crm.roles import Role
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
from students.selectors import contract_balances, search_q, with_figures
from students.services import (
    ConsentInput,
    DuplicatePayment,
    complaint_open,
    complaint_update,
    contract_create,
    payment_record,
    roll_call_take,
    student_create,
    student_update,
    survey_record,
)

from . import filters
from . import serializers as s

# DOMAIN.md §8 + crm.roles: front desk sees no money and no scores; exam results are
# recorded by teachers and read by everyone who works with the account except front desk.
reads_exam_scores = can_see_exam_scores
records_exam_scores = roles(Role.TEACHER, Role.MANAGER, Role.HEAD_OFFICE)
takes_roll_call = roles(Role.TEACHER, Role.MANAGER, Role.HEAD_OFFICE)
handles_feedback = roles(Role.COUNSELOR, Role.MANAGER, Role.HEAD_OFFICE)


def _by_student(field: str) -> Any:
    def scope(user: Any, qs: QuerySet) -> QuerySet:
        return scope_by_student(user, qs, field=field)

    return staticmethod(scope)


# --- students --------------------------------------------------------------------------

class StudentViewSet(ScopedViewSet):
    """Student accounts. Created through `students.services.student_create` (PIPL consent
    for under-14s); `counselor` and lifecycle fields are read-only (their own actions
    change them). Search: name, English name, pinyin, initials, 4+ phone digits."""

    queryset = Student.objects.all()
    serializer_class = s.StudentSerializer
    scope = staticmethod(scope_students)
    write_capability = account_writers
    filterset_class = filters.StudentFilter
    ordering_fields = ["name_pinyin", "updated_at", "created_at", "grade", "id"]
    ordering = ["name_pinyin", "id"]

    @staticmethod
    def search_q(text: str) -> Any:
        return search_q(text)

    def base_queryset(self) -> QuerySet:
        return with_figures(Student.objects.all())

    def create_object(self, serializer: Any) -> Student:
        data = dict(serializer.validated_data)
        consent = data.pop("consent", None)
        user = self.request.user
        branch = data.pop("branch", None)
        if not sees_all_branches(user):
            branch = branch_of(user)  # never the client's choice (no mass assignment)
        elif branch is None:
            raise ValidationError({"branch": [_("Head office must name the branch.")]})
        # A counselor's own registrations join their caseload; others go to the pool.
        counselor = user if role_of(user) == Role.COUNSELOR else None
        return student_create(
            branch=branch, counselor=counselor, actor=user,
            consent=ConsentInput(**consent) if consent else None, **data)

    def perform_update(self, serializer: Any) -> None:
        """Through students.services.student_update, the one door for detail changes: it
        asks for a guardian's consent when a new grade or birth date makes an under-14."""
        data = {k: v for k, v in serializer.validated_data.items()
                if k not in {"branch", "consent"}}
        student = student_update(student=serializer.instance, actor=self.request.user, **data)
        serializer.instance = self.refetch(student)


# --- teaching ----------------------------------------------------------------------------

class CourseViewSet(ScopedReadOnlyViewSet):
    """Courses offered at the caller's branch (its own and chain-wide ones)."""

    queryset = Course.objects.all()
    serializer_class = s.CourseSerializer
    scope = staticmethod(s.scope_courses)
    filterset_class = filters.CourseFilter
    ordering_fields = ["code", "name", "unit_price"]
    ordering = ["code"]


class ClassGroupViewSet(ScopedReadOnlyViewSet):
    queryset = ClassGroup.objects.all()
    serializer_class = s.ClassGroupSerializer
    scope = staticmethod(scope_by_branch)
    filterset_class = filters.ClassGroupFilter
    ordering_fields = ["name", "start_date", "id"]
    ordering = ["name", "id"]


def _scope_sessions(user: Any, qs: QuerySet) -> QuerySet:
    return scope_by_branch(user, qs, field="class_group__branch")


@extend_schema_view(
    attendance=extend_schema(
        methods=["GET"], responses=s.AttendanceSerializer(many=True),
        summary="The session's roll call"),
)
class ClassSessionViewSet(ScopedReadOnlyViewSet):
    """Lessons; `POST /sessions/<id>/attendance/` uploads a whole roll call at once."""

    queryset = ClassSession.objects.select_related("class_group")
    serializer_class = s.ClassSessionSerializer
    scope = staticmethod(_scope_sessions)
    filterset_class = filters.ClassSessionFilter
    ordering_fields = ["date", "start_time", "id"]
    ordering = ["-date", "-start_time", "id"]

    def get_capability(self, request: Request) -> Any:
        if self.action == "attendance":
            return takes_roll_call if request.method == "POST" else any_role
        return super().get_capability(request)

    @extend_schema(
        methods=["POST"],
        request=s.AttendanceRowSerializer(many=True),
        responses={200: s.AttendanceSerializer(many=True),
                   400: error_response(400, _("Per-row errors, keyed "
                                              "<row index>.<field>; nothing was saved."))},
        summary="Upload the session's roll call (all rows or none)",
    )
    @action(detail=True, methods=["get", "post"], url_path="attendance",
            filter_backends=[], pagination_class=None)
    def attendance(self, request: Request, pk: str | None = None) -> Response:
        session = self.get_object()
        if request.method == "GET":
            rows = scope_by_student(request.user, session.attendances.all())
            return Response(s.AttendanceSerializer(rows.order_by("student_id"), many=True).data)
        return idempotent_call(request, lambda: self._upload(request, session))

    def _upload(self, request: Request, session: ClassSession) -> Response:
        user = request.user
        if role_of(user) == Role.TEACHER and user.pk not in {
                session.teacher_id, session.class_group.teacher_id}:
            raise PermissionDenied(_("Only the class's teacher takes its roll call."))
        if not isinstance(request.data, list) or not request.data:
            raise ValidationError({"non_field_errors": [
                _("Send a non-empty JSON list of {student, status} rows.")]})
        rows = s.AttendanceRowSerializer(data=request.data, many=True)
        rows.is_valid(raise_exception=True)
        wanted = [row["student"] for row in rows.validated_data]
        students = scope_students(user, Student.objects.filter(pk__in=wanted)).in_bulk()
        errors: dict[str, Any] = {}
        seen: set[int] = set()
        for i, row in enumerate(rows.validated_data):
            if row["student"] in seen:
                errors[str(i)] = {"student": [_("This student appears twice.")]}
            elif row["student"] not in students:
                errors[str(i)] = {"student": [_("No student with id “%(pk)s” that you can "
                                                "see.") % {"pk": row["student"]}]}
            seen.add(row["student"])
        if errors:
            raise ValidationError(errors)
        # One door for roll call (role check, roster, hours policy, notices after commit):
        # the service writes every row or none.
        marks = {row["student"]: row["status"] for row in rows.validated_data}
        try:
            roll_call_take(session=session, marks=marks, actor=user)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        except DjangoValidationError as exc:
            raise django_to_drf(exc) from exc
        notes = {row["student"]: row["note"] for row in rows.validated_data if row["note"]}
        if notes:
            for att in session.attendances.filter(student_id__in=notes):
                att.note = notes[att.student_id]
                att.save(update_fields=["note"])
        saved = list(session.attendances.filter(student_id__in=marks).order_by("student_id"))
        return Response(s.AttendanceSerializer(saved, many=True).data)


class AttendanceViewSet(ScopedReadOnlyViewSet):
    queryset = Attendance.objects.all()
    serializer_class = s.AttendanceSerializer
    scope = _by_student("student")
    filterset_class = filters.AttendanceFilter
    ordering_fields = ["date", "id"]
    ordering = ["-date", "id"]


class ExamScoreViewSet(ScopedCreateReadViewSet):
    """School exam results; front desk sees no scores (403)."""

    queryset = ExamScore.objects.all()
    serializer_class = s.ExamScoreSerializer
    scope = _by_student("student")
    read_capability = reads_exam_scores
    write_capability = records_exam_scores
    filterset_class = filters.ExamScoreFilter
    ordering_fields = ["exam_date", "score", "id"]
    ordering = ["-exam_date", "id"]


# --- money ---------------------------------------------------------------------------------

class ContractViewSet(ScopedCreateReadViewSet):
    """Lesson-hour contracts with their `balance`. Money: counselors, managers, head office
    read; managers and head office sign (through `students.services.contract_create`)."""

    queryset = Contract.objects.all()
    serializer_class = s.ContractSerializer
    scope = _by_student("student")
    read_capability = can_see_money
    write_capability = managers
    filterset_class = filters.ContractFilter
    ordering_fields = ["signed_on", "valid_until", "updated_at", "contract_no", "id"]
    ordering = ["-signed_on", "-id"]

    def base_queryset(self) -> QuerySet:
        return contract_balances(Contract.objects.all())

    def create_object(self, serializer: Any) -> Contract:
        data = dict(serializer.validated_data)
        student = data["student"]
        class_group = data.get("class_group")
        if class_group is not None and class_group.branch_id != student.branch_id:
            raise ValidationError({"class_group": [_("The class is in another branch than "
                                                     "the student.")]})
        return contract_create(actor=self.request.user, **data)


class LedgerEntryViewSet(ScopedReadOnlyViewSet):
    """The append-only lesson-hour ledger (corrections are reversal entries)."""

    queryset = LedgerEntry.objects.all()
    serializer_class = s.LedgerEntrySerializer
    scope = _by_student("contract__student")
    read_capability = can_see_money
    filterset_class = filters.LedgerEntryFilter
    ordering_fields = ["occurred_at", "id"]
    ordering = ["occurred_at", "id"]


@extend_schema_view(create=extend_schema(responses={
    201: s.PaymentSerializer,
    409: error_response(409, "A payment with this `reference` is already recorded; "
                             "`existing_payment` is its id when you can see it."),
}))
class PaymentViewSet(ScopedCreateReadViewSet):
    """Payments against contracts. A provider `reference` is booked once: a repeat is 409."""

    queryset = Payment.objects.all()
    serializer_class = s.PaymentSerializer
    scope = _by_student("contract__student")
    read_capability = can_see_money
    write_capability = managers
    filterset_class = filters.PaymentFilter
    ordering_fields = ["paid_at", "amount", "id"]
    ordering = ["-paid_at", "-id"]

    def create_object(self, serializer: Any) -> Payment:
        try:
            return payment_record(actor=self.request.user, **serializer.validated_data)
        except DuplicatePayment as exc:
            # Another branch's payment is not named (its id would leak).
            visible = self.get_queryset().filter(pk=exc.existing.pk).exists()
            raise Conflict(_("A payment with this transaction reference is already "
                             "recorded."), code="duplicate_payment",
                           extra={"existing_payment": exc.existing.pk} if visible else {}
                           ) from exc


class RefundViewSet(ScopedReadOnlyViewSet):
    queryset = Refund.objects.all()
    serializer_class = s.RefundSerializer
    scope = _by_student("contract__student")
    read_capability = can_see_money
    filterset_class = filters.RefundFilter
    ordering_fields = ["requested_at", "id"]
    ordering = ["-requested_at", "-id"]


# --- engagement ------------------------------------------------------------------------

class InteractionViewSet(ScopedCreateReadViewSet):
    """Logged calls, visits and messages; anyone on the account logs them as themselves."""

    queryset = Interaction.objects.all()
    serializer_class = s.InteractionSerializer
    scope = _by_student("student")
    write_capability = any_role
    filterset_class = filters.InteractionFilter
    ordering_fields = ["occurred_at", "id"]
    ordering = ["-occurred_at", "-id"]

    def server_fields(self, serializer: Any) -> dict[str, Any]:
        return {"staff": self.request.user}


@extend_schema_view(partial_update=extend_schema(
    request=s.ComplaintUpdateSerializer, responses={200: s.ComplaintSerializer}))
class ComplaintViewSet(ScopedViewSet):
    """Complaints with an owner and a resolve-by time (`sla_due`, from the branch policy).

    POST opens one through `students.services.complaint_open`; PATCH hands it over,
    starts it or resolves it (`status`, `owner`, `resolution`) through `complaint_update`.
    """

    queryset = Complaint.objects.all()
    serializer_class = s.ComplaintSerializer
    scope = _by_student("student")
    read_capability = handles_feedback
    write_capability = handles_feedback
    filterset_class = filters.ComplaintFilter
    ordering_fields = ["created_at", "sla_due", "id"]
    ordering = ["-created_at", "-id"]

    def get_serializer_class(self) -> type:
        if self.action == "partial_update":
            return s.ComplaintUpdateSerializer
        return super().get_serializer_class()

    def create_object(self, serializer: Any) -> Complaint:
        data = dict(serializer.validated_data)
        return complaint_open(actor=self.request.user, raised_at=data.pop("created_at", None),
                              **data)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        complaint = self.get_object()
        serializer = s.ComplaintUpdateSerializer(complaint, data=request.data, partial=True,
                                                 context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        complaint = complaint_update(complaint=complaint, actor=request.user,
                                     **serializer.validated_data)
        return Response(s.ComplaintSerializer(self.refetch(complaint),
                                              context=self.get_serializer_context()).data)


class SurveyViewSet(ScopedCreateReadViewSet):
    """Satisfaction responses; POST records one through `students.services.survey_record`."""

    queryset = SatisfactionSurvey.objects.all()
    serializer_class = s.SurveySerializer
    scope = _by_student("student")
    read_capability = handles_feedback
    write_capability = handles_feedback
    filterset_class = filters.SurveyFilter
    ordering_fields = ["surveyed_at", "overall", "id"]
    ordering = ["-surveyed_at", "-id"]

    def create_object(self, serializer: Any) -> SatisfactionSurvey:
        return survey_record(actor=self.request.user, **serializer.validated_data)

"""Parents, guardianships and one-step family registration."""
from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from crm.api.errors import Conflict
from crm.api.idempotency import idempotent
from crm.api.permissions import CapabilityPermission, account_writers
from crm.api.schema import error_response
from crm.api.viewsets import ScopedViewSet
from crm.permissions import branch_of, role_of, scope_by_student, scope_parents, sees_all_branches
from crm.roles import Role
from parents.models import Guardianship, Parent
from parents.services import (
    DuplicateFamilyError,
    ParentInput,
    StudentInput,
    family_register,
    parent_create,
)
from students.api.serializers import StudentSerializer
from students.models import Student
from students.selectors import with_figures

from . import filters
from . import serializers as s

DUPLICATE_PHONE = error_response(
    409, gettext_lazy("A phone number is already registered: `existing_parents` lists "
                      "those parents' ids. Link them with `existing` (families) or open "
                      "them instead."))


def duplicate_conflict(exc: DuplicateFamilyError) -> Conflict:
    """409 with the existing parents' ids only: the service's message names them and
    their phones, which another branch's caller must not read."""
    return Conflict(_("A parent with this phone number is already registered."),
                    code="duplicate_family",
                    extra={"existing_parents": sorted(p.pk for p in exc.parents)})


def _own_branch(user: Any, requested: Any) -> Any:
    """The branch a new record goes to: never the client's choice except for head office."""
    if not sees_all_branches(user):
        return branch_of(user)
    if requested is None:
        raise ValidationError({"branch": [_("Head office must name the branch.")]})
    return requested


@extend_schema_view(create=extend_schema(responses={201: s.ParentSerializer,
                                                    409: DUPLICATE_PHONE}))
class ParentViewSet(ScopedViewSet):
    """Parents and guardians. Teachers see phone, WeChat id and email masked. Search:
    name, pinyin, initials, 4+ phone digits (phone search only for roles that see
    contacts)."""

    queryset = Parent.objects.all()
    serializer_class = s.ParentSerializer
    scope = staticmethod(scope_parents)
    write_capability = account_writers
    filterset_class = filters.ParentFilter
    ordering_fields = ["name_pinyin", "updated_at", "created_at", "id"]
    ordering = ["name_pinyin", "id"]
    search_q = staticmethod(filters.parent_search_q)

    def base_queryset(self) -> QuerySet:
        visible = scope_by_student(self.request.user, Guardianship.objects.all())
        return Parent.objects.prefetch_related(
            Prefetch("guardianships", queryset=visible.order_by("student_id"),
                     to_attr="visible_guardianships"))

    def create_object(self, serializer: Any) -> Parent:
        data = dict(serializer.validated_data)
        branch = _own_branch(self.request.user, data.pop("branch", None))
        try:
            return parent_create(branch=branch, **data)
        except DuplicateFamilyError as exc:
            raise duplicate_conflict(exc) from exc

    def perform_update(self, serializer: Any) -> None:
        phone = serializer.validated_data.get("phone")
        if phone:
            from parents.services import parents_with_phones

            twins = [p for p in parents_with_phones([phone]) if p.pk != serializer.instance.pk]
            if twins:
                raise duplicate_conflict(DuplicateFamilyError(twins))
        super().perform_update(serializer)


class GuardianshipViewSet(ScopedViewSet):
    """Who is whose guardian, the primary contact and the decision maker (DOMAIN.md §2)."""

    queryset = Guardianship.objects.select_related("parent")
    serializer_class = s.GuardianshipSerializer
    write_capability = account_writers
    filterset_class = filters.GuardianshipFilter
    ordering_fields = ["created_at", "id"]
    ordering = ["student_id", "id"]

    @staticmethod
    def scope(user: Any, qs: QuerySet) -> QuerySet:
        return scope_by_student(user, qs, field="student")


class FamilyRegisterView(generics.GenericAPIView):
    """POST /api/v1/families/: the front desk's walk-in form, through
    `parents.services.family_register` (all parents and students or nothing).

    A phone that is already registered answers 409 `duplicate_family` with
    `existing_parents`: the client shows that family, or re-sends with `existing: <id>`
    to link the known parent (e.g. a sibling's registration).
    """

    serializer_class = s.FamilyInput
    permission_classes = [CapabilityPermission]
    write_capability = account_writers
    idempotent_create = True

    @extend_schema(request=s.FamilyInput,
                   responses={201: s.FamilyOutput, 409: DUPLICATE_PHONE},
                   summary="Register a family (parents + students) in one step")
    @idempotent
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = s.FamilyInput(data=request.data, context=self.get_serializer_context())
        form.is_valid(raise_exception=True)
        data = form.validated_data
        user = request.user
        branch = _own_branch(user, data.get("branch"))
        parents = [ParentInput(**{"name": "", "phone": "", **p}) for p in data["parents"]]
        students = []
        for st in data["students"]:
            st = dict(st)
            students.append(StudentInput(
                name_zh=st.pop("name_zh"), grade=st.pop("grade"),
                consent_method=st.pop("consent_method", ""), consent_by=st.pop("consent_by", 0),
                fields=st))
        counselor = user if role_of(user) == Role.COUNSELOR else None
        try:
            saved_parents, saved_students = family_register(
                branch=branch, parents=parents, students=students, actor=user,
                counselor=counselor)
        except DuplicateFamilyError as exc:
            raise duplicate_conflict(exc) from exc
        ctx = self.get_serializer_context()
        parent_rows = Parent.objects.filter(pk__in=[p.pk for p in saved_parents]).prefetch_related(
            Prefetch("guardianships", queryset=Guardianship.objects.order_by("student_id"),
                     to_attr="visible_guardianships"))
        student_rows = with_figures(Student.objects.filter(pk__in=[x.pk for x in saved_students]))
        return Response({
            "parents": s.ParentSerializer(parent_rows, many=True, context=ctx).data,
            "students": StudentSerializer(student_rows, many=True, context=ctx).data,
        }, status=status.HTTP_201_CREATED)

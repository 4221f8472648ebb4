"""Import jobs and exports over the API: thin views over dataio.services / exports.

POST /imports/ (multipart: kind, file[, branch]) -> 202 and the job (its dry run runs
as a Celery job); GET /imports/{id}/ -> status, per-row preview and errors;
POST /imports/{id}/confirm/ [mode=valid] -> 202 (all or nothing, or the valid rows with
the refused ones listed in `refused`, as in the browser);
GET /exports/{list}/?fmt=xlsx|csv&branch=&grade=&period= -> the file (audited).
"""
from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.permissions import CapabilityPermission, any_role

from .. import exports, selectors, services
from .serializers import ConfirmInput, ImportInput, ImportJobOutput


def _can_import(user: Any) -> bool:
    return services.can_import(user)


def _drf(exc: DjangoValidationError) -> ValidationError:
    if hasattr(exc, "error_dict"):
        return ValidationError(exc.message_dict)
    return ValidationError({"non_field_errors": exc.messages})


class ImportJobCreateView(APIView):
    permission_classes = [CapabilityPermission]
    read_capability = staticmethod(_can_import)
    write_capability = staticmethod(_can_import)
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request={"multipart/form-data": ImportInput},
                   responses={202: ImportJobOutput})
    def post(self, request: Request) -> Response:
        data = ImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            job = services.import_job_create(
                actor=request.user, kind=data.validated_data["kind"],
                upload=data.validated_data["file"], branch=data.validated_data.get("branch"),
                language=getattr(request, "LANGUAGE_CODE", ""),
                template=data.validated_data.get("template"),
                options={"mode": data.validated_data["mode"],
                         "consumes": data.validated_data["consumes"]})
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        except DjangoValidationError as exc:
            raise _drf(exc) from exc
        return Response(ImportJobOutput(job).data, status=status.HTTP_202_ACCEPTED)


class ImportJobDetailView(APIView):
    permission_classes = [CapabilityPermission]
    read_capability = staticmethod(_can_import)

    @extend_schema(responses=ImportJobOutput)
    def get(self, request: Request, pk: int) -> Response:
        job = get_object_or_404(selectors.import_jobs(user=request.user), pk=pk)
        return Response(ImportJobOutput(job).data)


class ImportJobConfirmView(APIView):
    permission_classes = [CapabilityPermission]
    write_capability = staticmethod(_can_import)

    @extend_schema(request=ConfirmInput, responses={202: ImportJobOutput})
    def post(self, request: Request, pk: int) -> Response:
        job = get_object_or_404(selectors.import_jobs(user=request.user), pk=pk)
        data = ConfirmInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.import_confirm(job=job, actor=request.user,
                                    mode=data.validated_data.get("mode"))
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        except DjangoValidationError as exc:
            raise _drf(exc) from exc
        job.refresh_from_db()
        return Response(ImportJobOutput(job).data, status=status.HTTP_202_ACCEPTED)


class ExportView(APIView):
    permission_classes = [CapabilityPermission]
    read_capability = staticmethod(any_role)

    @extend_schema(parameters=[
        OpenApiParameter("fmt", str, enum=["xlsx", "csv"]),
        OpenApiParameter("branch", int), OpenApiParameter("grade", str),
        OpenApiParameter("period", str)], responses={(200, "application/octet-stream"): bytes})
    def get(self, request: Request, name: str) -> HttpResponse:
        q = request.query_params
        branch = q.get("branch")
        filters = {"branch": int(branch) if branch and branch.isdigit() else None,
                   "grade": q.get("grade", ""), "period": q.get("period", "")}
        try:
            result = exports.export_run(actor=request.user, name=name, filters=filters,
                                        fmt=q.get("fmt", "xlsx"))
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        response = HttpResponse(result.content, content_type=result.content_type)
        response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
        return response

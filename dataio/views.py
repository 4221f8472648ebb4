"""Import and export pages. Thin: forms validate input, services do the work.

Imports are all or nothing per file (dataio.services): the page says so before the
user confirms, and the error report can be downloaded to fix the file.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm.permissions import role_of
from crm.spreadsheets import safe_row

from . import exports, selectors, services
from .columns import column_label, mappable_columns, norm_header
from .forms import ExportForm, ImportForm
from .models import ImportJob, ImportKind


def _staff(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if role_of(request.user) is None:
            raise PermissionDenied(_("Your account has no staff role."))
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _file(result: exports.ExportResult) -> HttpResponse:
    response = HttpResponse(result.content, content_type=result.content_type)
    response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    return response


def _job(request: HttpRequest, pk: int) -> ImportJob:
    return get_object_or_404(selectors.import_jobs(user=request.user), pk=pk)


@_staff
def import_start(request: HttpRequest) -> HttpResponse:
    """Upload a file; its dry run starts at once (a Celery job for large files)."""
    if not services.can_import(request.user):
        raise PermissionDenied(_("Your role may not import data."))
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.import_job_create(
                actor=request.user, kind=form.cleaned_data["kind"],
                upload=form.cleaned_data["file"], branch=form.cleaned_data.get("branch"),
                language=request.LANGUAGE_CODE, template=form.cleaned_data.get("template"),
                options=form.options())
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        else:
            return redirect("dataio:job", pk=job.pk)
    kinds = [(k, ImportKind(k).label) for k in services.import_kinds_for(request.user)]
    jobs = selectors.import_jobs(user=request.user)[:20]
    return render(request, "dataio/import.html", {"form": form, "kinds": kinds, "jobs": jobs})


@_staff
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    written = [(WRITTEN.get(k, k.replace("_", " ")), v)
               for k, v in ((job.summary or {}).get("written") or {}).items()]
    counts = (job.summary or {}).get("counts") or {}
    return render(request, "dataio/job.html", {
        "job": job, "can_confirm": services.can_import(request.user, job.kind),
        "written": written, "refused_count": len(job.refused or {}),
        "valid_rows": sum(counts.get(k, 0) for k in ("create", "update", "match")),
        "file_level": any(e["row"] <= 1 for e in job.errors),
        **_mapping_context(job)})


def _mapping_context(job: ImportJob) -> dict[str, Any]:
    """The mapping form: each header with its column (a saved template's choice for the
    headers it knows), the columns to choose from, the first rows."""
    columns = (job.summary or {}).get("columns")
    if not columns or job.status == ImportJob.Status.DONE:
        return {}
    suggestion = services.suggested_template(job)
    headers = []
    for i, h in enumerate(columns["headers"]):
        key = h["key"]
        if h["unknown"] and suggestion is not None:
            key = suggestion.mapping.get(norm_header(h["header"]), "")
        headers.append({"index": i, "header": h["header"], "key": key,
                        "unknown": h["unknown"]})
    choices = [(c.key, column_label(c)) for c in mappable_columns(job.kind)]
    missing = [column_label(c) for c in mappable_columns(job.kind)
               if c.key in columns.get("missing", [])]
    values = [{"column": col, "label": _("Subject") if col == "subject" else col,
               "values": list(enumerate(raws)),
               "choices": services.VALUE_CHOICES[col].choices}
              for col, raws in ((job.summary or {}).get("unknown_values") or {}).items()
              if col in services.VALUE_CHOICES]
    return {"map_values": values, "map_headers": headers, "map_choices": choices,
            "map_preview": columns["preview"],
            "map_missing": missing, "map_suggestion": suggestion,
            "map_unknown": sum(1 for h in headers if h["unknown"])}


@_staff
@require_POST
def job_values(request: HttpRequest, pk: int, column: str) -> HttpResponse:
    """Map the unknown values of one column (e.g. subjects) and check the file again."""
    job = _job(request, pk)
    unknown = ((job.summary or {}).get("unknown_values") or {}).get(column) or []
    values = {raw: request.POST.get(f"value_{i}", "") for i, raw in enumerate(unknown)}
    try:
        services.import_job_values(job=job, actor=request.user, column=column, values=values)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("dataio:job", pk=job.pk)


@_staff
@require_POST
def job_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the column mapping (and, if named, a template) and check the file again."""
    job = _job(request, pk)
    headers = ((job.summary or {}).get("columns") or {}).get("headers") or []
    mapping = {h["header"]: request.POST.get(f"header_{i}", "") for i, h in enumerate(headers)}
    try:
        services.import_job_map(job=job, actor=request.user, mapping=mapping,
                                source_system=request.POST.get("source_system", ""),
                                template_name=request.POST.get("template_name", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("dataio:job", pk=job.pk)


@_staff
def job_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress fragment htmx polls every second; reloads the page when finished."""
    job = _job(request, pk)
    response = render(request, "dataio/_status.html", {"job": job})
    if not job.is_running and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


@_staff
@require_POST
def job_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    try:
        services.import_confirm(job=job, actor=request.user,
                                mode=request.POST.get("mode") or None)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("dataio:job", pk=job.pk)


@_staff
@require_POST
def job_revalidate(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    services.import_job_revalidate(job=job, actor=request.user)
    return redirect("dataio:job", pk=job.pk)


@_staff
def job_errors(request: HttpRequest, pk: int) -> HttpResponse:
    """The error report as CSV (row, column, reason), to fix the file in Excel."""
    job = _job(request, pk)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([_("Row"), _("Column"), _("Reason")])
    for e in job.errors:
        writer.writerow(safe_row([e["row"], e["column"], e["reason"]]))
    response = HttpResponse(("\ufeff" + buf.getvalue()).encode("utf-8"),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="errors-{job.pk}.csv"'
    return response


@_staff
def job_refused(request: HttpRequest, pk: int) -> HttpResponse:
    """The refused rows: the file's own columns plus the reason, to fix and upload again."""
    job = _job(request, pk)
    if not job.refused:
        raise Http404
    response = HttpResponse(services.refused_rows_file(job=job),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="refused-{job.pk}.csv"'
    return response


# What an import wrote, as a person reads it (summary["written"] keys).
WRITTEN = {
    "students_created": gettext_lazy("students created"),
    "students_updated": gettext_lazy("students updated"),
    "parents_created": gettext_lazy("parents created"),
    "guardianships_created": gettext_lazy("guardian links created"),
    "consents_created": gettext_lazy("consents recorded"),
    "contracts_created": gettext_lazy("contracts created"),
    "ledger_entries_created": gettext_lazy("opening balances written"),
    "payments_created": gettext_lazy("payments created"),
    "exam_scores_created": gettext_lazy("exam results created"),
    "attendance_created": gettext_lazy("attendance records created"),
    "sessions_created": gettext_lazy("lessons created"),
    "lessons_charged": gettext_lazy("lessons charged to contracts"),
    "lessons_not_charged": gettext_lazy("lessons not charged (no hours that day)"),
    "interactions_created": gettext_lazy("visits created"),
    "surveys_created": gettext_lazy("satisfaction surveys created"),
    "complaints_created": gettext_lazy("complaints created"),
    "prospects_created": gettext_lazy("prospects created"),
    "accounts_placed": gettext_lazy("accounts placed in their lifecycle period"),
}


@_staff
def template_download(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    if kind not in ImportKind.values or fmt not in {"xlsx", "csv"}:
        raise Http404
    if not services.can_import(request.user, kind):
        raise PermissionDenied(_("Your role may not import this kind of data."))
    return _file(exports.import_template(kind=kind, fmt=fmt))


@_staff
def export_page(request: HttpRequest) -> HttpResponse:
    """Filters and download buttons; the download itself is export_download."""
    if not exports.can_export(request.user):
        raise PermissionDenied(_("Your role may not export data."))
    form = ExportForm(request.GET or None, user=request.user)
    return render(request, "dataio/export.html", {"form": form})


@_staff
def export_download(request: HttpRequest) -> HttpResponse:
    if not exports.can_export(request.user):
        raise PermissionDenied(_("Your role may not export data."))
    form = ExportForm(request.GET, user=request.user)
    if not form.is_valid():
        if "list" in form.errors and request.GET.get("list") in exports.EXPORTS:
            raise PermissionDenied(_("Your role may not export this list."))
        return render(request, "dataio/export.html", {"form": form}, status=400)
    result = exports.export_run(actor=request.user, name=form.cleaned_data["list"],
                                filters=form.filters(), fmt=form.cleaned_data["format"])
    return _file(result)

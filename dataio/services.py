"""Import jobs: upload -> dry run -> confirm -> import, and who may do which.

**All or nothing per file.** A confirmed import runs in ONE database transaction: the
file is checked again against the database as it is at that moment (another user may
have registered a phone since the dry run) and, if any row now fails, nothing at all
is written and the job reports the rows at fault. We chose this over per-row imports
because it is the simplest to reason about: a file is either in or out, and a re-run
of a fixed file never meets half of itself (natural keys make re-imports match
instead of duplicating anyway).

Progress during that transaction cannot be seen through it, so on PostgreSQL it is
written through a second, autocommit connection (see `_Progress`).
"""
from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.models import Branch
from crm.permissions import branch_of, role_of, sees_all_branches
from crm.roles import Role
from crm.services import audit
from lifecycle.services import accounts_place_imported
from students.choices import Subject

from .columns import columns_for, map_headers, mappable_columns, norm_header
from .importers import Context, Plan, importer_for
from .models import (
    MAX_PREVIEW_ROWS,
    MAX_STORED_ERRORS,
    ColumnTemplate,
    ImportJob,
    ImportKind,
    ImportMode,
)
from .parsing import text
from .readers import Sheet, read_file

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


# ----------------------------------------------------------------------- permissions
def import_kinds_for(user: Any) -> list[str]:
    """Front desk imports families only; managers and head office every kind."""
    role = role_of(user)
    if role in {Role.MANAGER, Role.HEAD_OFFICE}:
        return list(ImportKind.values)
    if role == Role.FRONT_DESK:
        return [ImportKind.STUDENTS, ImportKind.PROSPECTS]
    return []


def can_import(user: Any, kind: str | None = None) -> bool:
    kinds = import_kinds_for(user)
    return bool(kinds) if kind is None else kind in kinds


def _require(user: Any, kind: str) -> None:
    if not can_import(user, kind):
        raise PermissionDenied(_("Your role may not import this kind of data."))


# --------------------------------------------------------------------------- jobs
def import_job_create(*, actor: Any, kind: str, upload: UploadedFile,
                      branch: Branch | None = None, language: str = "",
                      run_later: bool = True, template: ColumnTemplate | None = None,
                      options: dict[str, Any] | None = None) -> ImportJob:
    """Store the upload and queue its dry run (after commit, so the worker finds it)."""
    _require(actor, kind)
    if upload.size and upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": _("The file is larger than 50 MB.")})
    if not upload.name.lower().endswith((".xlsx", ".csv", ".txt")):
        raise ValidationError({"file": _("Upload an Excel workbook (.xlsx) or a CSV file "
                                         "(.csv).")})
    if branch is None and not sees_all_branches(actor):
        branch = branch_of(actor)
    elif branch is not None and not sees_all_branches(actor) and branch != branch_of(actor):
        raise PermissionDenied(_("You may not import into branch %(branch)s.")
                               % {"branch": branch.name})
    if template is not None and template.kind != kind:
        raise ValidationError({"template": _("This template is for another kind of data.")})
    job = ImportJob(kind=kind, file=upload, original_name=upload.name[:255], branch=branch,
                    mapping=dict(template.mapping) if template else {},
                    options=options or {},
                    created_by=actor if getattr(actor, "pk", None) else None,
                    language=language or translation.get_language() or settings.LANGUAGE_CODE)
    job.save()
    if run_later:
        from .tasks import import_validate_task

        transaction.on_commit(lambda: import_validate_task.delay(job.pk))
    return job


def import_job_revalidate(*, job: ImportJob, actor: Any) -> ImportJob:
    """Run the dry run again (e.g. after fixing data in the CRM, or after a failed import)."""
    _require(actor, job.kind)
    from .tasks import import_validate_task

    transaction.on_commit(lambda: import_validate_task.delay(job.pk))
    return job


def import_job_map(*, job: ImportJob, actor: Any, mapping: dict[str, str],
                   source_system: str = "", template_name: str = "") -> ImportJob:
    """Map the file's headers to columns ("" ignores one), optionally save the mapping as
    a named template of its source system, and check the file again."""
    _require(actor, job.kind)
    if job.is_running or job.status == ImportJob.Status.DONE:
        raise ValidationError(_("The mapping can be changed only before the import, once "
                                "the check has finished."))
    labels = {c.key: c for c in mappable_columns(job.kind)}
    clean: dict[str, str] = {}
    taken: dict[str, str] = {}
    for header, key in mapping.items():
        if key and key not in labels:
            raise ValidationError({"mapping": _("Unknown column for the header “%(header)s”.")
                                   % {"header": header}})
        if key and key in taken:
            raise ValidationError({"mapping": _(
                "The headers “%(a)s” and “%(b)s” are both mapped to %(col)s.")
                % {"a": taken[key], "b": header, "col": labels[key].zh}})
        if key:
            taken[key] = header
        if norm_header(header):
            clean[norm_header(header)] = key
    source_system, template_name = source_system.strip(), template_name.strip()
    if template_name and not source_system:
        raise ValidationError({"source_system": _("Name the source system the template is "
                                                  "for.")})
    with transaction.atomic():
        ImportJob.objects.filter(pk=job.pk).update(mapping=clean)
        if template_name:
            column_template_save(kind=job.kind, source_system=source_system,
                                 name=template_name, mapping=clean, actor=actor)
    job.refresh_from_db()
    return import_job_revalidate(job=job, actor=actor)


# Columns whose unknown values the user maps in the page, and the codes allowed.
VALUE_CHOICES: dict[str, Any] = {"subject": Subject}


def import_job_values(*, job: ImportJob, actor: Any, column: str,
                      values: dict[str, str]) -> ImportJob:
    """Map values the file uses that the built-in lists lack (a subject 奥数 -> math), for
    this file, and check it again."""
    _require(actor, job.kind)
    if job.is_running or job.status == ImportJob.Status.DONE:
        raise ValidationError(_("The mapping can be changed only before the import, once "
                                "the check has finished."))
    if column not in VALUE_CHOICES:
        raise ValidationError({"column": _("This column's values cannot be mapped.")})
    allowed = set(VALUE_CHOICES[column].values)
    chosen = {raw: code for raw, code in values.items() if code}
    bad = [raw for raw, code in chosen.items() if code not in allowed]
    if bad:
        raise ValidationError({"values": _("Choose a listed value for “%(value)s”.")
                               % {"value": bad[0]}})
    options = dict(job.options or {})
    options["values"] = {**options.get("values", {}),
                         column: {**options.get("values", {}).get(column, {}), **chosen}}
    ImportJob.objects.filter(pk=job.pk).update(options=options)
    job.refresh_from_db()
    return import_job_revalidate(job=job, actor=actor)


def column_template_save(*, kind: str, source_system: str, name: str,
                         mapping: dict[str, str], actor: Any) -> ColumnTemplate:
    """Create or replace the named template (one per kind, source system and name)."""
    _require(actor, kind)
    template, _created = ColumnTemplate.objects.update_or_create(
        kind=kind, source_system=source_system[:80], name=name[:80],
        defaults={"mapping": mapping,
                  "created_by": actor if getattr(actor, "pk", None) else None})
    return template


def suggested_template(job: ImportJob) -> ColumnTemplate | None:
    """The saved template of this kind that knows most of the file's unknown headers."""
    headers = ((job.summary or {}).get("columns") or {}).get("headers") or []
    unknown = {norm_header(h["header"]) for h in headers if h.get("unknown")}
    if not unknown:
        return None
    best, score = None, 0
    for t in ColumnTemplate.objects.filter(kind=job.kind):
        hits = len(unknown & set(t.mapping))
        if hits > score:
            best, score = t, hits
    return best


def _sheet(job: ImportJob) -> Sheet:
    with job.file.open("rb") as fh:
        data = fh.read()
    return read_file(job.original_name, data)


def _context(job: ImportJob, progress: Any) -> Context:
    return Context(actor=job.created_by, branch=job.branch, progress=progress,
                   mapping=job.mapping or {}, options=job.options or {})


PREVIEW_ROWS = 5


def _columns(job: ImportJob, sheet: Sheet) -> dict[str, Any]:
    """The file's headers as matched (for the mapping form) and its first rows."""
    hm = map_headers(job.kind, sheet.headers, job.mapping or {})
    by_index = {i: k for k, i in hm.index.items()}
    mapped = {norm_header(k) for k in (job.mapping or {})}
    headers = [{"header": str(h), "key": by_index.get(i, ""),
                "mapped": norm_header(h) in mapped,
                "unknown": str(h) in hm.unknown and bool(str(h).strip())}
               for i, h in enumerate(sheet.headers)]
    cols = columns_for(job.kind, hm.layout)
    missing = [c.key for c in cols if c.required and c.key not in hm.index]
    preview = [[_shown(v) for v in cells[:len(sheet.headers)]]
               for _n, cells in sheet.rows[:PREVIEW_ROWS]]
    return {"headers": headers, "missing": missing, "preview": preview}


def _shown(value: Any) -> str:
    return text(value)[:60]


def _errors(plan: Plan) -> tuple[list[dict[str, Any]], int]:
    return plan.errors[:MAX_STORED_ERRORS], len(plan.errors)


def _summary(plan: Plan, sheet: Sheet | None, columns: dict[str, Any] | None = None
             ) -> dict[str, Any]:
    return {"counts": plan.counts(), "layout": plan.layout, "columns": columns,
            "encoding": sheet.encoding if sheet else "",
            "warnings": plan.warnings[:MAX_STORED_ERRORS], "warning_count": len(plan.warnings),
            "unknown_values": {k: v[:200] for k, v in plan.unknown_values.items()},
            "rows": [{"row": r.row, "action": r.action, "text": r.text}
                     for r in plan.rows[:MAX_PREVIEW_ROWS]]}


def import_validate(*, job_id: int) -> ImportJob:
    """The dry run: plan every row and store the preview; writes nothing else.

    Claimed with a conditional UPDATE: a second delivery of the task finds the job no
    longer waiting and does nothing.
    """
    claimed = ImportJob.objects.filter(
        pk=job_id, status__in=[ImportJob.Status.UPLOADED, ImportJob.Status.VALIDATED,
                               ImportJob.Status.FAILED],
    ).update(status=ImportJob.Status.VALIDATING, rows_done=0, step_started_at=timezone.now())
    job = ImportJob.objects.select_related("created_by", "branch").get(pk=job_id)
    if not claimed:
        return job
    with translation.override(job.language or settings.LANGUAGE_CODE):
        progress = _Progress(job.pk)
        sheet: Sheet | None = None
        columns: dict[str, Any] | None = None
        try:
            sheet = _sheet(job)
            ImportJob.objects.filter(pk=job.pk).update(rows_total=len(sheet.rows))
            columns = _columns(job, sheet)
            plan = importer_for(job.kind, _context(job, progress)).plan(sheet)
        except ValidationError as exc:
            plan = Plan(kind=job.kind)
            plan.errors = [{"row": 0, "column": "", "reason": m} for m in exc.messages]
        except Exception as exc:  # never leave the job "validating" for ever
            log.exception("import job %s: the dry run failed", job.pk)
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportJob.Status.FAILED, error_count=1, finished_at=timezone.now(),
                errors=[{"row": 0, "column": "", "reason": _(
                    "The file could not be checked and nothing was written: %(error)s")
                    % {"error": str(exc)[:300]}}])
            job.refresh_from_db()
            return job
        finally:
            progress.close()
        errors, count = _errors(plan)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.VALIDATED, rows_total=plan.rows_total,
            refused=_refused(plan),
            rows_done=plan.rows_total, summary=_summary(plan, sheet, columns),
            errors=errors,
            error_count=count, validated_at=timezone.now())
    job.refresh_from_db()
    return job


def _partial(job: ImportJob) -> bool:
    return (job.options or {}).get("mode") == ImportMode.VALID


def _file_level(errors: list[dict[str, Any]]) -> bool:
    """Errors about the file itself (unreadable, a required column missing): no row can
    be imported, whatever the mode."""
    return any(e["row"] <= 1 for e in errors)


def import_confirm(*, job: ImportJob, actor: Any, run_later: bool = True,
                   mode: str | None = None) -> ImportJob:
    """The user's go-ahead after the dry run; queues the import.

    All or nothing (the default) needs a clean dry run; "valid rows" imports the rows
    without errors and returns the others as a file (`refused_rows_file`).
    """
    _require(actor, job.kind)
    if mode is not None:
        if mode not in ImportMode.values:
            raise ValidationError({"mode": _("Choose how to import.")})
        options = {**(job.options or {}), "mode": mode}
        ImportJob.objects.filter(pk=job.pk).update(options=options)
        job.options = options
    if job.error_count and (not _partial(job) or _file_level(job.errors)):
        raise ValidationError(_("Fix the %(n)d errors in the file and upload it again; "
                                "nothing is imported while any row has an error.")
                              % {"n": job.error_count})
    counts = (job.summary or {}).get("counts") or {}
    if job.error_count and not any(counts.get(k) for k in ("create", "update", "match")):
        raise ValidationError(_("No row of this file can be imported."))
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.VALIDATED,
                                       error_count=job.error_count).update(
        status=ImportJob.Status.IMPORTING, rows_done=0, step_started_at=timezone.now())
    if not claimed:
        raise ValidationError(_("This import is not waiting for confirmation (it is %(status)s).")
                              % {"status": job.get_status_display()})
    if run_later:
        from .tasks import import_commit_task

        transaction.on_commit(lambda: import_commit_task.delay(job.pk))
    job.refresh_from_db()
    return job


def _refused(plan: Plan) -> dict[str, str]:
    """Row number -> every reason it was refused, naming the columns."""
    out: dict[str, list[str]] = {}
    for e in plan.errors:
        if e["row"] > 1:
            out.setdefault(str(e["row"]), []).append(
                f"{e['column']}: {e['reason']}" if e["column"] else e["reason"])
    return {row: "; ".join(reasons) for row, reasons in out.items()}


def refused_rows_file(*, job: ImportJob) -> bytes:
    """The refused rows with their original columns plus a reason column (CSV, UTF-8 with
    a BOM so Excel opens it), ready to fix and upload again: re-importing is idempotent,
    so the rows already imported match instead of doubling."""
    import csv
    import io

    sheet = _sheet(job)
    refused = job.refused or {}
    buf = io.StringIO()
    writer = csv.writer(buf)
    from crm.spreadsheets import safe_row

    writer.writerow(safe_row([*sheet.headers, _("Reason refused")]))
    for n, cells in sheet.rows:
        reason = refused.get(str(n))
        if reason is None:
            continue
        values = [text(c) for c in cells[:len(sheet.headers)]]
        values += [""] * (len(sheet.headers) - len(values))
        writer.writerow(safe_row(
            [*values, _("Row %(row)d: %(reason)s") % {"row": n, "reason": reason}]))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


class _Abort(Exception):
    def __init__(self, plan: Plan):
        self.plan = plan


# Imports at least this large refresh PostgreSQL's statistics when they finish.
ANALYZE_AFTER_ROWS = 5000


def import_commit(*, job_id: int) -> ImportJob:
    """Import a confirmed file: plan again and write everything in one transaction."""
    job = ImportJob.objects.select_related("created_by", "branch").get(pk=job_id)
    if job.status != ImportJob.Status.IMPORTING:
        return job  # done already (a redelivered task), or never confirmed
    with translation.override(job.language or settings.LANGUAGE_CODE):
        progress = _Progress(job.pk)
        sheet: Sheet | None = None
        try:
            sheet = _sheet(job)
            with transaction.atomic():
                importer = importer_for(job.kind, _context(job, progress), preview=False)
                plan = importer.plan(sheet)
                partial = _partial(job) and not _file_level(plan.errors)
                if not plan.ok and not partial:
                    raise _Abort(plan)
                counts = importer.apply(plan)
                ids, leavings = importer.placement(plan)
                if ids:
                    counts["accounts_placed"] = accounts_place_imported(
                        student_ids=ids, leavings=leavings)
                # The dry run's row-by-row preview stays; the result adds what was written.
                summary = (ImportJob.objects.get(pk=job.pk).summary or {}) | {
                    "written": counts, "counts": plan.counts(),
                    "warnings": plan.warnings[:MAX_STORED_ERRORS],
                    "warning_count": len(plan.warnings)}
                errors, count = _errors(plan)
                audit(actor=job.created_by, action="import", obj=job, branch=job.branch,
                      data={"kind": job.kind, "file": job.original_name,
                            "rows": plan.rows_total, **plan.counts(), **counts})
                # With "valid rows" the refused rows stay listed, for their file.
                ImportJob.objects.filter(pk=job.pk).update(
                    status=ImportJob.Status.DONE, rows_done=plan.rows_total,
                    summary=summary, errors=errors, error_count=count,
                    refused=_refused(plan), finished_at=timezone.now())
        except _Abort as abort:
            errors, count = _errors(abort.plan)
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportJob.Status.FAILED, errors=errors, error_count=count,
                refused=_refused(abort.plan),
                summary=_summary(abort.plan, sheet) | {"changed_since_dry_run": True},
                finished_at=timezone.now())
        except Exception as exc:  # a database conflict: report it, never half-import
            log.exception("import job %s failed", job.pk)
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportJob.Status.FAILED, error_count=1, finished_at=timezone.now(),
                errors=[{"row": 0, "column": "", "reason": _(
                    "The import stopped and nothing was written: %(error)s")
                    % {"error": str(exc)[:300]}}])
        finally:
            progress.close()
    job.refresh_from_db()
    if (job.status == ImportJob.Status.DONE and connection.vendor == "postgresql"
            and not connection.in_atomic_block and job.rows_done >= ANALYZE_AFTER_ROWS):
        # Raw bulk writes leave the planner's statistics stale until autovacuum runs; with
        # stale estimates account pages pick sequential scans (seen: 8.5 s instead of 45 ms).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return job


class _Progress:
    """rows_done, visible to the status page while the import's transaction is open.

    Outside a transaction a plain UPDATE does. Inside one, PostgreSQL gets the UPDATE
    through a second autocommit connection; SKIP LOCKED, so it never waits on a job row
    the import's own transaction holds. Elsewhere (SQLite) the count appears at the end.
    """

    def __init__(self, job_id: int):
        self.job_id = job_id
        self._side: Any = None

    def __call__(self, done: int) -> None:
        if not connection.in_atomic_block:
            ImportJob.objects.filter(pk=self.job_id).update(rows_done=done)
            return
        if connection.vendor != "postgresql":
            return
        if self._side is None:
            real = connections[DEFAULT_DB_ALIAS]  # `connection` is only a proxy
            self._side = type(real)(real.settings_dict.copy(), alias="dataio_progress")
        table = ImportJob._meta.db_table
        with self._side.cursor() as cur:
            cur.execute(
                f"UPDATE {table} SET rows_done = %s WHERE id IN "
                f"(SELECT id FROM {table} WHERE id = %s FOR UPDATE SKIP LOCKED)",
                [done, self.job_id])

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None

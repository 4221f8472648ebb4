"""`manage.py import_data FILE --kind students [--branch CODE] [--as USER] [--commit]`

A dry run unless --commit: prints the per-row plan and every error. With --commit the
file is imported all or nothing (see dataio.services), as the browser and API do.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from crm.models import Branch
from dataio import services
from dataio.models import ImportJob, ImportKind


class Command(BaseCommand):
    help = "Import students/parents, contracts, attendance, payments or exam scores."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--kind", required=True, choices=ImportKind.values)
        parser.add_argument("--branch", help="branch code for rows without a branch column")
        parser.add_argument("--as", dest="username",
                            help="act as this user (default: the first superuser)")
        parser.add_argument("--commit", action="store_true",
                            help="write the data (default: dry run only)")
        parser.add_argument("--show", type=int, default=50, help="plan rows to print")

    def handle(self, *args: Any, **opts: Any) -> None:
        path = Path(opts["file"])
        if not path.exists():
            raise CommandError(f"{path} does not exist")
        user_model = get_user_model()
        if opts["username"]:
            actor = user_model.objects.filter(username=opts["username"]).first()
        else:
            actor = user_model.objects.filter(is_superuser=True, is_active=True).first()
        if actor is None:
            raise CommandError("No such user: pass --as USERNAME (a manager or head office).")
        branch = None
        if opts["branch"]:
            branch = Branch.objects.filter(code=opts["branch"]).first()
            if branch is None:
                raise CommandError(f"Unknown branch code {opts['branch']!r}")
        upload = SimpleUploadedFile(path.name, path.read_bytes())
        # The job and its dry run run here, in this process, whatever Celery is set to.
        with transaction.atomic():
            job = services.import_job_create(actor=actor, kind=opts["kind"], upload=upload,
                                             branch=branch, run_later=False)
        job = services.import_validate(job_id=job.pk)
        self._report(job, opts["show"])
        if job.error_count:
            raise CommandError(f"{job.error_count} errors: nothing imported.")
        if not opts["commit"]:
            self.stdout.write("Dry run: nothing written. Add --commit to import.")
            return
        services.import_confirm(job=job, actor=actor, run_later=False)
        job = services.import_commit(job_id=job.pk)
        if job.status != ImportJob.Status.DONE:
            self._report(job, opts["show"])
            raise CommandError("Import failed: nothing written.")
        self.stdout.write(self.style.SUCCESS(f"Imported: {job.summary.get('written')}"))

    def _report(self, job: ImportJob, show: int) -> None:
        counts = job.summary.get("counts", {})
        self.stdout.write(f"job #{job.pk} {job.original_name}: {job.rows_total} rows; "
                          + ", ".join(f"{k} {v}" for k, v in counts.items()))
        for row in job.summary.get("rows", [])[:show]:
            self.stdout.write(f"  row {row['row']:>6} {row['action']:<7} {row['text']}")
        for err in job.errors:
            self.stderr.write(f"  row {err['row']}, {err['column']}: {err['reason']}")
        if job.error_count > len(job.errors):
            self.stderr.write(f"  ... {job.error_count - len(job.errors)} more errors")

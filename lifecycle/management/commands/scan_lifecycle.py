"""`manage.py scan_lifecycle [--branch CODE] [--nightly | --resume RUN]`: the full nightly job.

Figures -> value and risk scores -> lifecycle rules -> retention tasks, the same code
as the beat schedule's task. `--nightly` joins today's scheduled run (resuming it if
it crashed); `--resume` continues a given run.
"""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from crm.models import Branch
from lifecycle.models import ScanRun
from lifecycle.parallel import scan_in_processes
from lifecycle.services import nightly_run_for


class Command(BaseCommand):
    help = ("Score every account, apply the lifecycle rules and open retention tasks "
            "(idempotent and resumable; same code as the nightly task).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--branch", help="branch code (or id) to limit the scan to")
        parser.add_argument("--chunk-size", type=int, default=settings.LIFECYCLE_CHUNK_SIZE)
        parser.add_argument("--workers", type=int, default=settings.LIFECYCLE_SCAN_WORKERS,
                            help="processes sharing the run (PostgreSQL; default from "
                                 "LIFECYCLE_SCAN_WORKERS)")
        parser.add_argument("--nightly", action="store_true",
                            help="join (or resume) today's nightly run")
        parser.add_argument("--resume", type=int, metavar="RUN",
                            help="continue an unfinished scan run")

    def handle(self, *args: Any, **options: Any) -> None:
        branch = None
        if options["branch"]:
            value = options["branch"]
            branch = (Branch.objects.filter(code=value).first()
                      or (Branch.objects.filter(pk=value).first() if value.isdigit() else None))
            if branch is None:
                raise CommandError(f"No branch {value!r}.")
        if options["resume"]:
            run = ScanRun.objects.filter(pk=options["resume"]).first()
            if run is None:
                raise CommandError(f"No scan run #{options['resume']}.")
        elif options["nightly"]:
            run = nightly_run_for(timezone.localdate(), source=ScanRun.Source.COMMAND)
        else:
            run = ScanRun.objects.create(branch=branch, source=ScanRun.Source.COMMAND)
        if options["chunk_size"] < 1 or options["workers"] < 1:
            raise CommandError("--chunk-size and --workers must be at least 1.")
        run, _queries = scan_in_processes(run, workers=options["workers"],
                                          chunk_size=options["chunk_size"])
        self.stdout.write(f"scan #{run.pk}: {run.scanned} scanned, {run.scored} scored, "
                          f"{run.moved_total} moved ({run.moved_into_risk} into at-risk, "
                          f"{run.moved_out_of_risk} out), {run.tasks_created} tasks, "
                          f"{run.tasks_escalated} escalated")
        for move, n in sorted(run.moved.items()):
            self.stdout.write(f"  {move}: {n}")
        if run.errors:
            self.stderr.write(f"{len(run.errors)} error(s); see scan run #{run.pk}")

"""`manage.py scan_lifecycle [--branch CODE]`: apply the lifecycle rules to every account."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.models import Branch
from lifecycle.models import ScanRun
from lifecycle.services import scan_lifecycle


class Command(BaseCommand):
    help = "Evaluate the lifecycle rules for all accounts (idempotent; same code as the task)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--branch", help="branch code (or id) to limit the scan to")
        parser.add_argument("--chunk-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        branch = None
        if options["branch"]:
            value = options["branch"]
            branch = (Branch.objects.filter(code=value).first()
                      or (Branch.objects.filter(pk=value).first() if value.isdigit() else None))
            if branch is None:
                raise CommandError(f"No branch {value!r}.")
        run = ScanRun.objects.create(branch=branch, source=ScanRun.Source.COMMAND)
        run = scan_lifecycle(run=run, chunk_size=options["chunk_size"])
        self.stdout.write(f"scan #{run.pk}: {run.scanned} scanned, {run.moved_total} moved")
        for move, n in sorted(run.moved.items()):
            self.stdout.write(f"  {move}: {n}")
        if run.errors:
            self.stderr.write(f"{len(run.errors)} error(s); see scan run #{run.pk}")

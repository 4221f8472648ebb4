"""python manage.py import_timetable rules.csv --as <username> [--override-reason ...]"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from timetable.services.imports import rules_import


class Command(BaseCommand):
    help = "Import weekly timetable rules from a CSV sheet (all rows or none)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--as", dest="username", required=True,
                            help="The manager the import is done as (permissions apply).")
        parser.add_argument("--override-reason", default="",
                            help="Let conflicts through, recorded with this reason.")

    def handle(self, *args: Any, **opts: Any) -> None:
        user = get_user_model().objects.filter(username=opts["username"]).first()
        if user is None:
            raise CommandError(f"No user {opts['username']!r}.")
        text = Path(opts["path"]).read_text(encoding="utf-8-sig")
        try:
            result = rules_import(text=text, actor=user,
                                  override_reason=opts["override_reason"])
        except (ValidationError, PermissionDenied) as exc:
            for message in getattr(exc, "messages", [str(exc)]):
                self.stderr.write(message)
            raise CommandError("Nothing was imported.") from exc
        gen = result.generated
        self.stdout.write(f"{len(result.rules)} rules, {gen.created if gen else 0} lessons "
                          f"written, {len(gen.skipped) if gen else 0} closed days skipped.")

"""`manage.py seed_demo`: a realistic demo institution (logic in lifecycle.demo, which
orchestrates each domain's demo module)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from lifecycle import demo


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(_("--today must be YYYY-MM-DD, not “%(v)s”.") % {"v": value}) from exc


class Command(BaseCommand):
    help = _("Fill the database with a demo institution: branches, staff logins, families, "
             "contracts, lessons, hours, payments, complaints and surveys. "
             "All demo logins use the password %(pw)s.") % {"pw": demo.DEMO_PASSWORD}

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--students", type=int, default=300,
                            help=_("How many students (default 300; 100000 for load tests)."))
        parser.add_argument("--seed", type=int, default=2024,
                            help=_("Random seed: the same seed and --today give identical data."))
        parser.add_argument("--today", type=_date, default=None,
                            help=_("Reference date YYYY-MM-DD all dates are relative to "
                                   "(default: today)."))
        parser.add_argument("--branches", type=int, default=3,
                            help=_("How many branches (1-%(n)d, default 3).")
                            % {"n": len(demo.BRANCHES)})
        parser.add_argument("--chunk-size", type=int, default=2000,
                            help=_("Students generated and written per transaction (default "
                                   "2000; part of the recipe: the same seed, --today and "
                                   "chunk size give the same data)."))
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--flush", action="store_true",
                          help=_("Delete ALL students, parents, contracts, lessons and the demo "
                                 "logins first. Never use on a production database."))
        mode.add_argument("--append", action="store_true",
                          help=_("Add students to the existing data instead of refusing."))
        mode.add_argument("--if-empty", action="store_true",
                          help=_("Seed only an empty database; otherwise leave it as it is and "
                                 "succeed (the quickstart runs this on every start)."))

    def handle(self, *args: Any, **options: Any) -> None:
        if options["students"] < 0 or options["chunk_size"] < 1:
            raise CommandError(_("--students must be >= 0 and --chunk-size >= 1."))
        if not 1 <= options["branches"] <= len(demo.BRANCHES):
            raise CommandError(_("--branches must be between 1 and %(n)d.")
                               % {"n": len(demo.BRANCHES)})
        existing = demo.existing_student_count()
        if existing and options["if_empty"]:
            self.stdout.write(_("The database already holds %(n)d students; demo data not "
                                "loaded again. Demo logins use the password %(pw)s.")
                              % {"n": existing, "pw": demo.DEMO_PASSWORD})
            return
        if existing and not (options["flush"] or options["append"]):
            raise CommandError(_(
                "The database already holds %(n)d students (demo data has been loaded, or "
                "this is a real database). Nothing was changed. Use --flush to wipe and "
                "reseed, or --append to add more.") % {"n": existing})
        verbose = options["verbosity"] >= 1
        if options["flush"]:
            if verbose:
                self.stdout.write(_("Deleting existing data..."))
            demo.flush_demo_data()
        opts = demo.SeedOptions(
            students=options["students"], seed=options["seed"],
            today=options["today"] or timezone.localdate(), branches=options["branches"],
            chunk_size=options["chunk_size"])
        if verbose:
            self.stdout.write(_("Seeding %(n)d students in %(b)d branches (seed %(s)d, today "
                            "%(t)s)...") % {"n": opts.students, "b": opts.branches,
                                            "s": opts.seed, "t": opts.today.isoformat()})
        world, stats = demo.seed(opts, append=options["append"],
                                 progress=self.stdout.write if verbose else None)
        if not verbose:
            return
        self._summary(world, stats)

    def _summary(self, world: demo.World, stats: demo.Stats) -> None:
        total = sum(stats.rows.values())
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(
            _("Done: %(rows)d rows in %(sec).1f s.") % {"rows": total, "sec": stats.seconds}))
        for label, count in sorted(stats.rows.items()):
            self.stdout.write(f"  {label:<32} {count:>10,}")
        self.stdout.write(_("Students by lifecycle period:"))
        for period, count in stats.periods.most_common():
            self.stdout.write(f"  {period:<32} {count:>10,}")
        revenue = sum(stats.revenue_by_level.values())
        if revenue:
            self.stdout.write(_("High-school share of contract revenue: %(p).1f%%")
                              % {"p": 100 * stats.revenue_by_level["S"] / revenue})
        self.stdout.write("")
        self.stdout.write(_("Demo logins (password for all: %(pw)s, Django admin at /admin/):")
                          % {"pw": demo.DEMO_PASSWORD})
        self.stdout.write(f"  {_('username'):<14} {_('role'):<18} {_('branch')}")
        for username, role, branch in demo.login_table(world.branches):
            self.stdout.write(f"  {username:<14} {role:<18} {branch}")
        self.stdout.write(_("Further staff of branch N: counselorN_02, teacherN_02, ... "
                            "(same password)."))

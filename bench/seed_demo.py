"""Time `manage.py seed_demo` at scale: students/s, rows written, wall time.

Why: the seeder must fill 100,000 students in minutes (load tests, demos of the
dashboards at realistic volume). Run against a scratch database, never a real one:

    createdb -h 127.0.0.1 -U postgres seedcheck
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/seedcheck \\
        .venv/bin/python bench/seed_demo.py --students 100000
    dropdb -h 127.0.0.1 -U postgres seedcheck

It migrates the database, flushes it, seeds, and prints the figures.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--today", default="2025-05-20",
                        help="fixed reference date, so runs are comparable")
    parser.add_argument("--chunk-size", type=int, default=2000)
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from lifecycle import demo

    print(f"database: {connection.vendor} {connection.settings_dict.get('NAME')}")
    call_command("migrate", verbosity=0)
    started = time.monotonic()
    demo.flush_demo_data()
    flushed = time.monotonic()
    call_command("seed_demo", students=args.students, seed=args.seed, today=_date(args.today),
                 chunk_size=args.chunk_size, verbosity=1)
    done = time.monotonic()

    counts = {m._meta.label: m.objects.count() for m in demo.SEEDED_MODELS}
    total = sum(counts.values())
    seconds = done - flushed
    print()
    print(f"flush:        {flushed - started:8.1f} s")
    print(f"seed:         {seconds:8.1f} s  ({seconds / 60:.1f} min)")
    print(f"students/s:   {args.students / seconds:8.0f}")
    print(f"rows:         {total:8,}  ({total / seconds:,.0f} rows/s)")
    return 0


def _date(value: str):
    import datetime as dt

    return dt.date.fromisoformat(value)


if __name__ == "__main__":
    raise SystemExit(main())

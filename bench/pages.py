"""Server time of the busiest staff pages at scale (issue #6: under 300 ms at 100k).

Why: the at-risk list and the stage dashboard must read stored scores and snapshots,
not aggregate millions of fact rows per request. This seeds N students into a scratch
PostgreSQL database, runs the nightly job once (scores, tasks, snapshots), then renders
each page repeatedly through Django's test client (no network) and prints the median
and worst server time, the queries per render, and the ratio to a baseline page that
does no domain work (/healthz) measured in the same run.

    .venv/bin/python bench/pages.py --students 100000          # creates bench_pages
    .venv/bin/python bench/pages.py --reuse --students 100000  # already seeded and scored
    ... --drop                                                  # drop it afterwards
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = "postgres://postgres@127.0.0.1:5432"


def _prepare(db: str, students: int) -> None:
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", db],
                   check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", db], check=True)
    env = {**os.environ, "DATABASE_URL": f"{PG}/{db}"}
    for cmd in (["migrate", "-v0"], ["seed_demo", "--students", str(students), "--seed", "1"],
                ["scan_lifecycle", "--nightly"]):
        started = time.monotonic()
        subprocess.run([sys.executable, "manage.py", *cmd], check=True, cwd=ROOT, env=env,
                       stdout=subprocess.DEVNULL)
        print(f"{' '.join(cmd[:1]):<16} {time.monotonic() - started:8.1f} s", flush=True)
    # What autovacuum does after a night's rewrite of the scores (visibility map and
    # planner statistics); without it the first renders plan on stale estimates.
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", "VACUUM ANALYZE",
                    db], check=True)


def _time(client, url: str, runs: int) -> tuple[list[float], int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url, secure=True)  # warm caches, compile templates
    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url, secure=True)
            times.append((time.perf_counter() - started) * 1000)
    return times, len(ctx.captured_queries), response.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--db", default="bench_pages")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--drop", action="store_true")
    args = parser.parse_args()
    if not args.reuse:
        _prepare(args.db, args.students)
    os.environ["DATABASE_URL"] = f"{PG}/{args.db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    # Plain static URLs: the hashed manifest needs collectstatic, irrelevant to timing.
    os.environ.setdefault("STATICFILES_BACKEND",
                          "django.contrib.staticfiles.storage.StaticFilesStorage")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from students.models import Student

    users = get_user_model().objects
    n = Student.objects.count()
    pages = [
        ("baseline /healthz", "headoffice", "/healthz"),
        ("at-risk list (counselor)", "counselor1", "/work/at-risk/"),
        ("at-risk list (manager)", "manager1", "/work/at-risk/"),
        ("at-risk list (head office)", "headoffice", "/work/at-risk/"),
        ("dashboard (manager)", "manager1", "/work/dashboard/"),
        ("dashboard (head office)", "headoffice", "/work/dashboard/"),
    ]
    print(f"\n{n:,} students, {args.runs} renders per page (server time, test client)")
    print(f"{'page':<28} {'median ms':>10} {'max ms':>8} {'queries':>8} {'x baseline':>11}")
    baseline = None
    for label, username, url in pages:
        client = Client()
        client.force_login(users.get(username=username))
        times, queries, status = _time(client, url, args.runs)
        median = statistics.median(times)
        baseline = baseline or median
        flag = "" if status == 200 else f"  (HTTP {status})"
        print(f"{label:<28} {median:10.1f} {max(times):8.1f} {queries:8d} "
              f"{median / baseline:11.1f}{flag}", flush=True)
    if args.drop:
        from django.db import connections

        connections.close_all()
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", args.db], check=True)


if __name__ == "__main__":
    main()

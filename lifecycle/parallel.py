"""Several processes on one nightly run (the command and the benchmark).

Why: scoring is Python work per account and the machine has more than one core; the
run's design (row locks with SKIP LOCKED, resume from the AccountScore marker, the last
worker out finishes) lets any number of workers share it. Celery does the same with
one task per worker (lifecycle.tasks); this is the same thing without a broker: each
worker is `manage.py scan_lifecycle --resume RUN --worker I --workers N`.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from django.db import connection
from django.utils import timezone

from .models import ScanRun
from .pipeline import scan_lifecycle

MANAGE = Path(__file__).resolve().parent.parent / "manage.py"


def database_url() -> str:
    """This process's database as a DATABASE_URL (a test database has its own name)."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    return (f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
            f"{db['NAME']}")


def scan_in_processes(run: ScanRun, *, workers: int, chunk_size: int,
                      now: dt.datetime | None = None) -> tuple[ScanRun, int]:
    """Run `run` with `workers` processes; returns the run and the queries they sent.

    SQLite (one writer at a time) and workers <= 1 run in this process (queries: 0,
    not counted). A worker that fails raises here; the run stays resumable.
    """
    now = now or timezone.now()
    if workers <= 1 or connection.vendor != "postgresql":
        return scan_lifecycle(run=run, chunk_size=chunk_size, now=now), 0
    env = {**os.environ, "DATABASE_URL": database_url()}
    procs = [subprocess.Popen(
        [sys.executable, str(MANAGE), "scan_lifecycle", "--resume", str(run.pk),
         "--worker", str(i), "--workers", str(workers), "--chunk-size", str(chunk_size),
         "--now", now.isoformat()],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(workers)]
    queries = 0
    failed = []
    for i, proc in enumerate(procs):
        out, err = proc.communicate()
        if proc.returncode:
            failed.append(f"worker {i} exited {proc.returncode}: {err.strip()[-500:]}")
        found = re.search(r"queries (\d+)", out)
        queries += int(found.group(1)) if found else 0
    if failed:
        raise RuntimeError("; ".join(failed))
    run.refresh_from_db()
    return run, queries

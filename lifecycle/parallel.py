"""Several processes on one nightly run (the command and the benchmark).

Why: scoring is Python work per account and the machine has more than one core; the
run's design (row locks with SKIP LOCKED, resume from the AccountScore marker, the last
worker out finishes) lets any number of workers share it. Celery does the same with
one task per worker (lifecycle.tasks); this is the same thing without a broker.

Workers are forked from this process, as Celery's prefork pool does: they start with
Django already loaded (a fresh interpreter per worker cost about 1.5 s of start-up,
a tenth of a night at 100,000 accounts), and each opens its own database connection.
"""
from __future__ import annotations

import datetime as dt
import multiprocessing
import traceback
from multiprocessing.connection import Connection
from typing import Any

from django.db import connection, connections
from django.utils import timezone

from .models import ScanRun
from .pipeline import scan_lifecycle


def _worker(pipe: Connection, run_id: int, worker: int, workers: int, chunk_size: int,
            now: dt.datetime) -> None:
    """Worker `worker` of `workers` on the run; sends ("ok", queries) or ("error", text)."""
    sent = {"n": 0}

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        sent["n"] += 1
        return execute(sql, params, many, context)

    failed = False
    try:
        with connection.execute_wrapper(count):
            scan_lifecycle(run=ScanRun.objects.get(pk=run_id), chunk_size=chunk_size,
                           worker=worker, workers=workers, now=now)
        pipe.send(("ok", sent["n"]))
    except BaseException:  # reported to the parent, which raises
        failed = True
        pipe.send(("error", traceback.format_exc()[-2000:]))
    finally:
        connections.close_all()
        pipe.close()
    if failed:
        raise SystemExit(1)


def scan_in_processes(run: ScanRun, *, workers: int, chunk_size: int,
                      now: dt.datetime | None = None) -> tuple[ScanRun, int]:
    """Run `run` with `workers` forked processes; returns the run and the queries they sent.

    SQLite (one writer at a time), workers <= 1, or a caller inside a transaction (a
    child could not see its uncommitted rows) run in this process (queries: 0, not
    counted). A worker that fails raises here; the run stays resumable.
    """
    now = now or timezone.now()
    if workers <= 1 or connection.vendor != "postgresql" or connection.in_atomic_block:
        return scan_lifecycle(run=run, chunk_size=chunk_size, now=now), 0
    # A connection must never be shared across a fork: each child opens its own.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    started = []
    for i in range(workers):
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_worker, name=f"scan-{run.pk}-{i}",
                                  args=(send, run.pk, i, workers, chunk_size, now))
        process.start()
        send.close()
        started.append((process, receive))
    queries = 0
    failed = []
    for i, (process, receive) in enumerate(started):
        try:
            status, value = receive.recv()
        except EOFError:  # killed before it could answer
            status, value = "error", "no answer"
        process.join()
        if status == "ok" and process.exitcode == 0:
            queries += value
        else:
            failed.append(f"worker {i} failed (exit code {process.exitcode}): {value}")
    if failed:
        raise RuntimeError("; ".join(failed))
    run.refresh_from_db()
    return run, queries

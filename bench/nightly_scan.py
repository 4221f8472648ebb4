"""Benchmark the nightly lifecycle job at scale: wall time, queries, memory, and two ratios.

Why: scoring 100,000 accounts must be set-based (no per-account queries), chunked and
resumable. This prints how far the job is from the floor (one hand-written SQL
aggregate + UPDATE over the same tables) and how much faster it is than the obvious
per-account ORM loop (measured on a sample, extrapolated). Targets (issue #4): within
3x of the floor, >= 50x faster than the loop, peak memory flat in N.

Run against a scratch PostgreSQL database, never a real one:

    .venv/bin/python bench/nightly_scan.py --students 100000          # creates bench_scan
    .venv/bin/python bench/nightly_scan.py --reuse --students 100000  # already seeded
    ... --drop                                                         # drop it afterwards

Seeding uses `manage.py seed_demo --students N` (lifecycle/demo.py) in a subprocess.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = "postgres://postgres@127.0.0.1:5432"


def _sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, cwd=ROOT)


def _seed(db: str, students: int) -> float:
    _sh("dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", db)
    _sh("createdb", "-h", "127.0.0.1", "-U", "postgres", db)
    env = {**os.environ, "DATABASE_URL": f"{PG}/{db}"}
    py = sys.executable
    subprocess.run([py, "manage.py", "migrate", "-v0"], check=True, cwd=ROOT, env=env)
    started = time.monotonic()
    subprocess.run([py, "manage.py", "seed_demo", "--students", str(students), "--seed", "1"],
                   check=True, cwd=ROOT, env=env)
    return time.monotonic() - started


class QueryCounter:
    """connection.execute_wrapper: counts every statement the job sends."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)


def cpu_seconds() -> float | None:
    """CPU seconds used so far by this process, its ended children (the forked workers)
    and every PostgreSQL process, ended ones included (the postmaster's children totals
    hold the parallel workers and closed connections). None where there is no /proc.

    Why: wall time on a shared machine moves by 10-20 % from run to run, and the job and
    the floor do not always meet the same slowdown; the CPU they burn moves much less,
    so its ratio shows the work the job does beyond the floor. Count it on a machine
    where nothing else talks to PostgreSQL during the run.
    """
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return None
    own = sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))
    ticks = 0
    for stat in proc.glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # ended while we looked
            continue
        name, fields = text[text.index("(") + 1:text.rindex(")")], text[text.rindex(")") + 2:]
        if name.startswith("postgres"):
            ticks += sum(int(x) for x in fields.split()[11:15])  # utime stime cutime cstime
    return own + ticks / os.sysconf("SC_CLK_TCK")


def _cpu_since(before: float | None) -> float | None:
    after = cpu_seconds()
    return None if before is None or after is None else after - before


def run_job(branch_id: int | None, chunk_size: int, *, trace: bool, workers: int = 1) -> dict:
    """One whole run. workers > 1: that many processes share it (lifecycle.parallel), as
    the Celery worker's processes do at night; their statements are counted by each."""
    from django.db import connection

    from lifecycle.models import ScanRun
    from lifecycle.parallel import scan_in_processes
    from lifecycle.pipeline import scan_lifecycle

    run = ScanRun.objects.create(branch_id=branch_id, source=ScanRun.Source.COMMAND)
    counter = QueryCounter()
    if trace:
        tracemalloc.start()
    cpu = cpu_seconds()
    started = time.monotonic()
    if workers > 1:
        run, queries = scan_in_processes(run, workers=workers, chunk_size=chunk_size)
    else:
        with connection.execute_wrapper(counter):
            run = scan_lifecycle(run=run, chunk_size=chunk_size)
        queries = counter.n
    wall = time.monotonic() - started
    cpu = _cpu_since(cpu)
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    return {"wall": wall, "cpu": cpu, "queries": queries, "peak_mb": peak / 2**20, "run": run}


def vacuum() -> float:
    """VACUUM (ANALYZE), as autovacuum does between two nights (not part of the job's time).

    Why: each night rewrites every AccountScore row. In production autovacuum reclaims
    those dead rows long before the next night; here the runs come back to back (and a
    test machine may run with autovacuum off), so without this every later run would
    pay for the bloat of the earlier ones.
    """
    from django.db import connection

    started = time.monotonic()
    with connection.cursor() as cur:
        cur.execute("VACUUM (ANALYZE)")
    return time.monotonic() - started


def floor_sql() -> dict:
    """One hand-written statement reading the same tables grouped by student, one UPDATE:
    its wall time and CPU seconds."""
    from django.db import connection, transaction
    from django.utils import timezone

    from lifecycle.models import AccountScore
    from students.models import (
        Attendance,
        Complaint,
        Contract,
        ExamScore,
        Interaction,
        LedgerEntry,
        Payment,
        SatisfactionSurvey,
        Student,
    )

    t = {m.__name__: m._meta.db_table for m in (Attendance, Complaint, Contract, ExamScore,
                                                 Interaction, LedgerEntry, Payment,
                                                 SatisfactionSurvey, Student, AccountScore)}
    now = timezone.now()
    today = timezone.localdate(now)
    import datetime as dt

    since = today - dt.timedelta(weeks=4)
    base = today - dt.timedelta(weeks=12)
    sql = f"""
    CREATE TEMP TABLE floor_figs ON COMMIT DROP AS
    SELECT s.id AS student_id, a.present, a.absent, a.base_present, a.base_absent,
           a.last_present, l.balance, l.consumed, p.paid, i.last_contact, i.c90,
           c.open, c.overdue, sv.overall, e.n_exams
    FROM {t['Student']} s
    LEFT JOIN (SELECT student_id,
                 count(*) FILTER (WHERE status IN ('attended','late')
                                  AND date >= %(since)s) present,
                 count(*) FILTER (WHERE status = 'absent' AND date >= %(since)s) absent,
                 count(*) FILTER (WHERE status IN ('attended','late')
                                  AND date >= %(base)s) base_present,
                 count(*) FILTER (WHERE status = 'absent' AND date >= %(base)s) base_absent,
                 max(date) FILTER (WHERE status IN ('attended','late')) last_present
               FROM {t['Attendance']} GROUP BY student_id) a ON a.student_id = s.id
    LEFT JOIN (SELECT ct.student_id, sum(le.hours) balance,
                 sum(le.hours) FILTER (WHERE le.kind IN ('consumed','reversal')
                                       AND le.occurred_at >= %(since_dt)s) consumed
               FROM {t['LedgerEntry']} le JOIN {t['Contract']} ct ON ct.id = le.contract_id
               GROUP BY ct.student_id) l ON l.student_id = s.id
    LEFT JOIN (SELECT ct.student_id, sum(pm.amount) paid
               FROM {t['Payment']} pm JOIN {t['Contract']} ct ON ct.id = pm.contract_id
               GROUP BY ct.student_id) p ON p.student_id = s.id
    LEFT JOIN (SELECT student_id, max(occurred_at) last_contact,
                 count(*) FILTER (WHERE occurred_at >= %(d90)s) c90
               FROM {t['Interaction']} GROUP BY student_id) i ON i.student_id = s.id
    LEFT JOIN (SELECT student_id, count(*) FILTER (WHERE status <> 'resolved') open,
                 count(*) FILTER (WHERE status <> 'resolved' AND sla_due < %(now)s) overdue
               FROM {t['Complaint']} GROUP BY student_id) c ON c.student_id = s.id
    LEFT JOIN (SELECT DISTINCT ON (student_id) student_id, overall
               FROM {t['SatisfactionSurvey']} ORDER BY student_id, surveyed_at DESC, id DESC
               ) sv ON sv.student_id = s.id
    LEFT JOIN (SELECT student_id, count(*) n_exams FROM {t['ExamScore']}
               WHERE exam_date >= %(year)s GROUP BY student_id) e ON e.student_id = s.id;
    UPDATE {t['AccountScore']} a SET scored_at = %(now)s,
           figures = json_build_object('floor_present', f.present,
                                       'floor_balance', f.balance, 'figures', a.figures)
    FROM floor_figs f WHERE a.student_id = f.student_id;
    """
    params = {"since": since, "base": base, "since_dt": now - dt.timedelta(weeks=4),
              "d90": now - dt.timedelta(days=90), "now": now,
              "year": today - dt.timedelta(days=365)}
    cpu = cpu_seconds()
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql, params)
    return {"wall": time.monotonic() - started, "cpu": _cpu_since(cpu)}


def per_account_loop(sample: int) -> tuple[float, int]:
    """The obvious ORM code: a handful of queries per account, one save per account."""
    import datetime as dt

    from django.db import connection, transaction
    from django.db.models import Max, Sum
    from django.utils import timezone

    from lifecycle.models import AccountScore, LifecyclePolicy
    from lifecycle.periods import phase_of
    from lifecycle.risk import RiskFigures, RiskPolicy, risk_score
    from lifecycle.value import ValueFigures, ValuePolicy, value_score
    from students.models import Attendance, Student

    now = timezone.now()
    today = timezone.localdate(now)
    since = today - dt.timedelta(weeks=4)
    _ = LifecyclePolicy
    counter = QueryCounter()
    ids = list(Student.objects.order_by("?").values_list("pk", flat=True)[:sample])
    started = time.monotonic()
    with connection.execute_wrapper(counter), transaction.atomic():
        for s in Student.objects.filter(pk__in=ids):
            att = Attendance.objects.filter(student=s)
            present = att.filter(status__in=["attended", "late"], date__gte=since).count()
            absent = att.filter(status="absent", date__gte=since).count()
            last_present = att.filter(status__in=["attended", "late"]).aggregate(
                d=Max("date"))["d"]
            streak = att.filter(status="absent",
                                date__gt=last_present or dt.date(1900, 1, 1)).count()
            remaining = consumed = paid = 0.0
            for c in s.contracts.all():
                remaining += float(c.ledger.aggregate(h=Sum("hours"))["h"] or 0)
                consumed += float(c.ledger.filter(kind="consumed", occurred_at__gte=now
                                                  - dt.timedelta(weeks=4))
                                  .aggregate(h=Sum("hours"))["h"] or 0)
                paid += float(c.payments.aggregate(a=Sum("amount"))["a"] or 0)
            last = s.interactions.aggregate(t=Max("occurred_at"))["t"]
            open_c = s.complaints.exclude(status="resolved").count()
            survey = s.surveys.order_by("-surveyed_at").first()
            exams = list(s.exam_scores.filter(exam_date__gte=today - dt.timedelta(days=365)))
            risk = risk_score(RiskFigures(
                consecutive_absences=streak,
                attendance_rate=present / (present + absent) if present + absent else None,
                remaining_hours=remaining, weekly_consumption=max(-consumed, 0) / 4,
                days_since_interaction=(now - last).days if last else None,
                open_complaints=open_c,
                latest_satisfaction=survey.overall if survey else None), RiskPolicy())
            value = value_score(ValueFigures(paid_total=paid, recommend=(
                survey.recommend if survey else None)), ValuePolicy())
            _ = exams
            AccountScore.objects.update_or_create(student=s, defaults={
                "branch_id": s.branch_id, "period": s.period, "scored_at": now,
                "current_value": value.current, "potential_value": value.potential,
                "segment": value.segment,
                "customer_type": f"{value.segment}.{phase_of(s.period)}",
                "risk": risk.score})
    return time.monotonic() - started, counter.n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--db", default="bench_scan")
    parser.add_argument("--reuse", action="store_true", help="skip seeding (already seeded)")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    parser.add_argument("--chunk-size", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3,
                        help="steady nights and floors measured (medians reported)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="processes sharing each run (default: one per core)")
    args = parser.parse_args(argv)

    seed_s = None if args.reuse else _seed(args.db, args.students)
    os.environ["DATABASE_URL"] = f"{PG}/{args.db}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "crm.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from crm.models import Branch
    from students.models import Attendance, Student

    n = Student.objects.count()
    att = Attendance.objects.count()
    print(f"database {args.db}: {n:,} students, {att:,} attendance rows"
          + (f" (seeded in {seed_s:.0f} s)" if seed_s else ""))

    print(f"VACUUM (ANALYZE) before each run, as autovacuum between nights: {vacuum():.1f} s"
          " (not counted)")
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    first = run_job(None, args.chunk_size, trace=False, workers=args.workers)
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    run = first["run"]
    print(f"\nnightly job, first night (N={n:,}, chunk {args.chunk_size}, "
          f"{args.workers} worker process(es)):")
    print(f"  wall time        {first['wall']:8.1f} s   ({n / first['wall']:,.0f} accounts/s)")
    print(f"  queries          {first['queries']:8,}   ({first['queries'] / n:.3f} per account, "
          f"{run.chunks_done} chunks)")
    print(f"  max RSS growth   {(rss1 - rss0) / 1024:8.1f} MB")
    print(f"  scored {run.scored:,}, moved {run.moved_total:,} (into at-risk "
          f"{run.moved_into_risk:,}, out {run.moved_out_of_risk:,}), tasks {run.tasks_created:,}"
          f", errors {len(run.errors)}")

    # Steady nights and the floor, interleaved so both meet the same machine: the
    # medians give the ratio, the pairs its spread.
    steady, floors = [], []
    for _ in range(args.repeat):
        vacuum()
        steady.append(run_job(None, args.chunk_size, trace=False, workers=args.workers))
        vacuum()
        floors.append(floor_sql())
    second = sorted(steady, key=lambda r: r["wall"])[len(steady) // 2]
    floor = statistics.median(f["wall"] for f in floors)
    print(f"  steady night     {second['wall']:8.1f} s   ({second['queries']:,} queries; median"
          f" of {args.repeat}: " + ", ".join(f"{r['wall']:.1f}" for r in steady) + ")")
    single = second
    if args.workers > 1:
        vacuum()
        single = run_job(None, args.chunk_size, trace=False)
    print(f"  one process      {single['wall']:8.1f} s   ({single['queries']:,} queries, "
          f"{single['queries'] / n:.3f} per account)")

    branch = Branch.objects.order_by("pk").first()
    small_n = Student.objects.filter(branch=branch).count()
    vacuum()
    small = run_job(branch.pk, args.chunk_size, trace=True)
    vacuum()
    big = run_job(None, args.chunk_size, trace=True)
    print("\npeak Python memory (tracemalloc) at two N:")
    print(f"  N={small_n:>8,}  {small['peak_mb']:7.1f} MB")
    print(f"  N={n:>8,}  {big['peak_mb']:7.1f} MB")

    print(f"\nfloor: one SQL aggregate + UPDATE   {floor:8.1f} s   (median of "
          + ", ".join(f"{f['wall']:.1f}" for f in floors) + ")")
    pairs = sorted(r["wall"] / f["wall"] for r, f in zip(steady, floors, strict=True))
    print(f"  job / floor (steady night)        {second['wall'] / floor:8.2f} x   (each "
          "night / its floor: " + ", ".join(f"{x:.2f}" for x in pairs) + ")")
    print(f"  job / floor (first night)         {first['wall'] / floor:8.2f} x")
    print(f"  job / floor (one process)         {single['wall'] / floor:8.2f} x")
    if all(r["cpu"] is not None for r in steady + floors):
        job_cpu = statistics.median(r["cpu"] for r in steady)
        floor_cpu = statistics.median(f["cpu"] for f in floors)
        cpu_pairs = sorted(r["cpu"] / f["cpu"] for r, f in zip(steady, floors, strict=True))
        print("  CPU seconds (Python processes and every PostgreSQL process), medians:")
        print(f"    steady night {job_cpu:.1f} s, floor {floor_cpu:.1f} s, job / floor "
              f"{job_cpu / floor_cpu:.2f} x   (each pair: "
              + ", ".join(f"{x:.2f}" for x in cpu_pairs) + ")")

    loop_s, loop_q = per_account_loop(args.sample)
    per = loop_s / args.sample
    print(f"\nper-account ORM loop on {args.sample} accounts: {loop_s:.1f} s "
          f"({loop_q / args.sample:.1f} queries per account)")
    print(f"  extrapolated to N={n:,}          {per * n:8.0f} s")
    print(f"  speed-up of the job (steady)      {per * n / second['wall']:8.1f} x")
    print(f"  speed-up of the job (first)       {per * n / first['wall']:8.1f} x")

    if args.drop:
        from django.db import connections

        connections.close_all()
        _sh("dropdb", "-h", "127.0.0.1", "-U", "postgres", args.db)
        print(f"\ndropped {args.db}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

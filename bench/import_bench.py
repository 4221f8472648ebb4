"""Time the import of every kind at 50,000 rows against a COPY floor measured in the same run.

Why: issue #25 asks every kind to import at 1,000 rows/s or more on PostgreSQL on this
machine (50,000 rows in under a minute), memory flat with file size. Each kind's file
comes from the chain-export generator (tests/dataio/chain_export.py: 学员编号 references,
GBK/UTF-8 CSV and xlsx as a school's old system writes them) cut to --rows rows, and goes
through dataio.services exactly as the page does: dry run, confirm, import (which plans
again inside its transaction, then writes). The floor is a bare COPY of --rows rows into
the kind's main table (crm.db.raw_insert, no checks, no history, rolled back), i.e. what
the writes alone cost on this machine right now.

Run against a scratch database, never a real one (it TRUNCATEs the account tables):

    createdb -h 127.0.0.1 -U postgres importbench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/importbench \\
        .venv/bin/python bench/import_bench.py --rows 50000
    dropdb -h 127.0.0.1 -U postgres importbench
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1000  # rows/s, issue #25


def _files(rows: int, today: dt.date, counselor: str) -> dict[str, tuple[str, bytes]]:
    """Every kind's file with exactly `rows` data rows, naming students by 学员编号."""
    from tests.dataio.chain_export import Chain, _csv, _xlsx

    chain = Chain(rows, today, counselor)
    active = chain.active()
    out: dict[str, tuple[str, bytes]] = {"students": ("学员.csv", chain.students_file())}

    def cut(head: list[Any], gen: Any) -> list[list[Any]]:
        body: list[list[Any]] = []
        for row in gen:
            body.append(row)
            if len(body) == rows:
                break
        return [head, *body]

    contracts = chain.contracts[:rows]
    out["contracts"] = ("合同.xlsx", _xlsx(cut(
        ["合同编号", "学员编号", "课程", "购买课时", "剩余课时", "余额日期", "合同金额",
         "签约日期", "生效日期", "有效期至"],
        ([c["no"], c["student"], c["course"], c["hours"], c["left"], c["as_of"], c["price"],
          c["signed"], c["signed"], c["until"]] for c in contracts))))
    out["payments"] = ("收费记录.csv", _csv(cut(
        ["合同编号", "实收", "付款方式", "付款日期", "交易号"],
        ([c["no"], c["price"], "微信", c["signed"].isoformat(), f"TX{k:08d}"]
         for k, c in enumerate(contracts))), "utf-8", bom=True))

    with_contract = {c["student"] for c in contracts}
    attending = [s for s in active if s["id"] in with_contract]

    def lessons():
        for w in range(1, 60):
            for s in attending:
                yield [s["id"], chain.day(7 * w).isoformat(), "出勤", "2"]
    out["attendance"] = ("上课记录.csv", _csv(cut(["学员编号", "上课日期", "考勤", "课时"],
                                              lessons()), "utf-8"))

    def visits():
        for w in range(1, 60):
            for s in active:
                yield [s["id"], chain.day(3 * w).isoformat(), "电话", "家长", "回访", "4"]
    out["interactions"] = ("回访记录.xlsx", _xlsx(cut(
        ["学员编号", "回访日期", "回访方式", "回访对象", "回访内容", "满意度"], visits())))

    def complaints():
        for w in range(1, 60):
            for s in active:
                yield [s["id"], chain.day(5 * w).isoformat(), "老师", f"投诉{w}", "", ""]
    out["complaints"] = ("投诉.csv", _csv(cut(
        ["学员编号", "投诉日期", "投诉类型", "投诉内容", "处理结果", "解决日期"],
        complaints()), "gbk"))

    def scores():
        for w in range(1, 60):
            for s in active:
                for subject in ("数学", "英语"):
                    yield [s["id"], f"月考{w}", subject, 90, 150, chain.day(30 * w).isoformat()]
    out["exams"] = ("成绩.csv", _csv(cut(["学员编号", "考试名称", "科目", "成绩", "满分",
                                          "考试日期"], scores()), "utf-8"))
    out["prospects"] = ("潜在客户.csv", _csv(cut(
        ["学员姓名", "年级", "出生日期", "家长姓名", "家长电话", "意向程度"],
        ([f"潜客{k}", "高一", chain.day(365 * 15 + k % 300).isoformat(), f"潜客家长{k}",
          f"136{k:08d}", "中"] for k in range(rows))), "utf-8"))
    return out


def _floor(kind: str, rows: int, ctx: dict[str, Any]) -> float:
    """Seconds to COPY `rows` bare rows into the kind's main table (rolled back)."""
    from django.db import transaction
    from django.utils import timezone

    from crm.db import db_datetime, raw_insert
    from students.models import (
        Attendance,
        Complaint,
        Contract,
        ExamScore,
        Interaction,
        Payment,
        Student,
    )

    now = db_datetime(timezone.now())
    today = timezone.localdate()
    sid, cid, session = ctx["student"], ctx["contract"], ctx["session"]
    table: dict[str, tuple[Any, list[str], Any]] = {
        "students": (Student, ["branch_id", "name_zh", "grade", "period_since", "created_at",
                               "updated_at", "external_id"],
                     lambda i: (ctx["branch"], f"学员{i}", "S1", now, now, now, f"F{i}")),
        "prospects": (Student, ["branch_id", "name_zh", "grade", "period_since", "created_at",
                                "updated_at"],
                      lambda i: (ctx["branch"], f"潜客{i}", "S1", now, now, now)),
        "contracts": (Contract, ["contract_no", "student_id", "branch_id", "course_id",
                                 "hours_purchased", "list_price", "valid_from", "valid_until",
                                 "signed_on", "created_at", "updated_at"],
                      lambda i: (f"FLOOR{i}", sid, ctx["branch"], ctx["course"], 40, 8000,
                                 today, today, today, now, now)),
        "payments": (Payment, ["contract_id", "amount", "method", "paid_at", "reference"],
                     lambda i: (cid, 100, "wechat", now, f"FL{i}")),
        "attendance": (Attendance, ["session_id", "student_id", "status", "date",
                                    "recorded_at"],
                       lambda i: (session, ctx["students"][i % len(ctx["students"])],
                                  "attended", today, now)),
        "interactions": (Interaction, ["student_id", "channel", "occurred_at", "summary",
                                       "with_whom"],
                         lambda i: (sid, "call", now, "x", "student")),
        "complaints": (Complaint, ["student_id", "category", "description", "sla_due",
                                   "created_at", "raised_by"],
                       lambda i: (sid, "other", "x", now, now, "student")),
        "exams": (ExamScore, ["student_id", "subject", "exam_name", "exam_date", "score",
                              "recorded_at"],
                  lambda i: (sid, "math", f"e{i}", today, 90, now)),
    }
    model, cols, make = table[kind]
    # Text fields without a default are "" (as a form saves them).
    blanks = [f.column for f in model._meta.concrete_fields
              if f.column not in cols and not f.primary_key and not f.has_default()
              and not f.null and f.blank]
    cols = [*cols, *blanks]
    data = [(*make(i), *[""] * len(blanks)) for i in range(rows)]
    t0 = time.monotonic()
    try:
        with transaction.atomic():
            raw_insert(model, cols, data)
            elapsed = time.monotonic() - t0
            raise _Rollback
    except _Rollback:
        pass
    return elapsed


class _Rollback(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--kinds", default="students,prospects,contracts,payments,attendance,"
                                           "interactions,complaints,exams")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    import django

    django.setup()
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from crm.models import Branch, StaffProfile
    from crm.roles import Role
    from dataio import services
    from students.models import ClassGroup, ClassSession, Contract, Course, Student

    print(f"database: {connection.vendor} {connection.settings_dict.get('NAME')}")
    call_command("migrate", verbosity=0)
    settings.MEDIA_ROOT = Path("/tmp/import_bench_media")
    with connection.cursor() as cur:  # a scratch database: start from empty account tables
        cur.execute("TRUNCATE students_student, parents_parent, students_historicalstudent, "
                    "parents_historicalparent, dataio_importjob, students_course, "
                    "students_classgroup CASCADE")
    branch, _ = Branch.objects.get_or_create(code="bench", defaults={"name": "Bench 校区"})
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench_ho")
    StaffProfile.objects.get_or_create(user=user, defaults={"role": Role.HEAD_OFFICE})
    counselor, _ = get_user_model().objects.get_or_create(username="bench_cs")
    StaffProfile.objects.get_or_create(user=counselor, defaults={"role": Role.COUNSELOR,
                                                                 "branch": branch})
    from tests.dataio.chain_export import COURSES

    courses = [Course.objects.create(code=code, name=name, subject="math", unit_price=100)
               for code, name in COURSES]

    files = _files(args.rows, timezone.localdate(), counselor.username)
    kinds = args.kinds.split(",")
    results: list[tuple[str, float, float, float, dict[str, Any]]] = []
    for kind in files:
        if kind not in kinds:
            continue
        name, data = files[kind]
        options = {"consumes": kind == "attendance", "mode": "valid"}
        t0 = time.monotonic()
        with transaction.atomic():
            job = services.import_job_create(actor=user, kind=kind, branch=branch,
                                             upload=SimpleUploadedFile(name, data),
                                             run_later=False, options=options)
            if kind == "students":
                job.mapping = {"学员名称": "name_zh", "家庭住址": "", "备注": ""}
                job.save(update_fields=["mapping"])
        job = services.import_validate(job_id=job.pk)
        t1 = time.monotonic()
        services.import_confirm(job=job, actor=user, run_later=False)
        job = services.import_commit(job_id=job.pk)
        t2 = time.monotonic()
        assert job.status == "done", (kind, job.errors[:3])
        results.append((kind, t1 - t0, t2 - t1, len(data) / 1e6,
                        {"refused": job.error_count, **job.summary.get("written", {})}))
        print(f"  {kind:<13} done: {job.summary.get('written')} refused {job.error_count}",
              flush=True)

    # The floors, measured now, on the same machine and database.
    sid = Student.objects.filter(branch=branch).values_list("pk", flat=True)[:1][0]
    contract = Contract.objects.first() or Contract.objects.create(
        contract_no="FLOOR", student_id=sid, branch=branch, course=courses[0],
        hours_purchased=40, list_price=100, valid_from=timezone.localdate(),
        valid_until=timezone.localdate(), signed_on=timezone.localdate())
    group = ClassGroup.objects.create(branch=branch, course=courses[0], name="floor")
    session = ClassSession.objects.create(class_group=group, date=timezone.localdate(),
                                          start_time=dt.time(8), end_time=dt.time(10))
    ctx = {"branch": branch.pk, "course": courses[0].pk, "student": sid,
           "contract": contract.pk, "session": session.pk,
           "students": list(Student.objects.filter(branch=branch).values_list(
               "pk", flat=True)[:args.rows])}
    print(f"\n{args.rows} rows per kind; target {TARGET} rows/s (dry run + import)")
    print(f"{'kind':<13} {'file MB':>7} {'dry run s':>9} {'import s':>9} {'rows/s':>8} "
          f"{'COPY floor rows/s':>18} {'x floor':>8}  verdict")
    for kind, dry, imp, mb, _written in results:
        floor = _floor(kind, args.rows, ctx)
        rate = args.rows / (dry + imp)
        print(f"{kind:<13} {mb:7.1f} {dry:9.1f} {imp:9.1f} {rate:8.0f} "
              f"{args.rows / floor:18.0f} {(dry + imp) / floor:8.1f}  "
              f"{'OK' if rate >= TARGET else 'SLOW'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

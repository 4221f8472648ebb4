"""Time a 50,000-row students+parents import: dry run + confirmed import vs a baseline.

Why: issue #9 asks that 50,000 rows import in under 2 minutes. The import checks every
row (phones, grades, dates, model field rules, PIPL consent, duplicates, existing
families) and writes parents, students, guardianships, consents and history rows in
batches; the baseline is a raw bulk_create of the same parents, students and
guardianships with no checks and no history, i.e. the floor for the writes alone.

Run against a scratch database, never a real one:

    createdb -h 127.0.0.1 -U postgres importbench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/importbench \\
        .venv/bin/python bench/import_bench.py --rows 50000
    dropdb -h 127.0.0.1 -U postgres importbench

It migrates, deletes the students/parents it is about to write (by a phone prefix),
generates the file (one row per student, two parents on every third row, under-14s
with consent), runs validate + import through dataio.services (the task bodies), runs
the re-import (which must create nothing), then the baseline, and prints the figures.
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "子涵欣怡梓轩浩宇一诺雨桐思远嘉怡俊杰晨曦宇航梦琪博文佳琪"
GRADES = ["高一", "高2", "S3", "初一", "初二", "初三", "小学五年级", "Senior 1", "J2", "高三"]


def make_file(rows: int, seed: int) -> bytes:
    rnd = random.Random(seed)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["学员姓名", "年级", "出生日期", "性别", "学校", "家长1姓名", "家长1电话",
                "家长1关系", "家长2姓名", "家长2电话", "家长2关系", "监护人同意", "同意方式"])
    for i in range(rows):
        name = rnd.choice(SURNAMES) + rnd.choice(GIVEN) + rnd.choice(GIVEN)
        grade = rnd.choice(GRADES)
        young = grade in {"初一", "初二", "J2", "小学五年级"}
        year = 2013 if young else 2008
        birth = f"{year}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
        p1 = f"1990{i:07d}"  # 11-digit 199xxxxxxxx mobiles, unique per row
        row = [f"{name}{i}", grade, birth, rnd.choice("男女"), "第一中学", name[0] + "妈妈",
               p1, "妈妈", "", "", "", "是" if young else "", "纸质" if young else ""]
        if i % 3 == 0:
            row[8:11] = [name[0] + "爸爸", f"1980{i:07d}", "爸爸"]
        w.writerow(row)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=9)
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

    from crm.models import Branch
    from crm.roles import Role
    from dataio import services
    from parents.models import GuardianConsent, Guardianship, Parent
    from students.models import Student

    print(f"database: {connection.vendor} {connection.settings_dict.get('NAME')}")
    call_command("migrate", verbosity=0)
    settings.MEDIA_ROOT = Path("/tmp/import_bench_media")
    branch, _ = Branch.objects.get_or_create(code="bench", defaults={"name": "Bench 校区"})
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench_ho")
    if not hasattr(user, "staff_profile"):
        from crm.models import StaffProfile

        StaffProfile.objects.create(user=user, role=Role.HEAD_OFFICE)

    def wipe() -> None:
        bench = Parent.objects.filter(phone__regex=r"^\+861(99|98)0")
        students = Student.objects.filter(guardianships__parent__in=bench)
        GuardianConsent.objects.filter(student__in=students).delete()
        Student.history.filter(id__in=students.values("pk")).delete()
        Student.objects.filter(pk__in=list(students.values_list("pk", flat=True))).delete()
        Parent.history.filter(phone__in=bench.values("phone")).delete()
        bench.delete()

    wipe()
    data = make_file(args.rows, args.seed)
    print(f"file: {args.rows} rows, {len(data) / 1e6:.1f} MB CSV")

    t0 = time.monotonic()
    with transaction.atomic():
        job = services.import_job_create(actor=user, kind="students", branch=branch,
                                         upload=SimpleUploadedFile("bench.csv", data),
                                         run_later=False)
    job = services.import_validate(job_id=job.pk)
    t1 = time.monotonic()
    assert job.error_count == 0, job.errors[:5]
    services.import_confirm(job=job, actor=user, run_later=False)
    job = services.import_commit(job_id=job.pk)
    t2 = time.monotonic()
    assert job.status == "done", job.errors[:5]
    written = job.summary["written"]

    # Re-import: must match every row and write nothing.
    with transaction.atomic():
        again = services.import_job_create(actor=user, kind="students", branch=branch,
                                           upload=SimpleUploadedFile("bench.csv", data),
                                           run_later=False)
    again = services.import_validate(job_id=again.pk)
    t3 = time.monotonic()
    assert again.summary["counts"]["match"] == args.rows, again.summary["counts"]

    # Baseline: the same rows with bare bulk_create (no checks, no history).
    wipe()
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1:]
    t4 = time.monotonic()
    with transaction.atomic():
        for i in range(0, len(rows), 2000):
            part = rows[i:i + 2000]
            parents = [Parent(branch=branch, name=r[5], phone="+86" + r[6]) for r in part]
            parents += [Parent(branch=branch, name=r[8], phone="+86" + r[9]) for r in part
                        if r[9]]
            Parent.objects.bulk_create(parents)
            by_phone = {p.phone: p.pk for p in parents}
            students = Student.objects.bulk_create(
                [Student(branch=branch, name_zh=r[0], grade="S1") for r in part])
            links = [Guardianship(student_id=s.pk, parent_id=by_phone["+86" + r[6]],
                                  relation="mother", is_primary_contact=True)
                     for s, r in zip(students, part, strict=True)]
            links += [Guardianship(student_id=s.pk, parent_id=by_phone["+86" + r[9]],
                                   relation="father")
                      for s, r in zip(students, part, strict=True) if r[9]]
            Guardianship.objects.bulk_create(links)
    t5 = time.monotonic()
    wipe()

    total = t2 - t0
    base = t5 - t4
    print(f"dry run (validate):     {t1 - t0:7.1f} s  {args.rows / (t1 - t0):8.0f} rows/s")
    print(f"confirmed import:       {t2 - t1:7.1f} s  {args.rows / (t2 - t1):8.0f} rows/s "
          "(plans again inside the transaction, then writes)")
    print(f"validate + import:      {total:7.1f} s  {args.rows / total:8.0f} rows/s  "
          f"{'OK' if total < 120 else 'OVER'} (budget 120 s)")
    print(f"re-import dry run:      {t3 - t2:7.1f} s  (all {args.rows} rows matched)")
    print(f"baseline bulk_create:   {base:7.1f} s  {args.rows / base:8.0f} rows/s")
    print(f"ratio import / baseline: {total / base:.1f}x")
    print(f"written: {written}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

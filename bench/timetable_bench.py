"""Time a chain's term: 20 branches x 100 classes, 20 weeks, generated and conflict-checked.

Why: issue #18 asks that a 20-branch chain's term (2,000 classes, 20 weeks) be generated
and checked for conflicts in under 30 s and within 3x of a plain-SQL floor measured in
the same run, and that calendar pages answer in under 150 ms server time at that size.

- service: `rules_generate` for all 2,000 rules at once (one conflict pass over every
  lesson: teachers, rooms, students, classes, capacity, availability), then a chain-wide
  re-check of every lesson with `find_conflicts` (what a nightly audit would run);
- floor: the same lessons written by one raw executemany into a scratch table, plus the
  three overlap self-joins in SQL (teacher, room, shared student) over the lessons table:
  the database alone, with no rules, no suggestions and no messages;
- pages: the calendar's event feed for one branch-week and one teacher-week, and the
  calendar page itself, through the test client (server time, median of 5).

Run against a scratch database, never a real one:

    createdb -h 127.0.0.1 -U postgres ttbench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ttbench \\
        .venv/bin/python bench/timetable_bench.py
    dropdb -h 127.0.0.1 -U postgres ttbench

It migrates, deletes what an earlier run wrote (branches coded ttb-*), builds the chain
(rooms, teachers, courses, classes, ~10 students per class with active contracts, some
in two classes at other times), and prints the figures.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "ttb-"
SLOTS = [(dt.time(8), dt.time(10)), (dt.time(10, 15), dt.time(12, 15)),
         (dt.time(14), dt.time(16)), (dt.time(16, 15), dt.time(18, 15))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--branches", type=int, default=20)
    parser.add_argument("--classes", type=int, default=100, help="per branch")
    parser.add_argument("--weeks", type=int, default=20)
    parser.add_argument("--students", type=int, default=10, help="per class")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    # Plain static URLs: the hashed manifest needs collectstatic, irrelevant to timing.
    os.environ.setdefault("STATICFILES_BACKEND",
                          "django.contrib.staticfiles.storage.StaticFilesStorage")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import reverse

    from crm.models import Branch, StaffProfile
    from crm.roles import Role
    from students.models import ClassGroup, ClassSession, Contract, Course, Student
    from timetable.models import (
        ConflictOverride,
        Room,
        ScheduleRule,
        SessionChange,
        SessionSlot,
        Term,
    )
    from timetable.services import find_conflicts, rules_generate
    from timetable.services.conflicts import Placement

    print(f"database: {connection.vendor} {connection.settings_dict.get('NAME')}")
    call_command("migrate", verbosity=0)
    User = get_user_model()

    # ---------------------------------------------------------------- clean and build
    t0 = time.perf_counter()
    old = list(Branch.objects.filter(code__startswith=PREFIX).values_list("pk", flat=True))
    if old:
        # Raw deletes, children first: the ORM's per-row cascade and history signals would
        # take minutes for a chain's worth of rows. Bench rows only (ttb-* branches).
        lessons_q = ClassSession.objects.filter(class_group__branch__in=old)
        for qs in (SessionSlot.objects.filter(session__in=lessons_q),
                   SessionChange.objects.filter(class_group__branch__in=old),
                   ConflictOverride.objects.filter(branch__in=old), lessons_q,
                   ScheduleRule.objects.filter(class_group__branch__in=old),
                   Contract.objects.filter(branch__in=old),
                   Student.history.filter(branch_id__in=old),
                   Student.objects.filter(branch__in=old),
                   ClassGroup.objects.filter(branch__in=old),
                   Course.objects.filter(code__startswith=PREFIX),
                   Room.objects.filter(branch__in=old),
                   Term.objects.filter(name__startswith=PREFIX),
                   StaffProfile.objects.filter(user__username__startswith=PREFIX),
                   User.objects.filter(username__startswith=PREFIX),
                   Branch.objects.filter(pk__in=old)):
            qs.model.objects.filter(pk__in=list(qs.values_list("pk", flat=True)))._raw_delete(
                connection.alias)

    start = dt.date(2026, 9, 7)  # a Monday; the term crosses 中秋 and 国庆
    end = start + dt.timedelta(weeks=args.weeks, days=-1)
    term = Term.objects.create(name=f"{PREFIX}autumn", start_date=start, end_date=end)
    branches = Branch.objects.bulk_create([Branch(code=f"{PREFIX}{b:02d}", name=f"基准校区{b:02d}")
                                           for b in range(args.branches)])
    rooms_per_branch = -(-args.classes // (7 * len(SLOTS)))
    teachers_per_branch = max(1, args.classes // 4)
    rooms = Room.objects.bulk_create([Room(branch=b, name=f"R{r}", capacity=40)
                                      for b in branches for r in range(rooms_per_branch)])
    users = User.objects.bulk_create([User(username=f"{PREFIX}{b.code}-t{t}", is_staff=True)
                                      for b in branches for t in range(teachers_per_branch)])
    StaffProfile.objects.bulk_create([
        StaffProfile(user=u, role=Role.TEACHER, branch=branches[i // teachers_per_branch])
        for i, u in enumerate(users)])
    manager = User.objects.create(username=f"{PREFIX}manager", is_staff=True)
    StaffProfile.objects.create(user=manager, role=Role.HEAD_OFFICE)
    course = Course.objects.create(code=f"{PREFIX}math", name="基准数学", subject="math",
                                   unit_price=Decimal("200"))
    groups, rules = [], []
    for bi, b in enumerate(branches):
        for k in range(args.classes):
            groups.append(ClassGroup(branch=b, course=course, name=f"班{k:03d}", capacity=40,
                                     teacher=users[bi * teachers_per_branch
                                                   + k % teachers_per_branch]))
    groups = ClassGroup.objects.bulk_create(groups)
    for i, g in enumerate(groups):
        bi, k = divmod(i, args.classes)
        slot = k % (7 * len(SLOTS))
        s, e = SLOTS[slot % len(SLOTS)]
        rules.append(ScheduleRule(class_group=g, weekday=slot // len(SLOTS) + 1, start_time=s,
                                  end_time=e, room=rooms[bi * rooms_per_branch
                                                         + k // (7 * len(SLOTS))],
                                  teacher_id=g.teacher_id, term=term, start_date=start,
                                  end_date=end, created_by=manager))
    rules = ScheduleRule.objects.bulk_create(rules)
    students = Student.objects.bulk_create([
        Student(branch=g.branch, name_zh=f"基准{i}-{j}", grade="S2",
                birth_date=dt.date(2010, 1, 1))
        for i, g in enumerate(groups) for j in range(args.students)])
    contracts, n = [], 0
    for i, g in enumerate(groups):
        mine = students[i * args.students:(i + 1) * args.students]
        # Two students of the previous class (another time slot) also take this one.
        shared = students[(i - 1) * args.students:(i - 1) * args.students + 2] \
            if i % args.classes else []
        for s in [*mine, *shared]:
            n += 1
            contracts.append(Contract(
                contract_no=f"{PREFIX}{n:07d}", student=s, branch=g.branch, course=course,
                class_group=g, hours_purchased=Decimal("40"), list_price=Decimal("8000"),
                valid_from=start, valid_until=end, signed_on=start))
    Contract.objects.bulk_create(contracts, batch_size=5000)
    print(f"chain: {len(branches)} branches, {len(groups)} classes, {len(rooms)} rooms, "
          f"{len(users)} teachers, {len(students)} students, {len(contracts)} contracts "
          f"(built in {time.perf_counter() - t0:.1f} s)")

    # ---------------------------------------------------------------- service
    t1 = time.perf_counter()
    result = rules_generate(rules, actor=manager)
    t2 = time.perf_counter()
    lessons = list(ClassSession.objects.filter(class_group__in=groups).select_related(
        "slot", "class_group").values_list("pk", "class_group_id", "class_group__branch_id",
                                           "date", "start_time", "end_time", "teacher_id",
                                           "slot__room"))
    t3 = time.perf_counter()
    placements = [Placement(class_group_id=cg, branch_id=b, date=d, start=s, end=e,
                            teacher_id=t, room_id=r, session_id=pk)
                  for pk, cg, b, d, s, e, t, r in lessons]
    found = find_conflicts(placements, check_closed=False)
    t4 = time.perf_counter()
    generate, recheck = t2 - t1, t4 - t3
    print(f"lessons written: {result.created} ({len(result.skipped)} closed dates skipped), "
          f"conflicts found on re-check: {len(found)}")
    assert result.created == len(lessons) and not found

    # ---------------------------------------------------------------- floor
    cur = connection.cursor()
    cur.execute("DROP TABLE IF EXISTS ttb_floor")
    cur.execute("CREATE TEMPORARY TABLE ttb_floor (class_group_id integer, date date, "
                "start_time time, end_time time, teacher_id integer, room_id integer)")
    rows = [(cg, d, s, e, t, r) for _pk, cg, _b, d, s, e, t, r in lessons]
    f0 = time.perf_counter()
    with connection.cursor() as c:
        c.executemany("INSERT INTO ttb_floor VALUES (%s, %s, %s, %s, %s, %s)", rows)
    f1 = time.perf_counter()
    overlap = ("a.date = b.date AND a.id < b.id AND a.start_time < b.end_time "
               "AND b.start_time < a.end_time")
    floor_counts = []
    with connection.cursor() as c:
        c.execute(f"SELECT count(*) FROM students_classsession a JOIN students_classsession b "
                  f"ON a.teacher_id = b.teacher_id AND {overlap}")
        floor_counts.append(c.fetchone()[0])
        c.execute(f"SELECT count(*) FROM students_classsession a "
                  f"JOIN timetable_sessionslot sa ON sa.session_id = a.id "
                  f"JOIN students_classsession b ON {overlap} "
                  f"JOIN timetable_sessionslot sb ON sb.session_id = b.id "
                  f"AND sb.room_id = sa.room_id")
        floor_counts.append(c.fetchone()[0])
        c.execute(f"SELECT count(*) FROM students_classsession a "
                  f"JOIN students_contract ca ON ca.class_group_id = a.class_group_id "
                  f"JOIN students_classsession b ON {overlap} "
                  f"JOIN students_contract cb ON cb.class_group_id = b.class_group_id "
                  f"AND cb.student_id = ca.student_id "
                  f"WHERE ca.status = 'active' AND cb.status = 'active'")
        floor_counts.append(c.fetchone()[0])
    f2 = time.perf_counter()
    cur.execute("DROP TABLE IF EXISTS ttb_floor")
    assert floor_counts == [0, 0, 0], floor_counts
    floor = f2 - f0

    # ---------------------------------------------------------------- pages
    client = Client()
    client.force_login(manager)
    branch, teacher = branches[0], users[0]
    week = {"start": start.isoformat(), "end": (start + dt.timedelta(days=7)).isoformat()}
    timings: dict[str, float] = {}
    with override_settings(SECURE_SSL_REDIRECT=False):
        for label, url, params in [
                ("events, branch-week", reverse("timetable:events"), {**week,
                                                                      "branch": branch.pk}),
                ("events, teacher-week", reverse("timetable:events"), {**week,
                                                                       "teacher": teacher.pk}),
                ("calendar page", reverse("timetable:calendar"), {"branch": branch.pk})]:
            samples = []
            for _ in range(6):
                p0 = time.perf_counter()
                response = client.get(url, params)
                samples.append(time.perf_counter() - p0)
                assert response.status_code == 200, (label, response.status_code)
            timings[label] = statistics.median(samples[1:]) * 1000

    total = generate + recheck
    print(f"generate + check (service): {generate:7.2f} s  "
          f"{len(lessons) / generate:8.0f} lessons/s")
    print(f"chain-wide re-check:        {recheck:7.2f} s")
    print(f"service total:              {total:7.2f} s   (aim: under 30 s)")
    print(f"plain-SQL floor:            {floor:7.2f} s   (insert {f1 - f0:.2f} s, "
          f"three overlap self-joins {f2 - f1:.2f} s)")
    print(f"ratio service / floor:      {total / floor:7.1f}x  (aim: within 3x)")
    for label, ms in timings.items():
        print(f"{label + ':':28s}{ms:7.1f} ms  (aim: under 150 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

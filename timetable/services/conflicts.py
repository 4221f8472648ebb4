"""The one conflict check every door calls (pages, API, admin, import, rule generation).

Given the lessons someone wants to write (`Placement`s), it reads the other lessons of
those days once and reports, per placement, what would clash: the teacher or the room
already booked, a student (or the class itself) in two lessons at once, a room too small
for the class, a closed day, a teacher's day off or weekly hours cap. Each conflict is a
translated sentence naming who and when, with a suggestion (free rooms or free slots).

Set-based on purpose: a whole chain's term (tens of thousands of lessons) is checked with
a handful of queries and a sweep in memory (bench/timetable_bench.py measures it).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Coalesce
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.models import Branch
from marketing.models import TrialLesson
from students.models import ClassGroup, ClassSession, Contract, MakeUp, Student
from timetable.models import ClosedDay, Holiday, Room, TeacherAvailability

# Suggestions look for free slots between these hours, in half-hour steps.
DAY_FROM, DAY_UNTIL, STEP_MIN = 8 * 60, 21 * 60 + 30, 30
# Suggestions cost queries-free work but still time: only the first conflicts get one.
SUGGEST_FIRST = 50
ENROLLED = [Contract.Status.ACTIVE]


class ConflictKind(models.TextChoices):
    TEACHER = "teacher", gettext_lazy("Teacher double-booked")
    ROOM = "room", gettext_lazy("Room double-booked")
    STUDENT = "student", gettext_lazy("Student double-booked")
    CLASS = "class", gettext_lazy("Class double-booked")
    CAPACITY = "capacity", gettext_lazy("Room too small")
    CLOSED = "closed", gettext_lazy("Closed day")
    DAY_OFF = "day_off", gettext_lazy("Teacher's day off")
    WEEKLY_HOURS = "weekly_hours", gettext_lazy("Teacher's weekly hours")


@dataclass(frozen=True)
class Placement:
    """A lesson someone wants to write: a new one, or an existing one (`session_id`) moved."""

    class_group_id: int
    branch_id: int
    date: dt.date
    start: dt.time
    end: dt.time
    teacher_id: int | None = None
    room_id: int | None = None
    session_id: int | None = None

    @property
    def hours(self) -> Decimal:
        return Decimal(_minutes(self.end) - _minutes(self.start)) / Decimal(60)


@dataclass
class Conflict:
    kind: str
    placement: Placement
    message: str
    suggestion: str = ""
    # For suggestions: what blocked it.
    other_class_ids: set[int] = field(default_factory=set)

    def __str__(self) -> str:
        return f"{self.message} {self.suggestion}".strip()


class ConflictError(ValidationError):
    """Raised when a write would clash; `conflicts` keeps the details for pages and API."""

    SHOWN = 20

    def __init__(self, conflicts: list[Conflict]) -> None:
        self.conflicts = conflicts
        # A weekly rule clashes the same way every week: one line, with the other dates.
        groups: dict[tuple[Any, ...], list[Conflict]] = {}
        for c in conflicts:
            p = c.placement
            key = (c.kind, p.class_group_id, p.start, p.end, p.teacher_id, p.room_id,
                   tuple(sorted(c.other_class_ids)))
            groups.setdefault(key, []).append(c)
        lines = []
        for same in list(groups.values())[:self.SHOWN]:
            line = str(same[0])
            if len(same) > 1:
                line += " " + _("The same on %(dates)s.") % {"dates": "、".join(
                    date_format(c.placement.date, "SHORT_DATE_FORMAT") for c in same[1:])}
            lines.append(line)
        if len(groups) > self.SHOWN:
            lines.append(_("… and %(n)d more conflicts.") % {"n": len(groups) - self.SHOWN})
        super().__init__(lines, code="conflict")


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def _hm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _when(day: dt.date, start: dt.time, end: dt.time) -> str:
    return f"{date_format(day, 'SHORT_DATE_FORMAT')} {start:%H:%M}–{end:%H:%M}"


def person(user: Any) -> str:
    """A staff member as colleagues know them: display name, full name, else username."""
    profile = getattr(user, "staff_profile", None)
    return (getattr(profile, "display_name", "") or user.get_full_name()
            or user.get_username())


@dataclass
class _Event:
    """A lesson on the calendar, existing (ref < 0) or wanted (ref = placement index)."""

    ref: int
    class_group_id: int
    date: dt.date
    start: int
    end: int
    teacher_id: int | None
    room_id: int | None
    hours: Decimal | None
    session_id: int | None = None


def _overlapping(events: list[_Event]) -> Iterator[tuple[_Event, _Event]]:
    """Pairs of overlapping events (touching ends do not overlap: 9-11 then 11-13 is fine)."""
    events.sort(key=lambda e: (e.start, e.end))
    active: list[_Event] = []
    for ev in events:
        active = [a for a in active if a.end > ev.start]
        for a in active:
            yield a, ev
        active.append(ev)


class _Context:
    """Everything the check reads, loaded once for the placements' dates."""

    def __init__(self, placements: list[Placement], replacing: set[int]) -> None:
        self.placements = placements
        lo = min(p.date for p in placements)
        hi = max(p.date for p in placements)
        self.lo, self.hi = lo, hi
        # The replaced lessons are skipped here rather than in SQL: a term's rewrite can
        # replace thousands, and a long NOT IN list costs more than reading the rows.
        rows = (ClassSession.objects.filter(date__range=(lo, hi))
                .annotate(who=Coalesce("teacher_id", "class_group__teacher_id"))
                .values_list("pk", "class_group_id", "date", "start_time", "end_time", "who",
                             "slot__room", "hours"))
        self.existing = []
        for pk, cg, d, s, e, who, room, hours in rows.iterator(chunk_size=5000):
            if pk not in replacing:
                self.existing.append(_Event(-(len(self.existing) + 1), cg, d, _minutes(s),
                                            _minutes(e), who, room, hours, pk))
        # Hours of wanted lessons are worked out only if a weekly cap needs them.
        self.wanted = [_Event(i, p.class_group_id, p.date, _minutes(p.start), _minutes(p.end),
                              p.teacher_id, p.room_id, None, p.session_id)
                       for i, p in enumerate(placements)]
        self.by_class_date: dict[tuple[int, dt.date], list[_Event]] = defaultdict(list)
        self.by_date: dict[dt.date, list[_Event]] = defaultdict(list)
        for ev in self.existing + self.wanted:
            self.by_class_date[(ev.class_group_id, ev.date)].append(ev)
            self.by_date[ev.date].append(ev)
        self._load_students()
        self._load_names()

    def _load_students(self) -> None:
        new_classes = {p.class_group_id for p in self.placements}
        wanted_students = Contract.objects.filter(
            class_group_id__in=new_classes, status__in=ENROLLED).values("student_id")
        self.students: dict[int, set[int]] = defaultdict(set)
        for cg, sid in Contract.objects.filter(
                status__in=ENROLLED, class_group__isnull=False,
                student_id__in=wanted_students).values_list("class_group_id", "student_id"):
            self.students[cg].add(sid)
        # Classes sharing a student with each wanted class (itself included).
        classes_of: dict[int, set[int]] = defaultdict(set)
        for cg, sids in self.students.items():
            for sid in sids:
                classes_of[sid].add(cg)
        self.neighbours: dict[int, dict[int, set[int]]] = {}
        for cg in new_classes:
            near: dict[int, set[int]] = defaultdict(set)
            for sid in self.students.get(cg, ()):
                for other in classes_of[sid]:
                    if other != cg:
                        near[other].add(sid)
            self.neighbours[cg] = near
        # Make-up bookings put a student into another class's lesson.
        self.makeups: dict[tuple[int, dt.date], list[int]] = defaultdict(list)
        mine = {sid for cg in new_classes for sid in self.students.get(cg, ())}
        session_at = {ev.session_id: ev for ev in self.existing}
        for sid, session_id in MakeUp.objects.filter(
                session__date__range=(self.lo, self.hi)).values_list("original__student_id",
                                                                     "session_id"):
            ev = session_at.get(session_id)
            if ev is not None and sid in mine:
                self.makeups[(sid, ev.date)].append(ev.ref)
        self.makeup_count: dict[int, int] = defaultdict(int)
        moved = {p.session_id for p in self.placements if p.session_id}
        if moved:
            for session_id in MakeUp.objects.filter(
                    session__date__range=(self.lo, self.hi)).values_list("session_id", flat=True):
                if session_id in moved:
                    self.makeup_count[session_id] += 1
            # Trial seats (marketing) take a place in the lesson too.
            for session_id in TrialLesson.objects.filter(
                    session__date__range=(self.lo, self.hi),
                    outcome=TrialLesson.Outcome.BOOKED).values_list("session_id", flat=True):
                if session_id in moved:
                    self.makeup_count[session_id] += 1

    def _load_names(self) -> None:
        class_ids = {ev.class_group_id for ev in self.existing + self.wanted}
        self.class_names = dict(ClassGroup.objects.filter(pk__in=class_ids)
                                .values_list("pk", "name")) if len(class_ids) < 5000 else {}
        teacher_ids = {p.teacher_id for p in self.placements if p.teacher_id}
        self.teachers = {u.pk: u for u in get_user_model().objects.filter(
            pk__in=teacher_ids).select_related("staff_profile")}
        branch_ids = {p.branch_id for p in self.placements}
        self.rooms = {r.pk: r for r in Room.objects.filter(branch_id__in=branch_ids)}
        self.branch_names = dict(Branch.objects.filter(pk__in=branch_ids)
                                 .values_list("pk", "name"))
        self.availability = {a.teacher_id: a for a in TeacherAvailability.objects.filter(
            teacher_id__in=teacher_ids)}

    def class_name(self, cg: int) -> str:
        if cg not in self.class_names:
            self.class_names[cg] = ClassGroup.objects.filter(pk=cg).values_list(
                "name", flat=True).first() or str(cg)
        return self.class_names[cg]

    def student_names(self, ids: Iterable[int], limit: int = 3) -> str:
        ids = sorted(ids)
        names = list(Student.objects.filter(pk__in=ids[:limit]).order_by("name_pinyin")
                     .values_list("name_zh", flat=True))
        if len(ids) > limit:
            names.append(_("and %(n)d more") % {"n": len(ids) - limit})
        return "、".join(names)

    def teacher_name(self, teacher_id: int | None) -> str:
        user = self.teachers.get(teacher_id or 0)
        if user is None and teacher_id:
            user = get_user_model().objects.filter(pk=teacher_id).first()
        return person(user) if user is not None else "?"

    def event_when(self, ev: _Event) -> str:
        return _when(ev.date, dt.time(ev.start // 60, ev.start % 60),
                     dt.time(ev.end // 60, ev.end % 60))


def closed_days(branch_ids: Iterable[int], lo: dt.date, hi: dt.date,
                ) -> dict[int, dict[dt.date, str]]:
    """Per branch, the days it is closed in [lo, hi] (public holidays + its own), with why."""
    national = dict(Holiday.objects.filter(date__range=(lo, hi), kind=Holiday.Kind.HOLIDAY)
                    .values_list("date", "name"))
    out: dict[int, dict[dt.date, str]] = {b: dict(national) for b in branch_ids}
    for branch_id, day, reason in ClosedDay.objects.filter(
            branch_id__in=list(out), date__range=(lo, hi)).values_list("branch_id", "date",
                                                                       "reason"):
        out[branch_id][day] = reason
    return out


def find_conflicts(placements: list[Placement], *, replacing: Iterable[int] = (),
                   check_closed: bool = True, suggest: bool = True) -> list[Conflict]:
    """Every conflict the placements would cause, in placement order.

    `replacing`: ids of lessons these placements replace (a rule being rewritten, the
    lesson being moved), left out of "the others".
    """
    if not placements:
        return []
    replacing = set(replacing) | {p.session_id for p in placements if p.session_id}
    ctx = _Context(placements, replacing)
    found: list[Conflict] = []
    found += _double_bookings(ctx)
    found += _students(ctx)
    found += _capacity(ctx)
    found += _availability(ctx)
    if check_closed:
        found += _closed(ctx)
    order = {id(p): i for i, p in enumerate(placements)}
    found.sort(key=lambda c: (order[id(c.placement)], c.kind))
    if suggest:
        for c in found[:SUGGEST_FIRST]:
            c.suggestion = _suggest(ctx, c)
    return found


def _pairs_with_new(events: list[_Event]) -> Iterator[tuple[_Event, _Event]]:
    """(wanted, other) for overlapping pairs that involve a wanted event, reported once."""
    for a, b in _overlapping(events):
        if b.ref >= 0 and (a.ref < 0 or a.ref < b.ref):
            yield b, a
        elif a.ref >= 0 and b.ref < 0:
            yield a, b


def _double_bookings(ctx: _Context) -> list[Conflict]:
    by_teacher: dict[tuple[int, dt.date], list[_Event]] = defaultdict(list)
    by_room: dict[tuple[int, dt.date], list[_Event]] = defaultdict(list)
    teachers = {ev.teacher_id for ev in ctx.wanted if ev.teacher_id}
    rooms = {ev.room_id for ev in ctx.wanted if ev.room_id}
    for ev in ctx.existing + ctx.wanted:
        if ev.teacher_id in teachers:
            by_teacher[(ev.teacher_id, ev.date)].append(ev)
        if ev.room_id in rooms:
            by_room[(ev.room_id, ev.date)].append(ev)
    out = []
    seen: set[tuple[str, int]] = set()
    for events in by_teacher.values():
        for mine, other in _pairs_with_new(events):
            if ("t", mine.ref) in seen:
                continue
            seen.add(("t", mine.ref))
            out.append(Conflict(ConflictKind.TEACHER, ctx.placements[mine.ref], _(
                "Teacher %(teacher)s already teaches %(other)s on %(when)s.") % {
                "teacher": ctx.teacher_name(mine.teacher_id),
                "other": ctx.class_name(other.class_group_id), "when": ctx.event_when(other)},
                other_class_ids={other.class_group_id}))
    for events in by_room.values():
        for mine, other in _pairs_with_new(events):
            if ("r", mine.ref) in seen:
                continue
            seen.add(("r", mine.ref))
            room = ctx.rooms.get(mine.room_id or 0)
            out.append(Conflict(ConflictKind.ROOM, ctx.placements[mine.ref], _(
                "Room %(room)s is taken by %(other)s on %(when)s.") % {
                "room": room.name if room else mine.room_id,
                "other": ctx.class_name(other.class_group_id), "when": ctx.event_when(other)},
                other_class_ids={other.class_group_id}))
    return out


def _students(ctx: _Context) -> list[Conflict]:
    out = []
    for mine in ctx.wanted:
        p = ctx.placements[mine.ref]
        # The class itself twice at once (e.g. a rule over a lesson typed in by hand).
        for other in ctx.by_class_date[(p.class_group_id, p.date)]:
            if other is mine or not (other.start < mine.end and mine.start < other.end):
                continue
            if other.ref >= 0 and other.ref > mine.ref:
                continue  # reported on the later one
            out.append(Conflict(ConflictKind.CLASS, p, _(
                "%(cls)s already has a lesson on %(when)s.") % {
                "cls": ctx.class_name(p.class_group_id), "when": ctx.event_when(other)}))
            break
        clashes: dict[int, tuple[_Event, set[int]]] = {}
        for cg, shared in ctx.neighbours.get(p.class_group_id, {}).items():
            for other in ctx.by_class_date.get((cg, p.date), ()):
                if other.start < mine.end and mine.start < other.end:
                    if other.ref >= 0 and other.ref > mine.ref:
                        continue
                    clashes.setdefault(cg, (other, set()))[1].update(shared)
        for sid in ctx.students.get(p.class_group_id, ()):
            for ref in ctx.makeups.get((sid, p.date), ()):
                other = ctx.existing[-ref - 1]
                if other.start < mine.end and mine.start < other.end:
                    clashes.setdefault(other.class_group_id, (other, set()))[1].add(sid)
        for cg, (other, sids) in clashes.items():
            out.append(Conflict(ConflictKind.STUDENT, p, _(
                "%(students)s of %(cls)s also attend %(other)s on %(when)s.") % {
                "students": ctx.student_names(sids), "cls": ctx.class_name(p.class_group_id),
                "other": ctx.class_name(cg), "when": ctx.event_when(other)},
                other_class_ids={cg}))
    return out


def _capacity(ctx: _Context) -> list[Conflict]:
    out = []
    for p in ctx.placements:
        room = ctx.rooms.get(p.room_id or 0)
        if room is None:
            continue
        need = len(ctx.students.get(p.class_group_id, ())) + ctx.makeup_count.get(
            p.session_id or 0, 0)
        if need > room.capacity:
            out.append(Conflict(ConflictKind.CAPACITY, p, _(
                "Room %(room)s holds %(cap)d but %(cls)s has %(need)d students (%(when)s).")
                % {"room": room.name, "cap": room.capacity, "need": need,
                   "cls": ctx.class_name(p.class_group_id),
                   "when": _when(p.date, p.start, p.end)}))
    return out


def _availability(ctx: _Context) -> list[Conflict]:
    out = []
    if not ctx.availability:
        return out
    week_hours: dict[tuple[int, int, int], Decimal] = defaultdict(Decimal)
    for ev in ctx.existing + ctx.wanted:
        if ev.teacher_id in ctx.availability:
            year, week, _day = ev.date.isocalendar()
            hours = ev.hours if ev.hours is not None else Decimal(ev.end - ev.start) / 60
            week_hours[(ev.teacher_id, year, week)] += hours
    # The week span read above may cut a week short at either end; complete those weeks.
    reported: set[tuple[int, int, int]] = set()
    for p in ctx.placements:
        avail = ctx.availability.get(p.teacher_id or 0)
        if avail is None:
            continue
        if p.date.isoweekday() in (avail.days_off or []):
            out.append(Conflict(ConflictKind.DAY_OFF, p, _(
                "%(date)s is a day off for teacher %(teacher)s.") % {
                "date": date_format(p.date, "SHORT_DATE_FORMAT"),
                "teacher": ctx.teacher_name(p.teacher_id)}))
        year, week, _day = p.date.isocalendar()
        key = (avail.teacher_id, year, week)
        if avail.weekly_hours is not None and key not in reported:
            total = week_hours[key] + _edge_week_hours(ctx, avail.teacher_id, p.date)
            if total > avail.weekly_hours:
                reported.add(key)
                out.append(Conflict(ConflictKind.WEEKLY_HOURS, p, _(
                    "Teacher %(teacher)s would teach %(hours)s hours in the week of %(date)s, "
                    "over their %(cap)s.") % {
                    "teacher": ctx.teacher_name(p.teacher_id),
                    "hours": f"{total.normalize():f}",
                    "date": date_format(p.date, "SHORT_DATE_FORMAT"),
                    "cap": f"{avail.weekly_hours.normalize():f}"}))
    return out


def _edge_week_hours(ctx: _Context, teacher_id: int, day: dt.date) -> Decimal:
    """Hours of the teacher's lessons in the same ISO week but outside the loaded span."""
    monday = day - dt.timedelta(days=day.isoweekday() - 1)
    sunday = monday + dt.timedelta(days=6)
    if monday >= ctx.lo and sunday <= ctx.hi:
        return Decimal(0)
    qs = ClassSession.objects.filter(date__range=(monday, sunday)).exclude(
        date__range=(ctx.lo, ctx.hi)).annotate(
        who=Coalesce("teacher_id", "class_group__teacher_id")).filter(who=teacher_id)
    return qs.aggregate(h=models.Sum("hours"))["h"] or Decimal(0)


def _closed(ctx: _Context) -> list[Conflict]:
    closed = closed_days({p.branch_id for p in ctx.placements}, ctx.lo, ctx.hi)
    out = []
    for p in ctx.placements:
        why = closed[p.branch_id].get(p.date)
        if why is not None:
            out.append(Conflict(ConflictKind.CLOSED, p, _(
                "%(branch)s is closed on %(date)s (%(why)s).") % {
                "branch": ctx.branch_names.get(p.branch_id, ""),
                "date": date_format(p.date, "SHORT_DATE_FORMAT"), "why": why}))
    return out


# ------------------------------------------------------------------------ suggestions
def _busy(ctx: _Context, p: Placement, *, room_id: int | None, teacher_id: int | None,
          classes: set[int]) -> list[tuple[int, int]]:
    spans = []
    for ev in ctx.by_date[p.date]:
        if (ev.session_id and ev.session_id == p.session_id) or (
                ev.ref >= 0 and ctx.placements[ev.ref] is p):
            continue
        if ((room_id and ev.room_id == room_id) or (teacher_id and ev.teacher_id == teacher_id)
                or ev.class_group_id in classes):
            spans.append((ev.start, ev.end))
    return spans


def free_rooms(ctx: _Context, p: Placement) -> list[Room]:
    need = len(ctx.students.get(p.class_group_id, ()))
    start, end = _minutes(p.start), _minutes(p.end)
    taken = {ev.room_id for ev in ctx.by_date[p.date]
             if ev.room_id and ev.start < end and start < ev.end
             and not (ev.session_id and ev.session_id == p.session_id)}
    return [r for r in sorted(ctx.rooms.values(), key=lambda r: (r.capacity, r.name))
            if r.branch_id == p.branch_id and r.is_active and r.pk not in taken
            and r.capacity >= need and r.pk != p.room_id]


def free_slots(ctx: _Context, p: Placement, limit: int = 3) -> list[str]:
    """Same-day times of the same length when teacher, room and students are all free."""
    length = _minutes(p.end) - _minutes(p.start)
    classes = {p.class_group_id, *ctx.neighbours.get(p.class_group_id, {})}
    busy = _busy(ctx, p, room_id=p.room_id, teacher_id=p.teacher_id, classes=classes)
    out = []
    for start in range(DAY_FROM, DAY_UNTIL - length + 1, STEP_MIN):
        end = start + length
        if start == _minutes(p.start):
            continue
        if all(not (s < end and start < e) for s, e in busy):
            out.append(f"{_hm(start)}–{_hm(end)}")
            if len(out) >= limit:
                break
    return out


def _suggest(ctx: _Context, c: Conflict) -> str:
    p = c.placement
    if c.kind in {ConflictKind.ROOM, ConflictKind.CAPACITY}:
        rooms = free_rooms(ctx, p)[:3]
        if rooms:
            return _("Free rooms then: %(rooms)s.") % {"rooms": "、".join(r.name for r in rooms)}
        return _("No room of that size is free then.")
    if c.kind in {ConflictKind.TEACHER, ConflictKind.STUDENT, ConflictKind.CLASS}:
        slots = free_slots(ctx, p)
        if slots:
            return _("Free that day: %(slots)s.") % {"slots": "、".join(slots)}
        return _("Nothing of that length is free that day.")
    return ""


def student_conflicts(student: Student, session: ClassSession) -> list[Conflict]:
    """Would `student` be in two places if seated in `session` (a make-up, a trial seat)?"""
    mine = Contract.objects.filter(student=student, status__in=ENROLLED,
                                   class_group__isnull=False).values("class_group_id")
    booked = MakeUp.objects.filter(original__student=student).values("session_id")
    others = (ClassSession.objects.filter(date=session.date, start_time__lt=session.end_time,
                                          end_time__gt=session.start_time)
              .filter(models.Q(class_group_id__in=mine) | models.Q(pk__in=booked))
              .exclude(pk=session.pk).select_related("class_group"))
    p = Placement(class_group_id=session.class_group_id,
                  branch_id=session.class_group.branch_id, date=session.date,
                  start=session.start_time, end=session.end_time, session_id=session.pk)
    return [Conflict(ConflictKind.STUDENT, p, _(
        "%(student)s already attends %(other)s on %(when)s.") % {
        "student": student.name_zh, "other": other.class_group.name,
        "when": _when(other.date, other.start_time, other.end_time)},
        other_class_ids={other.class_group_id}) for other in others]

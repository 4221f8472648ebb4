"""Writing the timetable: weekly rules generate lessons; single lessons are added, moved
(调课) or cancelled. Every write passes `guard`, the one conflict gate, first.

A manager may let a conflict through with a reason (issue #18); each overridden conflict
is recorded in ConflictOverride next to the lesson it concerns.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from marketing.models import TrialLesson
from students.models import Attendance, ClassGroup, ClassSession, MakeUp
from students.services import notice_enqueue, session_roster
from timetable.access import check_override, check_schedule
from timetable.models import (
    ConflictOverride,
    Holiday,
    LeaveRequest,
    Room,
    ScheduleRule,
    SessionChange,
    SessionSlot,
    Term,
)

from .conflicts import Conflict, ConflictError, Placement, closed_days, find_conflicts

BATCH = 2000


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def lesson_hours(start: dt.time, end: dt.time) -> Decimal:
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    return (Decimal(minutes) / Decimal(60)).quantize(Decimal("0.01"))


def guard(placements: list[Placement], *, actor: Any, override_reason: str = "",
          replacing: Any = (), check_closed: bool = True) -> list[Conflict]:
    """Refuse conflicting placements, unless a manager overrides them with a reason.

    Returns the conflicts let through (empty when there were none) so the caller can
    record them against the lessons it writes (`record_overrides`).
    """
    conflicts = find_conflicts(placements, replacing=replacing, check_closed=check_closed)
    if not conflicts:
        return []
    if not override_reason.strip():
        raise ConflictError(conflicts)
    for branch_id in {c.placement.branch_id for c in conflicts}:
        check_override(actor, branch_id)
    return conflicts


def record_overrides(conflicts: list[Conflict], sessions: dict[int, ClassSession], *,
                     reason: str, actor: Any) -> list[ConflictOverride]:
    """One row per conflict let through; `sessions` maps id(placement) -> written lesson."""
    rows = [ConflictOverride(branch_id=c.placement.branch_id,
                             session=sessions.get(id(c.placement)), kind=c.kind,
                             message=str(c), reason=reason.strip()[:200], actor=_user(actor))
            for c in conflicts]
    return ConflictOverride.objects.bulk_create(rows, batch_size=BATCH)


# ------------------------------------------------------------------------ rules
@dataclass
class GenerateResult:
    created: int = 0
    updated: int = 0
    removed: int = 0
    # Lessons the rule no longer wants but which have roll call, leave or make-ups.
    kept: list[ClassSession] = field(default_factory=list)
    # Rule dates not generated: closed day or working weekend, with the reason.
    skipped: dict[dt.date, str] = field(default_factory=dict)
    overridden: int = 0


def rule_dates(rule: ScheduleRule, *, closed: dict[dt.date, str], workdays: dict[dt.date, str],
               skip_working_weekends: bool) -> tuple[list[dt.date], dict[dt.date, str]]:
    """The rule's lesson dates, and the dates it skips with why (closed, working weekend)."""
    if not rule.is_active:
        return [], {}
    day = rule.start_date + dt.timedelta(days=(rule.weekday - rule.start_date.isoweekday()) % 7)
    dates, skipped = [], {}
    while day <= rule.end_date:
        if day in closed:
            skipped[day] = closed[day]
        elif skip_working_weekends and day.isoweekday() >= 6 and day in workdays:
            # 调休: pupils are at school that Saturday or Sunday.
            skipped[day] = workdays[day]
        else:
            dates.append(day)
        day += dt.timedelta(days=7)
    return dates, skipped


def _protected(session_ids: list[int]) -> set[int]:
    """Lessons that must not vanish: roll call taken, a leave asked, a make-up or a trial
    seat booked."""
    ids: set[int] = set()
    for i in range(0, len(session_ids), BATCH):
        chunk = session_ids[i:i + BATCH]
        ids |= set(Attendance.objects.filter(session_id__in=chunk).values_list(
            "session_id", flat=True))
        ids |= set(MakeUp.objects.filter(session_id__in=chunk).values_list(
            "session_id", flat=True))
        ids |= set(LeaveRequest.objects.filter(session_id__in=chunk).values_list(
            "session_id", flat=True))
        ids |= set(TrialLesson.objects.filter(session_id__in=chunk).values_list(
            "session_id", flat=True))
    return ids


@transaction.atomic
def rules_generate(rules: list[ScheduleRule], *, actor: Any, override_reason: str = "",
                   today: dt.date | None = None, dry_run: bool = False) -> GenerateResult:
    """Write the lessons of these rules (a class's, or a whole term's at once).

    A rule that has lessons already is rewritten from `today` on only: past lessons stay
    as they were taught. Lessons moved by hand keep their new time; cancelled rule dates
    stay cancelled. Everything is checked for conflicts in one pass before anything is
    written, so a term is all written or not at all.
    """
    result = GenerateResult()
    if not rules:
        return result
    today = today or timezone.localdate()
    groups = {g.pk: g for g in ClassGroup.objects.filter(
        pk__in={r.class_group_id for r in rules})}
    lo, hi = min(r.start_date for r in rules), max(r.end_date for r in rules)
    closed = closed_days({g.branch_id for g in groups.values()}, lo, hi)
    workdays = dict(Holiday.objects.filter(date__range=(lo, hi), kind=Holiday.Kind.WORKDAY)
                    .values_list("date", "name"))
    terms = {t.pk: t for t in Term.objects.filter(pk__in={r.term_id for r in rules if r.term_id})}
    rooms = {r.pk: r for r in Room.objects.filter(pk__in={r.room_id for r in rules if r.room_id})}
    rule_ids = [r.pk for r in rules]
    slots: dict[int, dict[dt.date, SessionSlot]] = defaultdict(dict)
    for slot in SessionSlot.objects.filter(rule_id__in=rule_ids).select_related("session"):
        slots[slot.rule_id][slot.rule_date] = slot
    cancelled = set(SessionChange.objects.filter(
        rule_id__in=rule_ids, kind=SessionChange.Kind.CANCELLED).values_list("rule_id",
                                                                            "rule_date"))
    moved = set(SessionChange.objects.filter(
        rule_id__in=rule_ids, kind=SessionChange.Kind.MOVED).values_list("session_id", flat=True))

    placements: list[Placement] = []
    plan: list[tuple[Placement, ScheduleRule, dt.date, SessionSlot | None]] = []
    removing: list[SessionSlot] = []
    for rule in rules:
        group = groups[rule.class_group_id]
        term = terms.get(rule.term_id or 0)
        skip_weekends = term.skip_working_weekends if term else True
        dates, skipped = rule_dates(rule, closed=closed[group.branch_id], workdays=workdays,
                                    skip_working_weekends=skip_weekends)
        result.skipped.update(skipped)
        have = slots.get(rule.pk, {})
        since = max(today, rule.start_date) if have else rule.start_date
        teacher_id = rule.teacher_id or group.teacher_id
        wanted = [d for d in dates if d >= since and (rule.pk, d) not in cancelled]
        for day in wanted:
            slot = have.get(day)
            if slot is not None and slot.session_id in moved:
                continue  # moved by hand: the move wins over the rule
            p = Placement(class_group_id=group.pk, branch_id=group.branch_id, date=day,
                          start=rule.start_time, end=rule.end_time, teacher_id=teacher_id,
                          room_id=rule.room_id, session_id=slot.session_id if slot else None)
            placements.append(p)
            plan.append((p, rule, day, slot))
        keep = set(wanted)
        removing += [s for d, s in have.items() if d >= since and d not in keep
                     and s.session_id not in moved]

    protected = _protected([s.session_id for s in removing])
    gone = [s for s in removing if s.session_id not in protected]
    result.kept = [s.session for s in removing if s.session_id in protected]
    conflicts = guard(placements, actor=actor, override_reason=override_reason,
                      replacing=[s.session_id for s in gone], check_closed=False)
    if dry_run:
        result.created = sum(1 for *_x, slot in plan if slot is None)
        result.updated = len(plan) - result.created
        result.removed = len(gone)
        return result

    if gone:
        ids = [s.session_id for s in gone]
        for i in range(0, len(ids), BATCH):
            ClassSession.objects.filter(pk__in=ids[i:i + BATCH]).delete()
        result.removed = len(ids)

    written: dict[int, ClassSession] = {}
    new_sessions, new_meta, updates, slot_updates = [], [], [], []
    for p, rule, day, slot in plan:
        room = rooms.get(rule.room_id or 0)
        fields = {"date": p.date, "start_time": p.start, "end_time": p.end,
                  "hours": lesson_hours(p.start, p.end), "teacher_id": p.teacher_id,
                  "room": room.name if room else ""}
        if slot is None:
            new_sessions.append(ClassSession(class_group_id=p.class_group_id, **fields))
            new_meta.append((p, rule, day))
        else:
            session = slot.session
            for k, v in fields.items():
                setattr(session, k, v)
            updates.append(session)
            slot.room_id = rule.room_id
            slot_updates.append(slot)
            written[id(p)] = session
    created = ClassSession.objects.bulk_create(new_sessions, batch_size=BATCH)
    SessionSlot.objects.bulk_create(
        [SessionSlot(session_id=s.pk, room_id=rule.room_id, rule_id=rule.pk, rule_date=day)
         for s, (_p, rule, day) in zip(created, new_meta, strict=True)], batch_size=BATCH)
    for s, (p, _rule, _day) in zip(created, new_meta, strict=True):
        written[id(p)] = s
    ClassSession.objects.bulk_update(updates, ["date", "start_time", "end_time", "hours",
                                               "teacher", "room"], batch_size=BATCH)
    SessionSlot.objects.bulk_update(slot_updates, ["room"], batch_size=BATCH)
    result.created, result.updated = len(created), len(updates)
    if conflicts:
        result.overridden = len(record_overrides(conflicts, written, reason=override_reason,
                                                 actor=actor))
    return result


@transaction.atomic
def rule_save(*, actor: Any, class_group: ClassGroup, weekday: int, start_time: dt.time,
              end_time: dt.time, room: Room | None = None, teacher: Any = None,
              term: Term | None = None, start_date: dt.date | None = None,
              end_date: dt.date | None = None, rule: ScheduleRule | None = None,
              override_reason: str = "", today: dt.date | None = None,
              ) -> tuple[ScheduleRule, GenerateResult]:
    """Create or edit a weekly rule and (re)write its lessons; all or nothing.

    Dates default to the term's. Editing rewrites the lessons from today on only.
    """
    check_schedule(actor, class_group.branch_id)
    if rule is not None and rule.class_group_id != class_group.pk:
        raise ValidationError({"class_group": _("A rule stays with its class; end it and "
                                                "add one to the other class.")})
    if room is not None and room.branch_id != class_group.branch_id:
        raise ValidationError({"room": _("Room %(room)s is not in this class's branch.")
                               % {"room": room.name}})
    if term is not None and term.branch_id not in (None, class_group.branch_id):
        raise ValidationError({"term": _("This term belongs to another branch.")})
    start_date = start_date or (term.start_date if term else None)
    end_date = end_date or (term.end_date if term else None)
    errors = {}
    if start_date is None:
        errors["start_date"] = _("Choose a term or a first day.")
    if end_date is None:
        errors["end_date"] = _("Choose a term or a last day.")
    if errors:
        raise ValidationError(errors)
    rule = rule or ScheduleRule(created_by=_user(actor))
    rule.class_group, rule.weekday, rule.start_time, rule.end_time = (
        class_group, weekday, start_time, end_time)
    rule.room, rule.teacher, rule.term = room, teacher, term
    rule.start_date, rule.end_date = start_date, end_date
    rule.full_clean()
    rule.save()
    return rule, rules_generate([rule], actor=actor, override_reason=override_reason,
                                today=today)


@transaction.atomic
def rule_end(*, rule: ScheduleRule, actor: Any, today: dt.date | None = None) -> GenerateResult:
    """Stop a rule: its lessons from today on go (those with roll call or leave stay)."""
    check_schedule(actor, rule.class_group.branch_id)
    rule.is_active = False
    rule.save(update_fields=["is_active", "updated_at"])
    return rules_generate([rule], actor=actor, today=today)


# ------------------------------------------------------------------------ single lessons
@transaction.atomic
def session_create(*, actor: Any, class_group: ClassGroup, date: dt.date,
                   start_time: dt.time, end_time: dt.time, room: Room | None = None,
                   teacher: Any = None, override_reason: str = "") -> ClassSession:
    """One lesson outside any rule (a one-to-one lesson, an extra class)."""
    check_schedule(actor, class_group.branch_id)
    if room is not None and room.branch_id != class_group.branch_id:
        raise ValidationError({"room": _("Room %(room)s is not in this class's branch.")
                               % {"room": room.name}})
    if end_time <= start_time:
        raise ValidationError({"end_time": _("A lesson must end after it starts.")})
    teacher_id = teacher.pk if teacher else class_group.teacher_id
    p = Placement(class_group_id=class_group.pk, branch_id=class_group.branch_id, date=date,
                  start=start_time, end=end_time, teacher_id=teacher_id,
                  room_id=room.pk if room else None)
    conflicts = guard([p], actor=actor, override_reason=override_reason)
    session = ClassSession.objects.create(
        class_group=class_group, date=date, start_time=start_time, end_time=end_time,
        hours=lesson_hours(start_time, end_time), teacher_id=teacher_id,
        room=room.name if room else "")
    SessionSlot.objects.create(session=session, room=room)
    record_overrides(conflicts, {id(p): session}, reason=override_reason, actor=actor)
    return session


def _check_changeable(session: ClassSession) -> None:
    if session.attendances.exclude(status=Attendance.Status.LEAVE).exists():
        raise ValidationError(_("Roll call was already taken for this lesson; it can no "
                                "longer be moved or cancelled."), code="taken")


def _when(day: dt.date, start: dt.time, end: dt.time) -> str:
    return f"{date_format(day, 'SHORT_DATE_FORMAT')} {start:%H:%M}-{end:%H:%M}"


def _notify(session: ClassSession, template_code: str, context: dict[str, Any]) -> int:
    """A notice to each student's guardians (primary contact, by the messaging rules),
    trial pupils booked into the lesson included."""
    n = 0
    course = session.class_group.course.name
    trial = [t.student for t in TrialLesson.objects.filter(
        session=session, outcome=TrialLesson.Outcome.BOOKED).select_related("student")]
    roster = session_roster(session)
    seen = {s.pk for s in roster}
    for student in [*roster, *[t for t in trial if t.pk not in seen]]:
        n += len(notice_enqueue(student=student, template_code=template_code,
                                context={"course": course, **context}))
    return n


@transaction.atomic
def session_move(*, session: ClassSession, actor: Any, date: dt.date, start_time: dt.time,
                 end_time: dt.time, room: Room | str | None = "keep", teacher: Any = "keep",
                 reason: str = "", override_reason: str = "",
                 notify: bool = True) -> ClassSession:
    """Move one lesson (调课) and tell the families; the rule's other lessons stay put.

    `room` / `teacher` default to the lesson's own. A lesson whose roll call was taken
    cannot move (its hours are in the ledger under its date).
    """
    session = ClassSession.objects.select_for_update().select_related(
        "class_group__course").get(pk=session.pk)
    group = session.class_group
    check_schedule(actor, group.branch_id)
    _check_changeable(session)
    if end_time <= start_time:
        raise ValidationError({"end_time": _("A lesson must end after it starts.")})
    slot = SessionSlot.objects.filter(session=session).first() or SessionSlot(session=session)
    new_room = slot.room if room == "keep" else room
    if new_room is not None and new_room.branch_id != group.branch_id:
        raise ValidationError({"room": _("Room %(room)s is not in this class's branch.")
                               % {"room": new_room.name}})
    teacher_id = ((session.teacher_id or group.teacher_id) if teacher == "keep"
                  else getattr(teacher, "pk", None))
    p = Placement(class_group_id=group.pk, branch_id=group.branch_id, date=date,
                  start=start_time, end=end_time, teacher_id=teacher_id,
                  room_id=new_room.pk if new_room else None, session_id=session.pk)
    conflicts = guard([p], actor=actor, override_reason=override_reason)
    old = _when(session.date, session.start_time, session.end_time)
    change = SessionChange(kind=SessionChange.Kind.MOVED, class_group=group, session=session,
                           rule=slot.rule, rule_date=slot.rule_date, from_date=session.date,
                           from_start=session.start_time, from_end=session.end_time,
                           to_date=date, to_start=start_time, to_end=end_time,
                           reason=reason[:200], actor=_user(actor))
    session.date, session.start_time, session.end_time = date, start_time, end_time
    session.hours = lesson_hours(start_time, end_time)
    session.teacher_id = teacher_id
    session.room = new_room.name if new_room else ""
    session.full_clean(exclude=["class_group", "teacher"])
    session.save()
    slot.room = new_room
    slot.save()
    # Leave records carry the lesson's date (per-student figures read it without a join);
    # trial seats copy the lesson's time, so they move with it.
    Attendance.objects.filter(session=session).update(date=date)
    TrialLesson.objects.filter(session=session).update(date=date, start_time=start_time,
                                                       end_time=end_time)
    if notify:
        change.notified = _notify(session, "session_moved", {
            "old": old, "new": _when(date, start_time, end_time)})
    change.save()
    record_overrides(conflicts, {id(p): session}, reason=override_reason, actor=actor)
    return session


@transaction.atomic
def session_cancel(*, session: ClassSession, actor: Any, reason: str = "",
                   notify: bool = True) -> SessionChange:
    """Cancel one lesson (停课): families are told, the rule will not bring it back."""
    session = ClassSession.objects.select_for_update().select_related(
        "class_group__course").get(pk=session.pk)
    group = session.class_group
    check_schedule(actor, group.branch_id)
    _check_changeable(session)
    trials = list(TrialLesson.objects.filter(session=session).select_related("student"))
    if trials:
        raise ValidationError(_(
            "Trial lessons are booked in this lesson (%(names)s): move the lesson instead, "
            "or rebook the trials first.") % {
            "names": "、".join(t.student.name_zh for t in trials)}, code="trials")
    slot = SessionSlot.objects.filter(session=session).first()
    change = SessionChange(kind=SessionChange.Kind.CANCELLED, class_group=group,
                           rule=slot.rule if slot else None,
                           rule_date=slot.rule_date if slot else None,
                           from_date=session.date, from_start=session.start_time,
                           from_end=session.end_time, reason=reason[:200], actor=_user(actor))
    if notify:
        change.notified = _notify(session, "session_cancelled", {
            "old": _when(session.date, session.start_time, session.end_time),
            "reason": reason})
    change.save()
    session.delete()
    return change


def sessions_with_slots(qs: Any) -> Any:
    """Lessons with what the calendar shows: class, course, room, teacher, rule."""
    return qs.select_related("class_group__course", "class_group__branch", "teacher",
                             "teacher__staff_profile", "slot__room").annotate(
        has_roll_call=Exists(Attendance.objects.filter(session=OuterRef("pk")).exclude(
            status=Attendance.Status.LEAVE)))

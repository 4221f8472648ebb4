"""Import a term's weekly rules from a CSV sheet (one row per rule); all or nothing.

Columns (Chinese or English headers): class/班级, weekday/星期 (1-7 or 周一...), start/
开始, end/结束, room/教室, teacher/老师 (username), term/学期. Every row is checked and the
whole sheet goes through rules_generate in one pass, so the conflict check is the very
same one the pages use; a conflict or a bad row writes nothing.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.permissions import scope_by_branch
from students.models import ClassGroup
from timetable.access import check_schedule
from timetable.models import Room, ScheduleRule, Term

from .schedule import GenerateResult, rules_generate

HEADERS = {
    "class": ("class", "class_group", "班级"), "weekday": ("weekday", "星期", "周几"),
    "start": ("start", "start_time", "开始", "开始时间"), "end": ("end", "end_time", "结束",
                                                              "结束时间"),
    "room": ("room", "教室"), "teacher": ("teacher", "老师", "教师"), "term": ("term", "学期"),
}
WEEKDAYS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7}


@dataclass
class ImportResult:
    rules: list[ScheduleRule] = field(default_factory=list)
    generated: GenerateResult | None = None


def _weekday(text: str) -> int:
    text = text.strip().removeprefix("周").removeprefix("星期")
    if text.isdigit() and 1 <= int(text) <= 7:
        return int(text)
    if text in WEEKDAYS:
        return WEEKDAYS[text]
    raise ValueError(text)


def _columns(header: list[str]) -> dict[str, int]:
    found = {}
    for key, names in HEADERS.items():
        for i, h in enumerate(header):
            if h.strip().lower() in names:
                found[key] = i
    missing = [k for k in ("class", "weekday", "start", "end", "term") if k not in found]
    if missing:
        raise ValidationError(_("Missing columns: %(cols)s.") % {"cols": ", ".join(missing)})
    return found


@transaction.atomic
def rules_import(*, text: str, actor: Any, override_reason: str = "") -> ImportResult:
    """Parse, check and write every rule of the sheet, or none (errors name row and column)."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if len(rows) < 2:
        raise ValidationError(_("The sheet has no rows."))
    cols = _columns(rows[0])
    groups = {g.name: g for g in scope_by_branch(actor, ClassGroup.objects.all())}
    rooms = {(r.branch_id, r.name): r for r in scope_by_branch(actor, Room.objects.all())}
    terms = {t.name: t for t in Term.objects.all()}
    teachers = {u.username: u for u in get_user_model().objects.filter(is_active=True)}
    errors: list[str] = []
    rules: list[ScheduleRule] = []

    def cell(row: list[str], key: str) -> str:
        i = cols.get(key)
        return row[i].strip() if i is not None and i < len(row) else ""

    for n, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        try:
            group = groups[cell(row, "class")]
        except KeyError:
            errors.append(_("Row %(n)d, class: unknown class “%(v)s”.")
                          % {"n": n, "v": cell(row, "class")})
            continue
        rule = ScheduleRule(class_group=group, created_by=actor)
        try:
            rule.weekday = _weekday(cell(row, "weekday"))
            rule.start_time = dt.time.fromisoformat(cell(row, "start"))
            rule.end_time = dt.time.fromisoformat(cell(row, "end"))
        except ValueError:
            errors.append(_("Row %(n)d: weekday 1-7, start and end as HH:MM.") % {"n": n})
            continue
        term = terms.get(cell(row, "term"))
        if term is None:
            errors.append(_("Row %(n)d, term: unknown term “%(v)s”.")
                          % {"n": n, "v": cell(row, "term")})
            continue
        rule.term, rule.start_date, rule.end_date = term, term.start_date, term.end_date
        if cell(row, "room"):
            rule.room = rooms.get((group.branch_id, cell(row, "room")))
            if rule.room is None:
                errors.append(_("Row %(n)d, room: no room “%(v)s” in %(branch)s.")
                              % {"n": n, "v": cell(row, "room"), "branch": group.branch})
                continue
        if cell(row, "teacher"):
            rule.teacher = teachers.get(cell(row, "teacher"))
            if rule.teacher is None:
                errors.append(_("Row %(n)d, teacher: unknown teacher “%(v)s”.")
                              % {"n": n, "v": cell(row, "teacher")})
                continue
        try:
            check_schedule(actor, group.branch_id)
            rule.full_clean()
        except ValidationError as exc:
            errors += [_("Row %(n)d: %(e)s") % {"n": n, "e": m} for m in exc.messages]
            continue
        rules.append(rule)
    if errors:
        raise ValidationError(errors)
    ScheduleRule.objects.bulk_create(rules)
    generated = rules_generate(rules, actor=actor, override_reason=override_reason)
    return ImportResult(rules=rules, generated=generated)

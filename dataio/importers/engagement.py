"""Visits/interactions with satisfaction (回访记录) and complaints (投诉): the records the
risk model reads for dissatisfaction and unresolved problems.

Each row names a student (学员编号, else name + guardian phone). A contact "with a
parent" is with the student's primary guardian. Natural keys, so a re-import writes
nothing twice: interaction (student, day, channel, with whom), its survey (student, day,
respondent), complaint (student, day, description).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import StaffProfile
from parents.models import Guardianship
from students.models import Complaint, Interaction, SatisfactionSurvey, Student
from students.services import complaint_sla_due

from .. import parsing
from ..models import ImportKind
from ..readers import Sheet
from .base import Action, Importer, Plan, RowReader, StudentRefs, chunks

_SENTIMENT = {1: "negative", 2: "negative", 3: "neutral", 4: "positive", 5: "positive"}


def _at(day: dt.date, hour: int = 12) -> dt.datetime:
    """A day from an old export as a moment: noon, local time (the hour is unknown)."""
    return dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_current_timezone())


def primary_guardians(student_ids: set[int]) -> dict[int, int]:
    """student -> the parent a "with the parent" contact is with (primary contact first)."""
    out: dict[int, int] = {}
    for part in chunks(sorted(student_ids)):
        for sid, pid in (Guardianship.objects.filter(student_id__in=part)
                         .order_by("student_id", "-is_primary_contact", "id")
                         .values_list("student_id", "parent_id")):
            out.setdefault(sid, pid)
    return out


def staff_by_name(branch_ids: set[int]) -> dict[str, int]:
    """Display name / login -> user, for the staff column (ambiguous names left out)."""
    seen: dict[str, set[int]] = {}
    for row in StaffProfile.objects.filter(branch_id__in=branch_ids).values(
            "user_id", "display_name", "user__username"):
        for key in (row["display_name"], row["user__username"]):
            if key:
                seen.setdefault(key.strip().lower(), set()).add(row["user_id"])
    return {k: next(iter(v)) for k, v in seen.items() if len(v) == 1}


class _Counterpart:
    """Who the row's contact was with, checked against the student's guardians."""

    def __init__(self, refs: StudentRefs):
        self.parents = primary_guardians(refs.ids)

    def __call__(self, r: RowReader, key: str, sid: int) -> tuple[str, int | None]:
        whom = r.get(key, parsing.counterpart) or "parent"
        if whom == "student":
            return whom, None
        pid = self.parents.get(sid)
        if pid is None:
            r.warn(key, _("The student has no guardian on record: recorded as with the "
                          "student."))
            return "student", None
        return whom, pid


# ---------------------------------------------------------------------- interactions
@dataclass
class InteractionItem:
    interaction: Interaction
    survey: SatisfactionSurvey | None


class InteractionImporter(Importer):
    kind = ImportKind.INTERACTIONS

    def plan(self, sheet: Sheet) -> Plan:
        plan = Plan(kind=self.kind)
        readers = self.readers(sheet, plan)
        if readers is None:
            return plan
        refs = StudentRefs(self.ctx, readers)
        whom_of = _Counterpart(refs)
        staff = staff_by_name(self.ctx.allowed_ids)
        known: set[tuple[Any, ...]] = set()
        known_surveys: set[tuple[Any, ...]] = set()
        for part in chunks(sorted(refs.ids)):
            known |= set(Interaction.objects.filter(student_id__in=part).values_list(
                "student_id", "occurred_at", "channel", "with_whom"))
            known_surveys |= set(SatisfactionSurvey.objects.filter(
                student_id__in=part).values_list("student_id", "surveyed_at", "respondent"))
        texts: dict[int, tuple[str, str]] = {}
        seen: dict[tuple[Any, ...], int] = {}
        for r in readers:
            sid = refs.resolve(r)
            day = r.get("occurred_on", parsing.date, not_future=True)
            channel = r.get("channel", parsing.contact_channel)
            rating = r.get("satisfaction", parsing.satisfaction)
            follow = r.get("next_follow_up", parsing.date)
            if r.errors or sid is None:
                continue
            whom, parent_id = whom_of(r, "with_whom", sid)
            at = _at(day)
            key = (sid, at, channel, whom)
            if key in seen:
                r.error("occurred_on", _("Duplicate of row %(row)s.") % {"row": seen[key]})
                continue
            seen[key] = r.row
            if key in known:
                texts[r.row] = (Action.MATCH, _("visit already recorded"))
                continue
            staff_raw = parsing.text(r.raw("staff"))
            staff_id = staff.get(staff_raw.lower()) if staff_raw else None
            if staff_raw and staff_id is None:
                r.warn("staff", _("No staff member “%(value)s”: recorded without who made "
                                  "the visit.") % {"value": staff_raw})
            summary = parsing.text(r.raw("summary")) or _("Visit (imported)")
            interaction = Interaction(
                student_id=sid, with_whom=whom, parent_id=parent_id, channel=channel,
                staff_id=staff_id, occurred_at=at, summary=summary, next_follow_up=follow,
                sentiment=_SENTIMENT.get(rating or 0, "neutral"))
            survey = None
            if rating is not None and (sid, at, whom) not in known_surveys:
                survey = SatisfactionSurvey(student_id=sid, respondent=whom,
                                            parent_id=parent_id, surveyed_at=at,
                                            overall=rating, comment=summary[:500])
            plan.items.append(InteractionItem(interaction, survey))
            texts[r.row] = (Action.CREATE, _("new visit on %(date)s") % {"date": day}
                            + (_(", satisfaction %(n)d/5") % {"n": rating}
                               if rating is not None else ""))
        return self.finish(plan, readers, texts)

    def apply(self, plan: Plan) -> dict[str, int]:
        n = surveys = 0
        for batch in chunks(plan.items):
            n += len(Interaction.objects.bulk_create([it.interaction for it in batch]))
            surveys += len(SatisfactionSurvey.objects.bulk_create(
                [it.survey for it in batch if it.survey is not None]))
            self.ctx.progress(n)
        return {"interactions_created": n, "surveys_created": surveys}

    def placement(self, plan: Plan) -> tuple[set[int], dict[int, Any]]:
        # satisfaction is part of the maturity test
        return {it.interaction.student_id for it in plan.items}, {}


# ------------------------------------------------------------------------ complaints
class ComplaintImporter(Importer):
    kind = ImportKind.COMPLAINTS

    def plan(self, sheet: Sheet) -> Plan:
        plan = Plan(kind=self.kind)
        readers = self.readers(sheet, plan)
        if readers is None:
            return plan
        refs = StudentRefs(self.ctx, readers)
        whom_of = _Counterpart(refs)
        branch_of = dict(Student.objects.filter(pk__in=refs.ids).values_list("pk", "branch_id"))
        sla: dict[int, dt.timedelta] = {}
        known: set[tuple[Any, ...]] = set()
        for part in chunks(sorted(refs.ids)):
            known |= set(Complaint.objects.filter(student_id__in=part).values_list(
                "student_id", "created_at", "description"))
        texts: dict[int, tuple[str, str]] = {}
        seen: dict[tuple[Any, ...], int] = {}
        now = timezone.now()
        for r in readers:
            sid = refs.resolve(r)
            day = r.get("raised_on", parsing.date, not_future=True)
            description = r.get("description")
            resolution = parsing.text(r.raw("resolution"))
            resolved_on = r.get("resolved_on", parsing.date, not_future=True)
            status = None
            if parsing.text(r.raw("status")):
                status = r.get("status", parsing.complaint_status)
            category = parsing.complaint_category(r.raw("category"))
            if r.errors or sid is None:
                continue
            if category is None:
                category = "other"
                r.warn("category", _("Unknown category “%(value)s”: recorded as other.")
                       % {"value": parsing.text(r.raw("category"))})
            status = status or ("resolved" if resolution or resolved_on else "open")
            if resolved_on and resolved_on < day:
                r.error("resolved_on", _("A complaint cannot be resolved before it was "
                                         "raised."))
                continue
            whom, parent_id = whom_of(r, "raised_by", sid)
            at = _at(day)
            key = (sid, at, description)
            if key in seen:
                r.error("description", _("Duplicate of row %(row)s.") % {"row": seen[key]})
                continue
            seen[key] = r.row
            if key in known:
                texts[r.row] = (Action.MATCH, _("complaint already recorded"))
                continue
            bid = branch_of[sid]
            if bid not in sla:
                sla[bid] = complaint_sla_due(branch=bid, raised_at=now) - now
            resolved_at = None
            if status == "resolved":
                resolved_at = _at(resolved_on or day, 18)
            plan.items.append(Complaint(
                student_id=sid, raised_by=whom, parent_id=parent_id, category=category,
                description=description, status=status, sla_due=at + sla[bid],
                created_at=at, resolved_at=resolved_at, resolution=resolution))
            texts[r.row] = (Action.CREATE, _("new complaint of %(date)s (%(status)s)")
                            % {"date": day, "status": Complaint.Status(status).label})
        return self.finish(plan, readers, texts)

    def apply(self, plan: Plan) -> dict[str, int]:
        n = 0
        for batch in chunks(plan.items):
            n += len(Complaint.objects.bulk_create(batch))
            self.ctx.progress(n)
        return {"complaints_created": n}

"""Prospects (leads): families not yet customers, with how urgent their need is.

The rows are families exactly as in the students import (same columns, layouts,
matching and PIPL checks: the StudentImporter does them); each new account then gets
its prospect row through marketing.services.prospects_create_imported (the bulk twin of
prospect_ensure: owner = the counselor column, else the branch's public pool; tier by
the policy's points).
"""
from __future__ import annotations

from typing import Any

from marketing.models import Prospect
from marketing.services.prospects import prospects_create_imported
from students.models import Student

from .. import parsing
from ..models import ImportKind
from .base import Plan, RowReader, chunks
from .students import StudentImporter, StudentItem


class ProspectImporter(StudentImporter):
    kind = ImportKind.PROSPECTS

    def _parse(self, r: RowReader, slots: list[str]) -> StudentItem | None:
        item = super()._parse(r, slots)
        urgency = r.get("urgency", parsing.urgency) or "medium"
        follow = r.get("next_follow_up", parsing.date)
        if item is None or r.errors:
            return None
        item.extra = {"urgency": urgency, "next_follow_up": follow}
        return item

    def apply(self, plan: Plan) -> dict[str, int]:
        counts: dict[str, Any] = super().apply(plan)
        ids = [it.student_id for it in plan.items]
        have: set[int] = set()
        prospecting: dict[int, Student] = {}
        for part in chunks(ids):
            have |= set(Prospect.objects.filter(student_id__in=part)
                        .values_list("student_id", flat=True))
            prospecting.update({s.pk: s for s in Student.objects.filter(
                pk__in=part, period="prospecting").select_related("source", "counselor")})
        leads = []
        for it in plan.items:
            student = prospecting.get(it.student_id)
            if student is None or it.student_id in have:
                continue  # a customer already, or a lead already
            have.add(it.student_id)
            leads.append((student, it.extra.get("urgency", "medium"),
                          it.extra.get("next_follow_up")))
        made = prospects_create_imported(leads=leads, actor=self.ctx.user)
        counts["prospects_created"] = made
        return counts


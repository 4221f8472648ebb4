"""Reads for the front-office service pages (issue #24): the follow-ups due today.

One annotated query over the students the user sees, whatever the number of rows.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from crm.permissions import scope_students
from marketing.services import OPEN_STAGES
from parents.models import Guardianship
from students.models import Interaction, Student


def follow_ups_due(user: Any, *, today: dt.date | None = None, mine: bool = False) -> QuerySet:
    """Accounts with a follow-up due today or earlier and not yet done.

    Two recorded dates count (DOMAIN.md §8: front desk and counselors call back):
    - the next follow-up of the latest visit or call: a newer contact supersedes it, so
      logging the call-back takes the account off the list;
    - an open prospect's next follow-up (marketing's pipeline).
    Rows carry contact_due, contact_summary, contact_at, prospect_due, prospect_stage,
    contact_name and contact_phone (the primary contact) as annotations.
    """
    today = today or timezone.localdate()
    latest = Interaction.objects.filter(student=OuterRef("pk")).order_by("-occurred_at", "-id")
    primary = (Guardianship.objects.filter(student=OuterRef("pk"))
               .order_by("-is_primary_contact", "-is_decision_maker", "id"))
    qs = scope_students(user, Student.objects.all())
    if mine:
        qs = qs.filter(counselor=user)
    qs = qs.annotate(
        contact_due=Subquery(latest.values("next_follow_up")[:1]),
        contact_summary=Subquery(latest.values("summary")[:1]),
        contact_at=Subquery(latest.values("occurred_at")[:1]),
        prospect_due=F("prospect__next_follow_up"),
        prospect_stage=F("prospect__stage"),
        contact_name=Subquery(primary.values("parent__name")[:1]),
        contact_phone=Subquery(primary.values("parent__phone")[:1]),
    ).filter(Q(contact_due__lte=today)
             | Q(prospect_due__lte=today, prospect_stage__in=list(OPEN_STAGES)))
    return qs.select_related("branch", "counselor__staff_profile").order_by(
        "name_pinyin", "pk")


def due_rows(students: list[Student], today: dt.date) -> list[dict[str, Any]]:
    """Shape the page: the earliest due date first, each row saying where its dates came
    from and whether it is late."""
    rows = []
    for s in students:
        prospect_due = (s.prospect_due if s.prospect_stage in OPEN_STAGES else None)
        contact_due = s.contact_due
        dates = [d for d in (contact_due, prospect_due) if d and d <= today]
        due = min(dates)
        rows.append({"student": s, "due": due, "overdue": due < today,
                     "contact_due": contact_due if contact_due and contact_due <= today
                     else None,
                     "prospect_due": prospect_due if prospect_due and prospect_due <= today
                     else None})
    rows.sort(key=lambda r: (r["due"], r["student"].name_pinyin, r["student"].pk))
    return rows

"""A teacher's iCalendar feed (RFC 5545): a secret URL their phone calendar polls.

The token in the URL is the only key (calendar apps cannot log in), so it is long,
random, one per feed, and revocable: a revoked feed answers 404 from then on.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.permissions import role_of
from crm.roles import Role
from students.models import ClassSession
from timetable.models import CalendarFeed

PAST_DAYS, FUTURE_DAYS = 60, 200


def feed_create(*, actor: Any) -> CalendarFeed:
    if role_of(actor) not in {Role.TEACHER, Role.MANAGER, Role.HEAD_OFFICE}:
        raise PermissionDenied(_("Only teaching staff have a calendar feed."))
    return CalendarFeed.objects.create(teacher=actor)


def feed_revoke(*, feed: CalendarFeed, actor: Any) -> CalendarFeed:
    if feed.teacher_id != actor.pk and role_of(actor) != Role.HEAD_OFFICE:
        raise PermissionDenied(_("Only its owner can revoke a calendar feed."))
    if feed.revoked_at is None:
        feed.revoked_at = timezone.now()
        feed.save(update_fields=["revoked_at"])
    return feed


def feed_for_token(token: str) -> CalendarFeed | None:
    return (CalendarFeed.objects.filter(token=token, revoked_at__isnull=True)
            .select_related("teacher").first())


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\n", "\\n"))


def _fold(line: str) -> list[str]:
    """RFC 5545 3.1: lines longer than 75 octets continue on a line starting with a space."""
    out, current = [], ""
    for ch in line:
        if len((current + ch).encode("utf-8")) > 75:
            out.append(current)
            current = " " + ch
        else:
            current += ch
    out.append(current)
    return out


def _stamp(day: dt.date, at: dt.time) -> str:
    local = timezone.make_aware(dt.datetime.combine(day, at))
    return local.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def feed_ics(feed: CalendarFeed, *, host: str, today: dt.date | None = None) -> str:
    """The teacher's lessons from two months back to the end of the school year."""
    today = today or timezone.localdate()
    user = feed.teacher
    lessons = (ClassSession.objects.filter(
        Q(teacher=user) | Q(teacher__isnull=True, class_group__teacher=user),
        date__range=(today - dt.timedelta(days=PAST_DAYS), today + dt.timedelta(days=FUTURE_DAYS)))
        .select_related("class_group__course", "class_group__branch").order_by("date",
                                                                                "start_time"))
    now = timezone.now().astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//k12crm//timetable//ZH",
             "CALSCALE:GREGORIAN", f"X-WR-CALNAME:{_escape(_('My lessons'))}"]
    for s in lessons:
        where = " ".join(x for x in (s.class_group.branch.name, s.room) if x)
        lines += ["BEGIN:VEVENT", f"UID:lesson-{s.pk}@{host}", f"DTSTAMP:{now}",
                  f"DTSTART:{_stamp(s.date, s.start_time)}",
                  f"DTEND:{_stamp(s.date, s.end_time)}",
                  f"SUMMARY:{_escape(s.class_group.name)}",
                  f"DESCRIPTION:{_escape(s.class_group.course.name)}",
                  f"LOCATION:{_escape(where)}", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "\r\n".join(folded for line in lines for folded in _fold(line)) + "\r\n"

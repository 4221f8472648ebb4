"""Timetable services; import from `timetable.services`."""
from .conflicts import (
    Conflict,
    ConflictError,
    ConflictKind,
    Placement,
    closed_days,
    find_conflicts,
    student_conflicts,
)
from .feeds import feed_create, feed_for_token, feed_ics, feed_revoke
from .leave import leave_makeup, leave_request, makeup_options, seats, seats_free
from .schedule import (
    GenerateResult,
    guard,
    lesson_hours,
    rule_dates,
    rule_end,
    rule_save,
    rules_generate,
    session_cancel,
    session_create,
    session_move,
    sessions_with_slots,
)

__all__ = [
    "Conflict", "ConflictError", "ConflictKind", "GenerateResult", "Placement", "closed_days",
    "feed_create", "feed_for_token", "feed_ics", "feed_revoke",
    "find_conflicts", "guard", "leave_makeup", "leave_request", "lesson_hours",
    "makeup_options", "rule_dates", "rule_end", "rule_save", "rules_generate", "seats",
    "seats_free", "session_cancel", "session_create", "session_move", "sessions_with_slots",
    "student_conflicts",
]

"""Retention tasks: which playbooks fire for an account (pure) and the task services.

DOMAIN.md §6/§8: counselors work a queue of stage-specific actions. The nightly job
opens tasks (lifecycle.pipeline); people claim, complete, skip or snooze them here.
Dedup is the database's job (one open task per account and playbook, a partial
unique constraint); the cool-down keeps a rule that keeps firing from reopening a
task just closed.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import StaffProfile
from crm.permissions import role_of, scope_by_student, scope_students, sees_all_branches
from crm.roles import Role
from crm.services import audit
from crm.text import name_of_row, name_values
from students.models import Student

from .models import Playbook, RetentionTask
from .value import Segment

SEGMENT_BONUS = {Segment.CORE: 20, Segment.MAINTAIN: 10, Segment.DEVELOP: 10,
                 Segment.ORDINARY: 0}
TASK_ROLES = frozenset({Role.COUNSELOR, Role.MANAGER, Role.HEAD_OFFICE})
# Terms start in early September and late February; families decide right after the
# June exams (zhongkao/gaokao) and the January finals (DOMAIN.md §6: new term, after exams).
TERM_WINDOWS = ((2, 20), (6, 26), (9, 1), (1, 25))


@dataclass(frozen=True)
class PlaybookRule:
    """A playbook as plain values, so matching needs no ORM."""

    id: int
    code: str
    period: str
    segment: str
    condition: str
    condition_value: float | None
    assignee: str
    due: str
    due_hours: int
    cooldown_days: int
    priority: int

    @classmethod
    def of(cls, p: Playbook) -> PlaybookRule:
        return cls(id=p.pk, code=p.code, period=p.period, segment=p.segment,
                   condition=p.condition,
                   condition_value=(float(p.condition_value)
                                    if p.condition_value is not None else None),
                   assignee=p.assignee, due=p.due, due_hours=p.due_hours,
                   cooldown_days=p.cooldown_days, priority=p.priority)


def playbooks_by_branch(branch_ids: list[int]) -> dict[int, list[PlaybookRule]]:
    """Active playbooks per branch: a branch row replaces the default row of the same code."""
    rows = list(Playbook.objects.filter(Q(branch__isnull=True) | Q(branch_id__in=branch_ids),
                                        is_active=True))
    defaults = {p.code: p for p in rows if p.branch_id is None}
    out: dict[int, list[PlaybookRule]] = {}
    for bid in branch_ids:
        mine = {**defaults, **{p.code: p for p in rows if p.branch_id == bid}}
        out[bid] = [PlaybookRule.of(p) for p in mine.values()]
    # Inactive branch rows switch a default off for that branch.
    for p in Playbook.objects.filter(branch_id__in=branch_ids, is_active=False):
        out[p.branch_id] = [r for r in out.get(p.branch_id, []) if r.code != p.code]
    return out


def fires(rule: PlaybookRule, *, period: str, segment: str, risk: int | None,
          weeks_left: float | None, attended_in_period: bool) -> bool:
    """True when the playbook applies to an account with these figures."""
    if rule.period != period or (rule.segment and rule.segment != segment):
        return False
    if rule.condition == Playbook.Condition.FIRST_LESSON:
        return attended_in_period
    if rule.condition == Playbook.Condition.HOURS_LEFT:
        return weeks_left is not None and weeks_left <= (rule.condition_value or 0)
    if rule.condition == Playbook.Condition.AT_RISK_SCORE:
        return risk is not None and risk >= (rule.condition_value or 0)
    return True


def next_term_moment(today: dt.date) -> dt.date:
    """The next term start or post-exam moment after today (win-back timing)."""
    candidates = [dt.date(today.year + y, m, d) for y in (0, 1) for m, d in TERM_WINDOWS]
    return min(c for c in candidates if c > today)


def due_at(rule: PlaybookRule, now: dt.datetime) -> dt.datetime:
    if rule.due == Playbook.Due.NEXT_TERM:
        day = next_term_moment(timezone.localdate(now))
        return timezone.make_aware(dt.datetime.combine(day, dt.time(18, 0)))
    return now + dt.timedelta(hours=rule.due_hours)


def priority_of(rule: PlaybookRule, *, segment: str, risk: int | None) -> int:
    """Higher for riskier and more valuable accounts (DOMAIN.md §6: decide by value)."""
    return min(100, rule.priority + (risk or 0) // 4 + SEGMENT_BONUS.get(segment, 0))


def target_of(decision_style: str, guardians: list[dict], *, under_14: bool = False
              ) -> tuple[str, int | None]:
    """Whom the task talks to (DOMAIN.md §2): the decider of the account's decision style,
    and never a child under 14 directly.

    Parent-led: the deciding parent (else the primary contact); student-led: the
    student; joint: the student and the primary contact (else the decider). A student
    under 14 (Student.needs_guardian_consent: by birth date, else by grade) is reached
    through a parent whatever the style: the deciding parent, else the primary contact,
    else any guardian; with no guardian on record the task still targets "the parent"
    (without a name), so the counselor finds one rather than calling the child.
    """
    decider = next((g["parent_id"] for g in guardians if g["is_decision_maker"]), None)
    primary = next((g["parent_id"] for g in guardians if g["is_primary_contact"]), None)
    anyone = guardians[0]["parent_id"] if guardians else None
    if under_14:
        return RetentionTask.Target.PARENT, decider or primary or anyone
    if decision_style == "student_led":
        return RetentionTask.Target.STUDENT, None
    if decision_style == "parent_led":
        parent = decider or primary or anyone
        return (RetentionTask.Target.PARENT, parent) if parent else (
            RetentionTask.Target.STUDENT, None)
    parent = primary or decider or anyone
    return (RetentionTask.Target.BOTH, parent) if parent else (RetentionTask.Target.STUDENT,
                                                                None)


def branch_managers(branch_ids: list[int]) -> dict[int, int]:
    """The manager (user id) of each branch: the escalation and fallback assignee."""
    out: dict[int, int] = {}
    for bid, uid in (StaffProfile.objects.filter(branch_id__in=branch_ids, role=Role.MANAGER,
                                                 user__is_active=True)
                     .order_by("branch_id", "id").values_list("branch_id", "user_id")):
        out.setdefault(bid, uid)
    return out


# --- services ------------------------------------------------------------------------

def tasks_visible_to(user: Any, qs: QuerySet | None = None) -> QuerySet:
    """Tasks of the accounts the user sees; front desk and teachers see none."""
    qs = RetentionTask.objects.all() if qs is None else qs
    if role_of(user) not in TASK_ROLES:
        return qs.none()
    return scope_by_student(user, qs)


def _lock(task: RetentionTask, user: Any) -> RetentionTask:
    if role_of(user) not in TASK_ROLES:
        raise PermissionDenied(_("Your role does not work retention tasks."))
    locked = RetentionTask.objects.select_for_update().get(pk=task.pk)
    if not sees_all_branches(user) and not scope_students(
            user, Student.objects.filter(pk=locked.student_id)).exists():
        raise PermissionDenied(_("This account is not yours."))
    return locked


def _open(task: RetentionTask) -> None:
    if task.status != RetentionTask.Status.OPEN:
        raise ValidationError({"status": ValidationError(
            _("The task is already %(status)s.") % {"status": task.get_status_display()},
            code="closed")})


def task_claim(*, task: RetentionTask, user: Any) -> RetentionTask:
    """Take an open task into one's own queue (e.g. from the branch manager's fallback)."""
    with transaction.atomic():
        locked = _lock(task, user)
        _open(locked)
        locked.assignee = user
        locked.save(update_fields=["assignee"])
        audit(actor=user, action="lifecycle.task_claim", obj=locked, data={})
    return locked


def task_complete(*, task: RetentionTask, user: Any, outcome: str) -> RetentionTask:
    """Done, with what happened (the outcome is the point: DOMAIN.md §6 'record the reason')."""
    outcome = (outcome or "").strip()
    if not outcome:
        raise ValidationError({"outcome": ValidationError(_("Say what happened."),
                                                          code="required")})
    with transaction.atomic():
        locked = _lock(task, user)
        _open(locked)
        locked.status, locked.outcome = RetentionTask.Status.DONE, outcome
        locked.closed_at, locked.closed_by = timezone.now(), user
        locked.save(update_fields=["status", "outcome", "closed_at", "closed_by"])
        audit(actor=user, action="lifecycle.task_complete", obj=locked, data={})
    return locked


def task_skip(*, task: RetentionTask, user: Any, reason: str) -> RetentionTask:
    """Closed without doing it; the reason is required (and the cool-down still applies)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ValidationError(_("Say why the task is skipped."),
                                                         code="required")})
    with transaction.atomic():
        locked = _lock(task, user)
        _open(locked)
        locked.status, locked.skip_reason = RetentionTask.Status.SKIPPED, reason[:200]
        locked.closed_at, locked.closed_by = timezone.now(), user
        locked.save(update_fields=["status", "skip_reason", "closed_at", "closed_by"])
        audit(actor=user, action="lifecycle.task_skip", obj=locked, data={"reason": reason})
    return locked


def task_snooze(*, task: RetentionTask, user: Any, until: dt.date, reason: str
                ) -> RetentionTask:
    """Put off until a date (still open, so no duplicate appears); due moves to that date."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ValidationError(_("Say why the task is put off."),
                                                         code="required")})
    today = timezone.localdate()
    if until <= today:
        raise ValidationError({"until": ValidationError(_("Choose a day after today."),
                                                        code="invalid")})
    if until > today + dt.timedelta(days=180):
        raise ValidationError({"until": ValidationError(
            _("A task can be put off by at most 180 days."), code="invalid")})
    with transaction.atomic():
        locked = _lock(task, user)
        _open(locked)
        locked.snoozed_until, locked.snooze_reason = until, reason[:200]
        locked.due_at = timezone.make_aware(dt.datetime.combine(until, dt.time(18, 0)))
        locked.escalated_at = None
        locked.save(update_fields=["snoozed_until", "snooze_reason", "due_at", "escalated_at"])
        audit(actor=user, action="lifecycle.task_snooze", obj=locked,
              data={"until": until.isoformat(), "reason": reason})
    return locked


def escalate_overdue_tasks(*, now: dt.datetime | None = None,
                           branch_id: int | None = None) -> int:
    """Open tasks past due go to the branch manager (set-based: one UPDATE per branch).

    Idempotent: an escalated task keeps its stamp; a snooze clears it.
    """
    now = now or timezone.now()
    overdue = RetentionTask.objects.filter(status=RetentionTask.Status.OPEN, due_at__lt=now,
                                           escalated_at__isnull=True)
    if branch_id is not None:
        overdue = overdue.filter(branch_id=branch_id)
    branches = sorted(set(overdue.values_list("branch_id", flat=True).distinct()))
    managers = branch_managers(branches)
    total = 0
    for bid in branches:
        total += overdue.filter(branch_id=bid).update(escalated_at=now,
                                                      escalated_to_id=managers.get(bid))
    return total


def overdue_by_counselor(*, user: Any, branch_id: int | None = None) -> list[dict]:
    """Open and overdue tasks per assignee, for the manager dashboard (one grouped query)."""
    now = timezone.now()
    qs = tasks_visible_to(user).filter(status=RetentionTask.Status.OPEN)
    if branch_id is not None:
        qs = qs.filter(branch_id=branch_id)
    rows = (qs.values("assignee_id", *name_values("assignee")).annotate(
        open=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now)))
        .order_by("-overdue", "assignee__username"))
    # People read the real name (crm.text.staff_name); the login stays for API clients.
    return [{"assignee_id": r["assignee_id"], "assignee__username": r["assignee__username"],
             "assignee_name": name_of_row(r, "assignee") if r["assignee_id"] else None,
             "open": r["open"], "overdue": r["overdue"]} for r in rows]

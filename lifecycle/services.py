"""Writes of the lifecycle engine: the one door for period changes, policies and the scan.

STYLE.md §1: `account_transition` is the single door; the admin, the API, the command
and the Celery task all call it. No signals carry business rules.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Branch
from crm.permissions import role_of
from crm.roles import Role
from crm.services import audit
from students.models import Student
from webhooks.services import after_commit

from .events import publish_transitions
from .models import LifecyclePolicy, ScanRun, Transition, Trigger
from .periods import Period, is_allowed, is_win_back
from .placement import Leaving, place
from .selectors import placement_facts, policies_by_branch

# Roles that may move an account by hand (DOMAIN.md §8): counselors for their visible
# accounts, managers, head office. Front desk and teachers may not.
TRANSITION_ROLES = frozenset({Role.COUNSELOR, Role.MANAGER, Role.HEAD_OFFICE})


class TransitionConflict(ValidationError):
    """The account is no longer in the period the caller saw (someone moved it first)."""


def can_transition(user: Any) -> bool:
    return role_of(user) in TRANSITION_ROLES


def _err(field: str, message: str, code: str) -> dict[str, ValidationError]:
    """A field error that keeps its code (a plain dict message would drop it)."""
    return {field: ValidationError(message, code=code)}


def _label(period: str) -> str:
    return str(Period(period).label) if period in Period.values else period


def check_transition(*, from_period: str, to_period: str, previous_period: str = "") -> None:
    """Refuse a move the table does not allow, naming both periods (field `to_period`)."""
    if to_period not in Period.values:
        raise ValidationError(_err("to_period", _("“%(p)s” is not a lifecycle period.")
                                   % {"p": to_period}, "invalid_period"))
    if not is_allowed(from_period, to_period):
        raise ValidationError(_err(
            "to_period", _("An account cannot move from %(from)s to %(to)s.")
            % {"from": _label(from_period), "to": _label(to_period)}, "illegal_transition"))
    if (from_period == Period.AT_RISK and to_period != Period.TERMINATION
            and to_period != previous_period):
        raise ValidationError(_err(
            "to_period", _("An account at risk recovers to the period it came from "
                           "(%(prev)s), not to %(to)s.")
            % {"prev": _label(previous_period) if previous_period else "-",
               "to": _label(to_period)}, "illegal_transition"))


def account_transition(*, student: Student, to_period: str, actor: Any = None,
                       trigger: str, reason: str, evidence: dict | None = None,
                       win_back: bool = False, expected_from: str | None = None,
                       scan_run: ScanRun | None = None) -> Transition:
    """Move an account to another period and record it; the only writer of Student.period.

    Locks the student row and re-reads its period before checking the table, so two
    workers (or a worker and a person) moving the same account serialise: the second
    sees the first one's result, and is refused if its move is no longer legal or
    (with `expected_from`) if the account is no longer where the caller saw it.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_err("reason", _("Give a reason for the change."), "required"))
    if trigger not in Trigger.values:
        raise ValidationError({"trigger": _("Unknown trigger “%(t)s”.") % {"t": trigger}})
    if trigger == Trigger.IMPORT:  # placements have their own door
        raise ValidationError({"trigger": _("Only an import places an account by its "
                                            "records.")})
    manual = trigger == Trigger.MANUAL
    if manual and actor is None:
        raise ValidationError({"actor": _("A manual change needs the person making it.")})
    with transaction.atomic():
        # The lock: a concurrent mover waits here and then sees the committed period.
        locked = Student.objects.select_for_update().get(pk=student.pk)
        from_period = locked.period
        if expected_from is not None and from_period != expected_from:
            raise TransitionConflict(_err(
                "to_period", _("The account is now in %(now)s, no longer in %(was)s; "
                               "reload and try again.")
                % {"now": _label(from_period), "was": _label(expected_from)}, "conflict"))
        check_transition(from_period=from_period, to_period=to_period,
                         previous_period=locked.previous_period)
        now = timezone.now()
        if to_period == Period.AT_RISK:
            locked.previous_period = from_period
        elif from_period == Period.AT_RISK:
            locked.previous_period = ""
        locked.period = to_period
        locked.period_since = now
        if manual:
            locked._history_user = actor  # simple_history: who changed the student row
        locked.save(update_fields=["period", "previous_period", "period_since", "updated_at"])
        row = Transition.objects.create(
            student=locked, from_period=from_period, to_period=to_period, at=now,
            trigger=trigger, actor=actor if manual else None, reason=reason,
            evidence=evidence or {}, scan_run=scan_run,
            # Leaving the recovery phase for socialization is a win-back by definition.
            win_back=win_back or is_win_back(from_period, to_period),
        )
        if manual:
            audit(actor=actor, action="lifecycle.transition", obj=locked,
                  data={"from": from_period, "to": to_period, "reason": reason})
        # Webhooks: one batched callback per transaction, nothing if it rolls back.
        after_commit(publish_transitions, row.pk)
    # The caller's instance reflects the committed state.
    student.period, student.previous_period = locked.period, locked.previous_period
    student.period_since = locked.period_since
    return row


# --- placement of imported accounts ------------------------------------------------------

def accounts_place_imported(*, student_ids: set[int] | list[int],
                            leavings: dict[int, Leaving] | None = None,
                            now: dt.datetime | None = None) -> int:
    """Place imported accounts in the period their records imply (lifecycle.placement);
    the only writer of `import` transitions. Returns how many moved.

    Only accounts whose history holds nothing but import placements are placed, so a
    later file (payments after contracts, attendance after payments) refines the
    placement, while an account a rule or a person has moved since is never touched;
    a placement from the old system's leaving status is final.
    Set-based: facts for all accounts in one annotated query per branch, one bulk
    update and one bulk insert.
    """
    leavings = leavings or {}
    now = now or timezone.now()
    ids = sorted(set(student_ids))
    if not ids:
        return 0
    moved = 0
    with transaction.atomic():
        for part in (ids[i:i + 2000] for i in range(0, len(ids), 2000)):
            moved += _place_chunk(part, leavings, now)
    return moved


def _place_chunk(ids: list[int], leavings: dict[int, Leaving], now: dt.datetime) -> int:
    touched = set(Transition.objects.filter(student_id__in=ids).exclude(
        trigger=Trigger.IMPORT).values_list("student_id", flat=True))
    final = set(Transition.objects.filter(
        student_id__in=ids, trigger=Trigger.IMPORT, evidence__has_key="left_on")
        .values_list("student_id", flat=True))
    free = [i for i in ids if i not in touched and i not in final]
    # Lock in id order, like account_transition, so a concurrent mover serialises.
    locked = list(Student.objects.select_for_update().filter(pk__in=free).order_by("pk")
                  .values_list("pk", "branch_id", "period"))
    policies = policies_by_branch({bid for _pk, bid, _p in locked})
    facts = placement_facts(locked, policies=policies, now=now)
    changed: list[Student] = []
    rows: list[Transition] = []
    for pk, bid, period in locked:
        placement = place(facts[pk], policies[bid], now, leaving=leavings.get(pk))
        if placement is None or placement.to_period == period:
            continue  # never back to prospecting: a later file only adds facts
        rows.append(Transition(
            student_id=pk, from_period=period, to_period=placement.to_period,
            at=placement.at, trigger=Trigger.IMPORT, reason=placement.reason,
            evidence=placement.evidence))
        changed.append(Student(pk=pk, period=placement.to_period, previous_period="",
                               period_since=placement.at))
    if not changed:
        return 0
    # One UPDATE per (period, since): bulk_update's CASE per row costs seconds per 1,000.
    groups: dict[tuple[str, dt.datetime], list[int]] = {}
    for st in changed:
        groups.setdefault((st.period, st.period_since), []).append(st.pk)
    for (period, since), pks in groups.items():
        Student.objects.filter(pk__in=pks).update(period=period, previous_period="",
                                                  period_since=since,
                                                  updated_at=timezone.now())
    # History rows of the whole student, as simple_history records them.
    Student.history.bulk_history_create(
        list(Student.objects.filter(pk__in=[s.pk for s in changed])), update=True,
        default_change_reason="import placement")
    for t in Transition.objects.bulk_create(rows):
        after_commit(publish_transitions, t.pk)
    return len(changed)


# --- policy ----------------------------------------------------------------------------

def policy_save(*, policy: LifecyclePolicy, actor: Any, data: dict[str, Any]) -> LifecyclePolicy:
    """Create or edit a policy: validated field by field, versioned with who changed it."""
    for name, value in data.items():
        setattr(policy, name, value)
    policy.full_clean()
    policy._history_user = actor if getattr(actor, "pk", None) else None
    with transaction.atomic():
        policy.save()
        audit(actor=actor, action="lifecycle.policy", obj=policy,
              branch=policy.branch, data={k: str(v) for k, v in data.items()})
    return policy


# --- the scan ---------------------------------------------------------------------------
# The nightly job (scores, rules, retention tasks) lives in lifecycle.pipeline; these
# names stay importable from here for the command, the task, the admin and the API.
from .pipeline import MAX_STEPS, nightly_run_for, scan_lifecycle  # noqa: E402


def scan_run_create(*, branch: Branch | None = None, source: str = ScanRun.Source.SCHEDULE,
                    actor: Any = None) -> ScanRun:
    return ScanRun.objects.create(branch=branch, source=source,
                                  started_by=actor if getattr(actor, "pk", None) else None)


__all__ = ["MAX_STEPS", "account_transition", "check_transition", "nightly_run_for",
           "policy_save", "scan_lifecycle", "scan_run_create"]

"""Writes of the lifecycle engine: the one door for period changes, policies and the scan.

STYLE.md §1: `account_transition` is the single door; the admin, the API, the command
and the Celery task all call it. No signals carry business rules.
"""
from __future__ import annotations

import logging
from collections import Counter
from functools import partial
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

from .models import LifecyclePolicy, RiskState, ScanRun, Transition, Trigger
from .periods import Period, is_allowed, is_win_back
from .risk import risk_score
from .rules import decide
from .selectors import account_facts, facts_of, policies_by_branch, risk_states

logger = logging.getLogger(__name__)

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
        transaction.on_commit(partial(_after_transition, row.pk))
    # The caller's instance reflects the committed state.
    student.period, student.previous_period = locked.period, locked.previous_period
    student.period_since = locked.period_since
    return row


def _after_transition(transition_id: int) -> None:
    """Follow-up after commit. Retention tasks per period are a later issue; log for now."""
    logger.info("lifecycle transition %s committed", transition_id)


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


# --- the scan --------------------------------------------------------------------------

MAX_STEPS = 6  # the longest legal path an account can walk in one scan, plus one


def scan_run_create(*, branch: Branch | None = None, source: str = ScanRun.Source.SCHEDULE,
                    actor: Any = None) -> ScanRun:
    return ScanRun.objects.create(branch=branch, source=source,
                                  started_by=actor if getattr(actor, "pk", None) else None)


def scan_lifecycle(*, run: ScanRun | None = None, branch_id: int | None = None,
                   chunk_size: int = 500, source: str = ScanRun.Source.SCHEDULE) -> ScanRun:
    """Evaluate the rules for every account (of a branch), chunk by chunk.

    Each chunk of students (an id range) is its own transaction, so a failure loses one
    chunk, not the run; the error is recorded on the ScanRun. Idempotent: the rules
    read facts, so a second run finds nothing more to do and writes nothing.
    """
    if run is None:
        run = ScanRun.objects.create(branch_id=branch_id, source=source)
    branch_id = run.branch_id
    run.status, run.started_at = ScanRun.Status.RUNNING, timezone.now()
    run.save(update_fields=["status", "started_at"])
    moved: Counter[str] = Counter()
    errors: list[dict] = []
    scanned = 0
    students = Student.objects.all()
    if branch_id is not None:
        students = students.filter(branch_id=branch_id)
    branch_ids = sorted(set(students.values_list("branch_id", flat=True).distinct()))
    policies = policies_by_branch(branch_ids)
    for bid in branch_ids:
        last = 0
        while True:
            ids = list(students.filter(branch_id=bid, pk__gt=last).order_by("pk")
                       .values_list("pk", flat=True)[:chunk_size])
            if not ids:
                break
            lo, hi = ids[0], ids[-1]
            last = hi
            try:
                with transaction.atomic():
                    chunk_moved, chunk_errors = _scan_chunk(
                        Student.objects.filter(branch_id=bid, pk__gte=lo, pk__lte=hi),
                        policy=policies[bid], run=run)
            except Exception as exc:  # one bad chunk must not stop the others
                logger.exception("lifecycle scan chunk %s-%s failed", lo, hi)
                errors.append({"chunk": [lo, hi], "error": repr(exc)})
                continue
            scanned += len(ids)
            moved.update(chunk_moved)
            errors.extend(chunk_errors)
    run.scanned, run.moved, run.moved_total = scanned, dict(moved), sum(moved.values())
    run.errors = errors
    run.status, run.finished_at = ScanRun.Status.FINISHED, timezone.now()
    run.save(update_fields=["scanned", "moved", "moved_total", "errors", "status",
                            "finished_at"])
    return run


def _scan_chunk(qs: Any, *, policy: Any, run: ScanRun) -> tuple[Counter[str], list[dict]]:
    """Apply the rules to one chunk until nothing more fires (each pass is set-based)."""
    now = timezone.now()
    moved: Counter[str] = Counter()
    errors: list[dict] = []
    rows = list(account_facts(qs, policy=policy, now=now))
    states = risk_states(r.pk for r in rows)
    for _step in range(MAX_STEPS):
        # Before deciding, so 'clear since' is current; again after each move, so an
        # account that just entered maintenance has its state now, not on the next scan.
        _update_risk_states(rows, states, policy=policy, now=now)
        moved_ids: list[int] = []
        for row in rows:
            facts = facts_of(row, policy=policy, now=now, risk_state=states.get(row.pk))
            decision = decide(facts, policy, now)
            if decision is None:
                continue
            try:
                account_transition(
                    student=row, to_period=decision.to_period, trigger=decision.trigger,
                    reason=decision.reason, evidence=decision.evidence,
                    win_back=decision.win_back, expected_from=facts.period, scan_run=run)
            except ValidationError as exc:
                # Someone moved it meanwhile (conflict) or the move became illegal: the
                # next scan evaluates it afresh.
                errors.append({"student": row.pk, "to": decision.to_period,
                               "error": "; ".join(exc.messages)})
                continue
            moved[f"{facts.period}->{decision.to_period}"] += 1
            moved_ids.append(row.pk)
        if not moved_ids:
            break
        # Re-read the facts of the moved accounts only (history changed), set-based again.
        rows = list(account_facts(qs.filter(pk__in=moved_ids), policy=policy, now=now))
    return moved, errors


def _update_risk_states(rows: list[Any], states: dict[int, RiskState], *, policy: Any,
                        now: Any) -> None:
    """Keep each account's latest risk score and since when it is clear; write changes only."""
    new: list[RiskState] = []
    changed: list[RiskState] = []
    for row in rows:
        if row.period not in (Period.SOCIALIZATION, Period.GROWTH, Period.MATURITY,
                              Period.AT_RISK):
            continue
        facts = facts_of(row, policy=policy, now=now)
        result = risk_score(facts.figures, policy.risk)
        factors = [{"code": f.code, "value": f.value, "points": f.points}
                   for f in result.factors]
        above = result.is_at_risk(policy.risk)
        state = states.get(row.pk)
        if state is None:
            state = RiskState(student_id=row.pk, score=result.score, factors=factors,
                              clear_since=None if above else now, changed_at=now)
            states[row.pk] = state
            new.append(state)
            continue
        clear_since = None if above else (state.clear_since or now)
        if (state.score, state.factors, state.clear_since) != (result.score, factors,
                                                                clear_since):
            state.score, state.factors, state.clear_since = result.score, factors, clear_since
            state.changed_at = now
            changed.append(state)
    if new:
        RiskState.objects.bulk_create(new)
    if changed:
        RiskState.objects.bulk_update(changed, ["score", "factors", "clear_since",
                                                "changed_at"])

"""The nightly lifecycle job: figures -> scores -> rules -> retention tasks, chunk by chunk.

Why this shape (issue #4): 100,000 accounts must be scored without per-account
queries and without losing work when a worker dies.

* Chunks are id ranges of students; each chunk is one transaction that writes the
  chunk's scores, risk states, transitions, tasks and the run's counters together, so
  a crash loses at most the chunk in flight.
* Resume from DB state: an account is done for a run when its AccountScore row carries
  the run (written in the chunk's transaction); a rerun of the same run skips those, so
  every account is scored once per run however often the job is retried, redelivered
  or run twice. ScoreHistory keeps a row when an account's scores change (unique
  (student, run)): the trend, without 100,000 identical rows a night.
* Several workers share one run (`workers`, one Celery task each): worker i walks its
  own slice of the id range, then takes the others' slices from their far end until
  it meets their owners (work stealing). They lock the chunk's
  student rows with SKIP LOCKED (PostgreSQL), so two workers never score the same
  account, and the last one out finishes the run.
* Writes are set-based: INSERT ... ON CONFLICT (crm.db.upsert: COPY into a temporary
  table on PostgreSQL, bulk_create elsewhere), never bulk_update's giant CASE.
* Period moves go through services.account_transition (the single door); they are
  few per night, each locks one row.
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Max, Min, Q
from django.utils import timezone

from crm.db import fetch_rows, upsert
from crm.models import Branch
from parents.models import Guardianship
from students.models import Student

from .figures import Account, ChunkReader, branch_first_purchase_avg
from .models import (
    AccountScore,
    BranchSnapshot,
    PolicyValues,
    RetentionTask,
    RiskState,
    ScanRun,
    ScoreHistory,
    Transition,
)
from .periods import MAINTENANCE_PERIODS, Period
from .retention import (
    PlaybookRule,
    branch_managers,
    due_at,
    escalate_overdue_tasks,
    fires,
    playbooks_by_branch,
    priority_of,
    target_of,
)
from .risk import RiskPolicy, RiskResult, risk_score
from .rules import decide
from .selectors import policies_by_branch, risk_profiles
from .value import ValueResult, value_score

logger = logging.getLogger(__name__)

MAX_STEPS = 6  # the longest legal path an account can walk in one scan, plus one
TRAIL_DAYS = 8
# Test-only: seconds each chunk sleeps, so a test can kill a real worker mid-run.
CHUNK_DELAY_ENV = "LIFECYCLE_TEST_CHUNK_DELAY"


@dataclass
class RunContext:
    """What every chunk needs, read once per run (policies, playbooks, managers)."""

    now: dt.datetime
    policies: dict[int, PolicyValues]
    profiles: dict[tuple[int | None, str], RiskPolicy]
    playbooks: dict[int, list[PlaybookRule]]
    managers: dict[int, int]
    branch_avg: dict[int, float]
    reader: ChunkReader  # the chunks' reads, compiled once per run
    counters: Counter[str] = field(default_factory=Counter)

    _memo: dict[tuple[int, str], tuple[RiskPolicy, PolicyValues]] = field(
        default_factory=dict)
    _rules: dict[tuple[int, str], list[PlaybookRule]] = field(default_factory=dict)

    def _judged(self, acc: Account) -> tuple[RiskPolicy, PolicyValues]:
        """DOMAIN.md §4: at risk is judged as the period it came from (memoised per
        branch and period: a run has a handful of combinations, not 100,000)."""
        judged = acc.period if acc.period != Period.AT_RISK else acc.previous_period
        key = (acc.branch_id, judged)
        hit = self._memo.get(key)
        if hit is None:
            risk = (self.profiles.get((acc.branch_id, judged))
                    or self.profiles.get((None, judged))
                    or self.policies[acc.branch_id].risk)
            hit = self._memo[key] = (risk, replace(self.policies[acc.branch_id], risk=risk))
        return hit

    def rules_for(self, branch_id: int, period: str) -> list[PlaybookRule]:
        """The branch's playbooks for a period (memoised: most never match an account)."""
        key = (branch_id, period)
        hit = self._rules.get(key)
        if hit is None:
            hit = self._rules[key] = [r for r in self.playbooks.get(branch_id, [])
                                      if r.period == period]
        return hit

    def risk_policy(self, acc: Account) -> RiskPolicy:
        return self._judged(acc)[0]

    def policy(self, acc: Account) -> PolicyValues:
        return self._judged(acc)[1]


def run_context(branch_ids: list[int], now: dt.datetime) -> RunContext:
    policies = policies_by_branch(branch_ids)
    branch_avg = branch_first_purchase_avg(branch_ids, now=now)
    return RunContext(now=now, policies=policies, profiles=risk_profiles(branch_ids),
                      playbooks=playbooks_by_branch(branch_ids),
                      managers=branch_managers(branch_ids), branch_avg=branch_avg,
                      reader=ChunkReader(policies=policies, now=now, branch_avg=branch_avg))


def nightly_run_for(day: dt.date, *, source: str = ScanRun.Source.SCHEDULE) -> ScanRun:
    """The one nightly run of a day (created once: the key is unique)."""
    run, _created = ScanRun.objects.get_or_create(key=f"nightly:{day.isoformat()}",
                                                  defaults={"source": source})
    return run


def scan_lifecycle(*, run: ScanRun | None = None, branch_id: int | None = None,
                   chunk_size: int = 500, source: str = ScanRun.Source.SCHEDULE,
                   now: dt.datetime | None = None, worker: int = 0, workers: int = 1
                   ) -> ScanRun:
    """Run (or resume) the whole nightly job for every account (of a branch).

    Same code for the beat schedule, the task, the command, the admin action and the
    API. A finished run is returned as it is. `worker`/`workers`: this call is one of
    several cooperating on the run (see the module docstring).
    """
    if run is None:
        run = ScanRun.objects.create(branch_id=branch_id, source=source)
    if run.status == ScanRun.Status.FINISHED:
        return run
    now = now or timezone.now()
    ScanRun.objects.filter(pk=run.pk).update(
        status=ScanRun.Status.RUNNING, attempts=F("attempts") + 1,
        started_at=run.started_at or now)
    run.refresh_from_db()
    students = Student.objects.all()
    if run.branch_id is not None:
        students = students.filter(branch_id=run.branch_id)
    branch_ids = sorted(set(students.order_by().values_list("branch_id", flat=True).distinct()))
    ctx = run_context(branch_ids, now)
    delay = float(os.environ.get(CHUNK_DELAY_ENV, "0") or 0)
    fresh = run.scanned == 0 and not run.errors  # nothing committed yet: no pre-check
    for n, (lo, hi, stealing) in enumerate(_sweeps(students, worker=worker,
                                                   workers=workers)):
        cursor: int | None = None  # the last id taken, exclusive
        while True:
            # Plain id ranges: the chunk drops what the run already scored (cheap, by
            # range), so a resumed run walks its done ranges quickly.
            page = students.filter(pk__gte=lo)
            if hi is not None:
                page = page.filter(pk__lt=hi)
            if stealing:  # another worker's slice, from its far end down
                page = page.filter(pk__lt=cursor) if cursor is not None else page
                page = page.order_by("-pk")
            else:
                page = page.filter(pk__gt=cursor) if cursor is not None else page
                page = page.order_by("pk")
            ids = sorted(page.values_list("pk", flat=True)[:chunk_size])
            if not ids:
                break
            first, last = ids[0], ids[-1]
            cursor = first if stealing else last
            # Scored earlier in this run (a resume, or the owner of a slice we steal
            # from): skip without locking the rows. Only an optimisation; the chunk's
            # claim is the guard.
            if not (n == 0 and fresh) and AccountScore.objects.filter(
                    run=run, student_id__gte=first, student_id__lte=last
            ).count() >= len(ids):
                if stealing:
                    break  # met the owner, who walks up to here
                continue
            claimed = 0
            try:
                with transaction.atomic():
                    claimed = _scan_chunk(students.filter(pk__gte=first, pk__lte=last),
                                          ctx=ctx, run=run)
            except Exception as exc:  # one bad chunk must not stop the others
                logger.exception("lifecycle scan chunk %s-%s failed", first, last)
                _record_error(run, {"chunk": [first, last], "error": repr(exc)})
                claimed = -1
            if delay:
                time.sleep(delay)
            if stealing and claimed == 0:
                break  # the owner holds or has done this chunk: the rest is theirs
    if _others_still_working(students, run):
        return run  # a concurrent worker holds a chunk; the last one out finishes the run
    with transaction.atomic():
        # Two workers can both find nothing left: the run row's lock lets one finish.
        locked = ScanRun.objects.select_for_update().get(pk=run.pk)
        if locked.status == ScanRun.Status.FINISHED:
            return locked
        locked.tasks_escalated = escalate_overdue_tasks(now=now, branch_id=run.branch_id)
        refresh_snapshots(run=locked, branch_ids=branch_ids, now=now)
        return _finish(locked)


def _sweeps(students: Any, *, worker: int, workers: int
            ) -> list[tuple[int, int | None, bool]]:
    """The id ranges this worker walks, as (from, to, stealing): its own slice upwards,
    then each other worker's slice from the top down, until it meets that worker, then
    the whole range once more for what the others left between two chunks.

    Slices split the id range evenly, so cooperating workers start far apart; a worker
    that is done early takes the end of a slower one's slice (work stealing), and a
    slice whose worker died is finished by the others. Ids added during the run land in
    the last slice (open-ended).
    """
    if workers <= 1:
        return [(0, None, False)]
    bounds = students.order_by().aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        return [(0, None, False)]
    lo, hi = bounds["lo"], bounds["hi"] + 1
    step = -(-(hi - lo) // workers)

    def slice_of(i: int) -> tuple[int, int | None]:
        start = lo + step * i
        return (start, None) if start + step >= hi else (start, start + step)

    own = worker % workers
    # Last, one walk over everything: a thief stops where it meets a locked chunk, and the
    # owner may be between two chunks when the thief looks, so unscored and unlocked is
    # not yet "failed". The walk claims what is left; its done ranges cost one count each.
    return [(*slice_of(own), False)] + [
        (*slice_of((own + k) % workers), True) for k in range(1, workers)] + [
        (0, None, False)]


def _others_still_working(students: Any, run: ScanRun) -> bool:
    """True when some unscored accounts are locked by another worker's chunk right now.

    Unscored and unlocked accounts are this run's failed chunks (recorded as errors) or
    accounts added behind the workers; SQLite has no row locks and a single writer, so
    there it is always False. The usual end needs no search: no chunk failed and the
    run's counter (committed with each chunk) equals the accounts in scope.
    """
    if ScanRun.objects.filter(pk=run.pk, scanned=students.count(), errors=[]).exists():
        return False
    unscored = _unscored_ids(students, run)
    if not unscored:
        return False
    with transaction.atomic():
        free = len(list(students.filter(pk__in=unscored).select_for_update(
            skip_locked=True).values_list("pk", flat=True)))
    return free < len(unscored)


def _unscored_ids(students: Any, run: ScanRun) -> list[int]:
    """The accounts in scope this run has not scored: scored by another run, or never.

    Two plain scans, not NOT EXISTS (... run = this run): right after ANALYZE the
    planner believes a new run has no rows and picked a nested loop that compared every
    account with every score (minutes at 100,000 accounts).
    """
    elsewhere = (AccountScore.objects.filter(student__in=students.values("pk"))
                 .exclude(run=run).values_list("student_id", flat=True))
    never = students.filter(score__isnull=True).values_list("pk", flat=True)
    return sorted({*elsewhere, *never})


def _record_error(run: ScanRun, error: dict) -> None:
    with transaction.atomic():
        locked = ScanRun.objects.select_for_update().get(pk=run.pk)
        locked.errors = [*(locked.errors or []), error][-200:]
        locked.save(update_fields=["errors"])


def _finish(run: ScanRun) -> ScanRun:
    """Counts come from the rows written (DB truth), so a resumed run reports its whole work."""
    moves = Counter({f"{r['from_period']}->{r['to_period']}": r["n"] for r in
                     Transition.objects.filter(scan_run=run).values("from_period", "to_period")
                     .annotate(n=Count("pk"))})
    fresh = ScanRun.objects.get(pk=run.pk)
    fresh.moved = dict(moves)
    fresh.moved_total = sum(moves.values())
    fresh.moved_into_risk = sum(n for k, n in moves.items() if k.endswith("->at_risk"))
    fresh.moved_out_of_risk = sum(n for k, n in moves.items() if k.startswith("at_risk->"))
    # Every claimed account is scored in the transaction that counts it.
    fresh.scored = fresh.scanned
    fresh.tasks_created = RetentionTask.objects.filter(scan_run=run).count()
    fresh.tasks_escalated = run.tasks_escalated
    fresh.status, fresh.finished_at = ScanRun.Status.FINISHED, timezone.now()
    fresh.save(update_fields=["moved", "moved_total", "moved_into_risk", "moved_out_of_risk",
                              "scored", "tasks_created", "tasks_escalated", "status",
                              "finished_at"])
    return fresh


# --- one chunk ---------------------------------------------------------------------------

def _scan_chunk(qs: Any, *, ctx: RunContext, run: ScanRun) -> int:
    """Score, apply the rules and open tasks for one chunk, inside the caller's transaction.

    Returns how many accounts it claimed and scored (0: all held or done by others)."""
    now = ctx.now
    # Claim: lock the chunk's rows, skipping rows a concurrent worker holds, then drop
    # accounts this run already scored (a resumed run, or another worker that committed
    # this range and released its locks: read committed, so this later statement sees
    # that commit). Both are range scans on unique indexes; no anti-join over the table.
    # The same read of the accounts' last scores serves the trail and history later.
    ids = list(qs.select_for_update(skip_locked=True).order_by("pk")
               .values_list("pk", flat=True))
    previous: dict[int, tuple] = {}
    if ids:
        previous = {r[0]: r[1:] for r in fetch_rows(
            AccountScore.objects.filter(student_id__gte=ids[0], student_id__lte=ids[-1])
            .values_list("student_id", "run_id", "risk_trail", "period", "current_value",
                         "potential_value", "segment", "risk"), json=2)}
        ids = [i for i in ids if i not in previous or previous[i][0] != run.pk]
    if not ids:
        return 0
    wanted = set(ids)
    states = {r[0]: _State(*r) for r in fetch_rows(
        RiskState.objects.filter(student_id__gte=ids[0], student_id__lte=ids[-1]).values_list(
            "student_id", "score", "factors", "clear_since", "changed_at"), json=2)
        if r[0] in wanted}
    accounts = ctx.reader.load(ids, clear_since=_clear_since_of(states))
    changed_states: dict[int, _State] = {}
    pending = dict(accounts)
    for _step in range(MAX_STEPS):
        _refresh_risk_states(pending.values(), states, changed_states, ctx)
        moved: list[int] = []
        for acc in pending.values():
            clear_since = _clear_since(states.get(acc.id))
            facts = (acc.facts if clear_since == acc.facts.risk_clear_since
                     else replace(acc.facts, risk_clear_since=clear_since))
            decision = decide(facts, ctx.policy(acc), now, risk=_risk_of(acc, ctx))
            if decision is None:
                continue
            try:
                from .services import account_transition

                account_transition(
                    student=Student(pk=acc.id), to_period=decision.to_period,
                    trigger=decision.trigger, reason=decision.reason,
                    evidence=decision.evidence, win_back=decision.win_back,
                    expected_from=facts.period, scan_run=run)
            except ValidationError as exc:
                _record_error(run, {"student": acc.id, "to": decision.to_period,
                                    "error": "; ".join(exc.messages)})
                continue
            moved.append(acc.id)
        if not moved:
            break
        # History changed: re-read the moved accounts only, set-based again.
        pending = ctx.reader.load(moved, clear_since=_clear_since_of(states))
        accounts.update(pending)
    upsert(RiskState, [s.row() for s in changed_states.values()], conflict=["student_id"],
           update=["score", "factors", "clear_since", "changed_at"])
    scores = _write_scores(accounts, previous, ctx=ctx, run=run)
    _open_tasks(accounts, scores, ctx=ctx, run=run)
    ScanRun.objects.filter(pk=run.pk).update(scanned=F("scanned") + len(ids),
                                             chunks_done=F("chunks_done") + 1)
    return len(ids)


@dataclass(slots=True)
class _State:
    """An account's RiskState row as a chunk reads and writes it (plain rows: model
    instances for tens of thousands of accounts a night cost more than their SQL)."""

    student_id: int
    score: int
    factors: list
    clear_since: dt.datetime | None
    changed_at: dt.datetime

    def row(self) -> dict[str, Any]:
        return {"student_id": self.student_id, "score": self.score, "factors": self.factors,
                "clear_since": self.clear_since, "changed_at": self.changed_at}


def _clear_since_of(states: dict[int, _State]) -> dict[int, dt.datetime | None]:
    return {sid: state.clear_since for sid, state in states.items()}


def _clear_since(state: _State | None) -> dt.datetime | None:
    return state.clear_since if state is not None else None


def _risk_of(acc: Account, ctx: RunContext) -> RiskResult | None:
    """Scored once per loaded account: the states, the rules and the stored score share it
    (a moved account is loaded afresh, so its new period gets its own score)."""
    if not acc.risk_known:
        acc.risk = (risk_score(acc.facts.figures, ctx.risk_policy(acc))
                    if acc.period in MAINTENANCE_PERIODS else None)
        acc.risk_factors = [f.as_dict() for f in acc.risk.factors] if acc.risk else []
        acc.risk_known = True
    return acc.risk


def _refresh_risk_states(accounts: Any, states: dict[int, _State],
                         changed: dict[int, _State], ctx: RunContext) -> None:
    """Keep each maintenance account's latest risk and since when it is clear (in memory)."""
    now = ctx.now
    for acc in accounts:
        result = _risk_of(acc, ctx)
        if result is None:
            continue
        policy = ctx.risk_policy(acc)
        factors = acc.risk_factors
        above = result.is_at_risk(policy)
        state = states.get(acc.id)
        if state is None:
            state = _State(student_id=acc.id, score=result.score, factors=factors,
                           clear_since=None if above else now, changed_at=now)
            states[acc.id] = changed[acc.id] = state
            continue
        clear_since = None if above else (state.clear_since or now)
        if (state.score, state.factors, state.clear_since) != (result.score, factors,
                                                                clear_since):
            state.score, state.factors, state.clear_since = result.score, factors, clear_since
            state.changed_at = now
            changed[acc.id] = state


@functools.lru_cache(maxsize=4)
def _trail_marks(today: dt.date) -> tuple[str, str, str]:
    """Today, a week ago and the trail's horizon as ISO text (the trail's keys)."""
    return (today.isoformat(), (today - dt.timedelta(days=7)).isoformat(),
            (today - dt.timedelta(days=TRAIL_DAYS)).isoformat())


def _trail(previous: list | None, today: dt.date, score: int | None
           ) -> tuple[list, int | None]:
    """Recent daily risk scores and the score a week ago (latest at or before 7 days).

    `previous` is the stored trail, oldest first: the days of the horizon, led by the
    latest day at or before a week ago (the baseline) when it is older than that."""
    day, week, cut = _trail_marks(today)
    older: list | None = None
    recent: list[list] = []
    for entry in previous or ():
        when = entry[0]
        if when == day:
            continue  # a rerun today replaces today's score
        if when <= week:
            older = entry
        if when > cut:
            recent.append(entry)
    if score is not None:
        recent.append([day, score])
    baseline = older if older is not None else (recent[0] if len(recent) > 1 else None)
    # A baseline exactly a week old is also within the horizon: kept once.
    keep = recent if older is None or older[0] > cut else [older, *recent]
    return keep, (baseline[1] if baseline else None)


def _write_scores(accounts: dict[int, Account], previous: dict[int, tuple], *,
                  ctx: RunContext, run: ScanRun
                  ) -> dict[int, tuple[ValueResult, RiskResult | None]]:
    """Upsert each account's AccountScore (the run's done-marker) and add a ScoreHistory
    row where the scores changed since the last run (or were never stored).

    `previous`: the accounts' stored (run, trail, period, current, potential, segment,
    risk), read when the chunk was claimed."""
    now = ctx.now
    today = timezone.localdate(now)
    history: list[dict[str, Any]] = []
    latest: list[dict[str, Any]] = []
    out: dict[int, tuple[ValueResult, RiskResult | None]] = {}
    for acc in accounts.values():
        policy = ctx.policies[acc.branch_id]
        value = value_score(acc.value, policy.value)
        risk = _risk_of(acc, ctx)
        out[acc.id] = (value, risk)
        ctype = value.customer_type(acc.period)
        risk_value = risk.score if risk else None
        factors = acc.risk_factors
        before = previous.get(acc.id)
        trail, week_ago = _trail(before[1] if before else None, today, risk_value)
        row = {"student_id": acc.id, "run_id": run.pk, "scored_at": now,
               "period": acc.period, "current_value": value.current,
               "potential_value": value.potential, "segment": value.segment,
               "customer_type": ctype, "risk": risk_value, "risk_factors": factors}
        if before is None or before[2:] != (acc.period, value.current, value.potential,
                                            value.segment, risk_value):
            history.append(row)
        figures = acc.facts.figures
        weeks_left = figures.weeks_of_hours_left
        latest.append(row | {
            "branch_id": acc.branch_id, "risk_trail": trail,
            "risk_week_ago": week_ago if risk else None,
            "breakdown": value.breakdown(policy.value),
            "figures": {
                "consecutive_absences": figures.consecutive_absences,
                "attendance_rate": figures.attendance_rate,
                "attendance_baseline": figures.attendance_baseline,
                "remaining_hours": round(figures.remaining_hours, 2),
                "weeks_of_hours_left": (round(weeks_left, 1)
                                        if weeks_left is not None else None),
                "days_since_interaction": figures.days_since_interaction,
                "open_complaints": figures.open_complaints,
                "overdue_complaints": figures.overdue_complaints,
                "student_satisfaction": figures.student_satisfaction,
                "parent_satisfaction": figures.parent_satisfaction,
                "exam_slope": figures.exam_slope,
                "unpaid_contract_days": figures.unpaid_contract_days,
                "refund_requests": figures.refund_requests,
                "decision_style": figures.decision_style,
                "last_present_on": (acc.last_present_on.isoformat()
                                    if acc.last_present_on else None),
            }})
    # ON CONFLICT DO NOTHING: a concurrent or repeated chunk cannot score twice per run.
    upsert(ScoreHistory, history, conflict=["student_id", "run_id"], update=[])
    upsert(AccountScore, latest, conflict=["student_id"], update=_SCORE_UPDATE)
    return out


_SCORE_UPDATE = ["branch_id", "run_id", "scored_at", "period", "current_value",
                 "potential_value", "segment", "customer_type", "risk", "risk_factors",
                 "risk_trail", "risk_week_ago", "breakdown", "figures"]


def _open_tasks(accounts: dict[int, Account],
                scores: dict[int, tuple[ValueResult, RiskResult | None]], *,
                ctx: RunContext, run: ScanRun) -> None:
    """Open the playbooks' tasks for the chunk: dedup by constraint, cool-down by query."""
    now = ctx.now
    tz = timezone.get_current_timezone()  # once: timezone.localdate looks it up per call
    wanted: list[tuple[Account, PlaybookRule, ValueResult, RiskResult | None]] = []
    for acc in accounts.values():
        rules = ctx.rules_for(acc.branch_id, acc.period)
        if not rules:
            continue
        value, risk = scores[acc.id]
        weeks_left = acc.facts.figures.weeks_of_hours_left
        attended = bool(acc.last_present_on and acc.period_since
                        and acc.last_present_on >= acc.period_since.astimezone(tz).date())
        for rule in rules:
            if fires(rule, period=acc.period, segment=value.segment,
                     risk=risk.score if risk else None, weeks_left=weeks_left,
                     attended_in_period=attended):
                wanted.append((acc, rule, value, risk))
    if not wanted:
        return
    ids = {a.id for a, *_ in wanted}
    lo, hi = min(ids), max(ids)  # a chunk is a compact id range: range scans, no IN list
    # Most nights most tasks are already open: skip them here (one query) rather than
    # sending them to bounce off the constraint, which remains the guard against races.
    already_open: set[tuple[int, int]] = set()
    closed: dict[tuple[int, int], dt.datetime] = {}
    for sid, playbook, status, closed_at in RetentionTask.objects.filter(
            student_id__gte=lo, student_id__lte=hi).values_list(
            "student_id", "playbook_id", "status", "closed_at"):
        if status == RetentionTask.Status.OPEN:
            already_open.add((sid, playbook))
        elif closed_at is not None:
            last = closed.get((sid, playbook))
            if last is None or closed_at > last:
                closed[(sid, playbook)] = closed_at
    new = [(acc, rule, value, risk) for acc, rule, value, risk in wanted
           if (acc.id, rule.id) not in already_open
           # cool-down: just completed or skipped
           and not ((last := closed.get((acc.id, rule.id))) is not None
                    and last > now - dt.timedelta(days=rule.cooldown_days))]
    new = _worth_winning_back(new)
    if not new:
        return
    # The decider of the accounts that get a new task only (most nights, a few).
    guardians: dict[int, list[dict]] = defaultdict(list)
    for g in (Guardianship.objects.filter(student_id__in=sorted({a.id for a, *_ in new}))
              .order_by("id").values("student_id", "parent_id", "is_decision_maker",
                                     "is_primary_contact")):
        guardians[g["student_id"]].append(g)
    # Whether each is under 14 (by birth date, else grade): never addressed directly.
    today = timezone.localdate(now)
    minors = {s.pk for s in Student.objects.filter(pk__in=sorted({a.id for a, *_ in new}))
              .only("pk", "birth_date", "grade") if s.needs_guardian_consent(today)}
    tasks: list[RetentionTask] = []
    for acc, rule, value, risk in new:
        target, parent = target_of(acc.decision_style, guardians.get(acc.id, []),
                                   under_14=acc.id in minors)
        manager = ctx.managers.get(acc.branch_id)
        assignee = (manager if rule.assignee == "manager"
                    else acc.counselor_id or manager)
        tasks.append(RetentionTask(
            student_id=acc.id, branch_id=acc.branch_id, playbook_id=rule.id, target=target,
            target_parent_id=parent, assignee_id=assignee,
            priority=priority_of(rule, segment=value.segment,
                                 risk=risk.score if risk else None),
            due_at=due_at(rule, now), created_at=now, scan_run=run,
            evidence={"segment": value.segment, "current_value": value.current,
                      "potential_value": value.potential,
                      "risk": risk.score if risk else None,
                      "factors": [f.as_dict() for f in risk.factors] if risk else []}))
    # ON CONFLICT DO NOTHING against the partial unique index: an open task stays one.
    RetentionTask.objects.bulk_create(tasks, ignore_conflicts=True)


def _worth_winning_back(new: list[tuple]) -> list[tuple]:
    """Drop win-back tasks (lapsed playbooks) for accounts not worth an offer by value
    and exit reason: the same rule as win-back campaigns and the candidate list
    (marketing.selectors.win_back_eligible), one query for the chunk's lapsed accounts."""
    lapsed = {acc.id: acc.branch_id for acc, rule, *_ in new if rule.period == Period.LAPSED}
    if not lapsed:
        return new
    from marketing.selectors.analytics import win_back_eligible

    worth = set(win_back_eligible(Student.objects.filter(pk__in=sorted(lapsed)),
                                  sorted(set(lapsed.values()))).values_list("pk", flat=True))
    return [t for t in new if t[1].period != Period.LAPSED or t[0].id in worth]


# --- dashboards ---------------------------------------------------------------------------

def refresh_snapshots(*, run: ScanRun | None, branch_ids: list[int],
                      now: dt.datetime | None = None) -> int:
    """Per-branch counts for the dashboards, from grouped aggregates (one upsert).

    Patterns and the type x revenue matrix cost too much per request at scale, so they
    are stored here, through the same selectors the dashboard's live fallback runs.
    """
    from .selectors import patterns_by_branch, type_figures_by_branch

    now = now or timezone.now()
    today = timezone.localdate(now)
    per_period: dict[int, dict[str, int]] = defaultdict(dict)
    for r in (Student.objects.filter(branch_id__in=branch_ids).values("branch_id", "period")
              .annotate(n=Count("pk"))):
        per_period[r["branch_id"]][r["period"]] = r["n"]
    per_type, by_type_revenue = type_figures_by_branch(AccountScore.objects.all(), branch_ids,
                                                       whole_branches=True)
    month = now - dt.timedelta(days=30)
    tasks = {r["branch_id"]: r for r in RetentionTask.objects.filter(branch_id__in=branch_ids)
             .values("branch_id").annotate(
                 open=Count("pk", filter=Q(status=RetentionTask.Status.OPEN)),
                 overdue=Count("pk", filter=Q(status=RetentionTask.Status.OPEN,
                                              due_at__lt=now)),
                 created_30d=Count("pk", filter=Q(created_at__gte=month)),
                 done_30d=Count("pk", filter=Q(status=RetentionTask.Status.DONE,
                                               closed_at__gte=month)),
                 skipped_30d=Count("pk", filter=Q(status=RetentionTask.Status.SKIPPED,
                                                  closed_at__gte=month)))}
    by_pattern = patterns_by_branch(Student.objects.all(), branch_ids)
    type_revenue = {bid: {t: {"n": c["n"], "revenue": str(c["revenue"])}
                          for t, c in cells.items()}
                    for bid, cells in by_type_revenue.items()}
    rows = []
    for bid in Branch.objects.filter(pk__in=branch_ids).values_list("pk", flat=True):
        t = tasks.get(bid, {})
        closed = (t.get("done_30d", 0) + t.get("skipped_30d", 0))
        task_figures = {k: t.get(k, 0) for k in ("open", "overdue", "created_30d", "done_30d",
                                                 "skipped_30d")}
        task_figures["completion_rate"] = (round(t.get("done_30d", 0) / closed, 3)
                                           if closed else None)
        periods = per_period.get(bid, {})
        rows.append(BranchSnapshot(
            branch_id=bid, day=today, run=run, accounts=sum(periods.values()),
            at_risk=periods.get(Period.AT_RISK, 0), by_period=periods,
            by_type=per_type.get(bid, {}), tasks=task_figures, by_pattern=by_pattern[bid],
            type_revenue=type_revenue[bid], created_at=now))
    BranchSnapshot.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["branch", "day"],
        update_fields=["run", "accounts", "at_risk", "by_period", "by_type", "tasks",
                       "by_pattern", "type_revenue", "created_at"])
    return len(rows)

"""The nightly job: scores with explanations, history per run, tasks with dedup and
cool-down, escalation, snapshots, resume after a crash, set-based reads."""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.roles import Role
from lifecycle import pipeline
from lifecycle.figures import ChunkReader, load_accounts
from lifecycle.models import (
    AccountScore,
    BranchSnapshot,
    PolicyValues,
    RetentionTask,
    ScanRun,
    ScoreHistory,
)
from lifecycle.periods import Period
from lifecycle.retention import task_complete, task_skip
from lifecycle.selectors import account_facts, facts_of
from lifecycle.tasks import nightly_lifecycle_task
from students.models import Student
from tests.factories import (
    ComplaintFactory,
    CourseFactory,
    ExamScoreFactory,
    GuardianshipFactory,
    InteractionFactory,
    StudentFactory,
    SurveyFactory,
    staff,
)

from .conftest import attend, days_ago, paid_contract, scan

pytestmark = pytest.mark.django_db
P = Period


def absent_growth(branch, counselor=None, style="parent_led") -> Student:
    """A growth account that stopped coming after steady attendance and whose complaint
    went past its deadline: 30 (three absences; the 0% rate and the fall from 100% are
    the same roll calls, counted inside them) + 15 (open complaint) + 15 (overdue) = 60."""
    student = StudentFactory(branch=branch, period=P.GROWTH, counselor=counselor,
                             decision_style=style)
    paid_contract(student, signed_days_ago=90)
    InteractionFactory(student=student)
    attend(student, [(40, "attended"), (35, "attended"), (5, "absent"), (3, "absent"),
                     (1, "absent")])
    ComplaintFactory(student=student, sla_due=timezone.now() - dt.timedelta(days=1))
    return student


def test_scores_are_stored_with_their_breakdown_and_explained_risk(branch_a, counselor_a):
    student = absent_growth(branch_a, counselor_a)
    run = scan()
    score = AccountScore.objects.get(student=student)
    assert score.run == run and score.period == P.AT_RISK
    assert score.customer_type == f"{score.segment}.maintenance"
    assert {"indicators", "weights", "cpv", "ppv", "cut"} <= set(score.breakdown)
    assert {f["code"] for f in score.risk_factors} >= {"absences", "attendance"}
    assert score.figures["consecutive_absences"] == 3
    assert ScoreHistory.objects.filter(student=student, run=run).count() == 1
    assert run.scored == 1 and run.moved_into_risk == 1


def test_history_keeps_a_row_when_the_scores_change_and_none_when_they_do_not(
        branch_a, counselor_a):
    student = absent_growth(branch_a, counselor_a)
    first = scan()
    second = scan()  # nothing changed: scored (the run's marker), no history row
    assert AccountScore.objects.get(student=student).run == second
    assert list(ScoreHistory.objects.filter(student=student).values_list("run", flat=True)
                ) == [first.pk]
    SurveyFactory(student=student, overall=1)  # a low satisfaction adds risk points
    third = scan()
    rows = list(ScoreHistory.objects.filter(student=student).order_by("id")
                .values_list("run", "risk"))
    assert [r for r, _ in rows] == [first.pk, third.pk]
    assert rows[1][1] > rows[0][1]
    assert AccountScore.objects.get(student=student).risk == rows[1][1]


def test_an_at_risk_account_gets_a_task_for_its_counselor_aimed_at_the_decider(
        branch_a, counselor_a):
    student = absent_growth(branch_a, counselor_a, style="parent_led")
    GuardianshipFactory(student=student, is_decision_maker=False, is_primary_contact=True)
    decider = GuardianshipFactory(student=student, is_decision_maker=True,
                                  is_primary_contact=False).parent
    run = scan()
    task = RetentionTask.objects.get(student=student, playbook__code="at-risk-recovery")
    assert task.assignee == counselor_a
    assert (task.target, task.target_parent) == ("parent", decider)
    assert task.status == "open" and task.scan_run == run
    assert task.due_at <= timezone.now() + dt.timedelta(hours=48)
    assert run.tasks_created == RetentionTask.objects.count()


def test_a_student_led_account_targets_the_student(branch_a, counselor_a):
    student = absent_growth(branch_a, counselor_a, style="student_led")
    GuardianshipFactory(student=student)
    scan()
    task = RetentionTask.objects.get(student=student, playbook__code="at-risk-recovery")
    assert (task.target, task.target_parent) == ("student", None)


def test_a_child_under_14_is_never_addressed_directly_even_when_student_led(branch_a,
                                                                           counselor_a):
    student = absent_growth(branch_a, counselor_a, style="student_led")
    Student.objects.filter(pk=student.pk).update(
        grade="P4", birth_date=timezone.localdate() - dt.timedelta(days=9 * 365))
    mother = GuardianshipFactory(student=student, is_decision_maker=False,
                                 is_primary_contact=True).parent
    scan()
    task = RetentionTask.objects.get(student=student, playbook__code="at-risk-recovery")
    assert (task.target, task.target_parent) == ("parent", mother)


def test_a_child_under_14_without_a_guardian_on_record_is_still_not_the_target(
        branch_a, counselor_a):
    student = absent_growth(branch_a, counselor_a, style="joint")
    Student.objects.filter(pk=student.pk).update(grade="P3", birth_date=None)  # by grade
    scan()
    task = RetentionTask.objects.get(student=student, playbook__code="at-risk-recovery")
    assert (task.target, task.target_parent) == ("parent", None)


def test_without_a_counselor_the_branch_manager_gets_the_task(branch_a, manager_a):
    student = absent_growth(branch_a, None)
    scan()
    assert RetentionTask.objects.get(student=student,
                                     playbook__code="at-risk-recovery").assignee == manager_a


def test_rerunning_the_same_run_scores_nobody_twice_and_a_new_run_duplicates_no_task(
        branch_a, counselor_a):
    students = [absent_growth(branch_a, counselor_a) for _ in range(3)]
    run = scan(chunk_size=2)
    tasks = list(RetentionTask.objects.order_by("id").values_list("id", flat=True))
    run.status = ScanRun.Status.RUNNING
    run.save()
    again = pipeline.scan_lifecycle(run=run, chunk_size=2)
    assert AccountScore.objects.filter(run=run).count() == len(students)
    assert again.scored == len(students)
    second = scan()
    assert AccountScore.objects.filter(run=second).count() == len(students)
    assert list(RetentionTask.objects.order_by("id").values_list("id", flat=True)) == tasks
    assert second.tasks_created == 0


def test_a_closed_task_is_not_reopened_within_its_cool_down(branch_a, counselor_a):
    student = absent_growth(branch_a, counselor_a)
    scan()
    task = RetentionTask.objects.get(student=student, playbook__code="at-risk-recovery")
    task_skip(task=task, user=counselor_a, reason="家长出差，下周再联系")
    scan()
    assert not RetentionTask.objects.filter(student=student, status="open",
                                            playbook__code="at-risk-recovery").exists()
    RetentionTask.objects.filter(pk=task.pk).update(
        closed_at=timezone.now() - dt.timedelta(days=15))  # cool-down is 14 days
    scan()
    assert RetentionTask.objects.filter(student=student, status="open",
                                        playbook__code="at-risk-recovery").count() == 1


def test_completing_needs_an_outcome_and_closes_the_task(branch_a, counselor_a):
    student = absent_growth(branch_a, counselor_a)
    scan()
    task = RetentionTask.objects.get(student=student, playbook__code="at-risk-recovery")
    done = task_complete(task=task, user=counselor_a, outcome="已沟通，调整上课时间")
    assert done.status == "done" and done.closed_by == counselor_a


def test_a_core_account_at_risk_also_gets_the_branch_managers_call(branch_a, counselor_a,
                                                                  manager_a):
    from lifecycle.models import LifecyclePolicy

    LifecyclePolicy.objects.create(value_high_cut=0)  # everyone counts as high: core
    student = absent_growth(branch_a, counselor_a)
    scan()
    call = RetentionTask.objects.get(student=student, playbook__code="at-risk-manager-call")
    assert call.assignee == manager_a
    assert call.due_at <= timezone.now() + dt.timedelta(hours=24)
    assert call.priority == 100  # base 90 + risk + the core bonus, capped


def test_overdue_tasks_escalate_to_the_branch_manager_once(branch_a, counselor_a, manager_a):
    student = absent_growth(branch_a, counselor_a)
    scan()
    RetentionTask.objects.filter(student=student).update(
        due_at=timezone.now() - dt.timedelta(hours=1))
    run = scan()
    task = RetentionTask.objects.get(student=student, playbook__code="at-risk-recovery")
    assert task.escalated_to == manager_a and run.tasks_escalated >= 1
    assert scan().tasks_escalated == 0


def test_the_job_refreshes_the_branch_snapshot(branch_a, counselor_a):
    absent_growth(branch_a, counselor_a)
    StudentFactory(branch=branch_a)
    scan()
    snap = BranchSnapshot.objects.get(branch=branch_a, day=timezone.localdate())
    assert snap.accounts == 2 and snap.at_risk == 1
    assert snap.by_period == {"at_risk": 1, "prospecting": 1}
    assert sum(snap.by_type.values()) == 2
    assert snap.tasks["open"] >= 1


class Crash(BaseException):
    """Not an Exception: like a killed worker, nothing in the job catches it."""


def _crash_on_the_third_chunk(run: ScanRun) -> None:
    """Run `run` with one account a chunk until the third chunk dies (two committed)."""
    real = pipeline._scan_chunk
    calls = {"n": 0}

    def crash_on_third(qs, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise Crash
        return real(qs, **kw)

    with mock.patch.object(pipeline, "_scan_chunk", side_effect=crash_on_third), \
            pytest.raises(Crash):
        pipeline.scan_lifecycle(run=run, chunk_size=1)


def test_a_crash_mid_run_is_resumed_and_every_account_is_scored_once(branch_a, counselor_a):
    students = [absent_growth(branch_a, counselor_a) for _ in range(5)]
    run = ScanRun.objects.create()
    _crash_on_the_third_chunk(run)
    run.refresh_from_db()
    assert run.status == ScanRun.Status.RUNNING
    assert AccountScore.objects.filter(run=run).count() == 2  # two chunks committed
    resumed = pipeline.scan_lifecycle(run=run, chunk_size=1)
    assert resumed.status == ScanRun.Status.FINISHED and resumed.attempts == 2
    assert AccountScore.objects.filter(run=run).count() == len(students)
    assert resumed.scanned == len(students)
    assert RetentionTask.objects.filter(playbook__code="at-risk-recovery").count() == 5


def test_a_resumed_run_skips_its_committed_chunks_without_claiming_them(branch_a,
                                                                         counselor_a):
    students = [absent_growth(branch_a, counselor_a) for _ in range(4)]
    run = ScanRun.objects.create()
    _crash_on_the_third_chunk(run)
    with mock.patch.object(pipeline, "_scan_chunk", side_effect=pipeline._scan_chunk) as chunk:
        resumed = pipeline.scan_lifecycle(run=ScanRun.objects.get(pk=run.pk), chunk_size=1)
    # Only the two chunks never committed are claimed again.
    assert chunk.call_count == 2
    assert resumed.status == ScanRun.Status.FINISHED
    assert resumed.scanned == AccountScore.objects.filter(run=run).count() == len(students)


@pytest.mark.parametrize("workers", [2, 3])
def test_each_worker_walks_its_own_slice_then_steals_every_other_slice(branch_a, workers):
    ids = sorted(StudentFactory(branch=branch_a).pk for _ in range(7))
    qs = Student.objects.filter(pk__in=ids)
    own: list[set[int]] = []
    for worker in range(workers):
        ranges = pipeline._sweeps(qs, worker=worker, workers=workers)

        def inside(pk: int, lo: int, hi: int | None) -> bool:
            return lo <= pk and (hi is None or pk < hi)

        # Own slice, each other slice stolen, then one walk over everything.
        assert ranges[-1] == (0, None, False)
        ranges = ranges[:-1]
        assert [stealing for *_r, stealing in ranges] == [False] + [True] * (workers - 1)
        for pk in [*ids, ids[-1] + 100]:  # an account added during the run is walked too
            assert sum(inside(pk, lo, hi) for lo, hi, _s in ranges) == 1, (worker, pk)
        own.append({pk for pk in ids if inside(pk, *ranges[0][:2])})
    # The own slices split the accounts between the workers.
    assert sorted(pk for mine in own for pk in mine) == ids
    assert all(own)


@pytest.mark.django_db(transaction=True)
def test_a_worker_done_early_takes_the_end_of_a_slower_ones_slice(branch_a, counselor_a):
    """Worker 0 never runs: worker 1 does its own slice, then all of worker 0's from the
    top down, and finishes the run alone."""
    students = [absent_growth(branch_a, counselor_a) for _ in range(6)]
    run = ScanRun.objects.create()
    real = pipeline._scan_chunk
    order: list[int] = []

    def record(qs, **kw):
        order.append(min(qs.values_list("pk", flat=True)))
        return real(qs, **kw)

    with mock.patch.object(pipeline, "_scan_chunk", side_effect=record):
        finished = pipeline.scan_lifecycle(run=run, chunk_size=1, worker=1, workers=2)
    ids = sorted(s.pk for s in students)
    assert order == ids[3:] + ids[:3][::-1]  # own half upwards, the other half downwards
    assert finished.status == ScanRun.Status.FINISHED
    assert finished.scanned == AccountScore.objects.filter(run=run).count() == len(ids)


@pytest.mark.django_db(transaction=True)
def test_a_thief_that_met_the_owner_between_chunks_leaves_nothing_unscored(branch_a,
                                                                           counselor_a):
    """The thief stops at a chunk the owner holds; if the owner is between two chunks
    when the thief looks for locks, nothing is locked: the run must not finish with the
    owner's rest unscored (it did, under load on PostgreSQL: scanned 8, scored 6)."""
    students = [absent_growth(branch_a, counselor_a) for _ in range(6)]
    ids = sorted(s.pk for s in students)
    run = ScanRun.objects.create()
    real = pipeline._scan_chunk
    held = {"once": True}

    def owner_holds_the_first_stolen_chunk(qs, **kw):
        if held["once"] and min(qs.values_list("pk", flat=True)) < ids[3]:
            held["once"] = False
            return 0  # as _scan_chunk answers when skip_locked found the rows held
        return real(qs, **kw)

    with mock.patch.object(pipeline, "_scan_chunk",
                           side_effect=owner_holds_the_first_stolen_chunk):
        finished = pipeline.scan_lifecycle(run=run, chunk_size=1, worker=1, workers=2)
    assert finished.status == ScanRun.Status.FINISHED
    assert finished.scanned == finished.scored == len(ids)
    assert AccountScore.objects.filter(run=run).count() == len(ids)


def test_the_nightly_task_fired_twice_a_day_joins_one_run(branch_a):
    StudentFactory(branch=branch_a)
    first = nightly_lifecycle_task.delay().get()
    second = nightly_lifecycle_task.delay().get()
    assert first["run"] == second["run"]
    assert ScanRun.objects.count() == 1
    assert ScoreHistory.objects.count() == 1


def test_a_risk_rise_over_the_week_is_kept_for_the_flag(branch_a, counselor_a):
    student = absent_growth(branch_a, counselor_a)
    scan()
    week_ago = (timezone.localdate() - dt.timedelta(days=7)).isoformat()
    AccountScore.objects.filter(student=student).update(risk_trail=[[week_ago, 35]])
    scan()
    score = AccountScore.objects.get(student=student)
    assert score.risk_week_ago == 35 and score.risk_change == score.risk - 35
    # The baseline is exactly a week old, so also within the horizon: kept once.
    assert score.risk_trail == [[week_ago, 35], [timezone.localdate().isoformat(), score.risk]]


def test_the_trail_keeps_the_horizon_led_by_the_latest_score_of_a_week_ago():
    today = dt.date(2026, 11, 26)

    def day(n: int) -> str:
        return (today - dt.timedelta(days=n)).isoformat()

    stored = [[day(10), 20], [day(9), 25], [day(8), 30], [day(6), 40], [day(1), 50], [day(0), 55]]
    trail, week_ago = pipeline._trail(stored, today, 60)
    # day 8 is the latest at or before a week ago; day 0 is replaced by the rerun's score
    assert trail == [[day(8), 30], [day(6), 40], [day(1), 50], [day(0), 60]]
    assert week_ago == 30
    # No score a week old: the oldest of the horizon stands in once there are two.
    assert pipeline._trail([[day(3), 10]], today, 70) == ([[day(3), 10], [day(0), 70]], 10)
    assert pipeline._trail(None, today, 70) == ([[day(0), 70]], None)
    # Not a maintenance account (no score): the trail ages out, nothing is added.
    assert pipeline._trail([[day(9), 5], [day(2), 8]], today, None) == ([[day(9), 5], [day(2), 8]],
                                                                         5)


def _varied_book(branch) -> list[Student]:
    a = absent_growth(branch)
    b = StudentFactory(branch=branch, period=P.MATURITY, decision_style="student_led")
    paid_contract(b, signed_days_ago=400)
    paid_contract(b, signed_days_ago=20, is_renewal=True, paid=False)
    SurveyFactory(student=b, overall=2, respondent="student")
    ComplaintFactory(student=b, sla_due=timezone.now() - dt.timedelta(days=1))
    for i, score in enumerate([120, 110, 100, 90]):
        ExamScoreFactory(student=b, score=score,
                         exam_date=timezone.localdate() - dt.timedelta(days=100 - 20 * i))
    c = StudentFactory(branch=branch)
    return [a, b, c]


def test_a_run_reader_reads_every_chunk_as_a_fresh_read_would(branch_a, branch_b):
    """One reader serves a whole run: on PostgreSQL its reads are compiled for the first
    chunk and rerun with the next chunks' bounds, which must read those chunks only."""
    books = [_varied_book(branch_a), _varied_book(branch_b), _varied_book(branch_a)]
    now = timezone.now()
    policies = {branch_a.pk: PolicyValues(), branch_b.pk: PolicyValues(risk_window_weeks=2)}
    reader = ChunkReader(policies=policies, now=now)
    for book in books:
        ids = [s.pk for s in book]
        got = reader.load(ids)
        assert sorted(got) == sorted(ids)
        assert got == load_accounts(ids, policies=policies, now=now)
    compiled = dict(reader._compiled)
    reader.load([s.pk for s in books[0]])
    assert reader._compiled == compiled  # nothing compiled again
    assert bool(compiled) == (connection.vendor == "postgresql")


def test_the_grouped_reader_agrees_with_the_correlated_selector(branch_a):
    students = _varied_book(branch_a)
    now = timezone.now()
    policy = PolicyValues()
    grouped = load_accounts([s.pk for s in students], policies={branch_a.pk: policy}, now=now)
    for row in account_facts(Student.objects.filter(pk__in=[s.pk for s in students]),
                             policy=policy, now=now):
        old = asdict(facts_of(row, policy=policy, now=now))
        new = asdict(grouped[row.pk].facts)
        shared = set(old["figures"]) & {"consecutive_absences", "attendance_rate",
                                        "remaining_hours", "weekly_consumption",
                                        "days_since_interaction", "open_complaints",
                                        "overdue_complaints", "latest_satisfaction"}
        assert {k: new["figures"][k] for k in shared} == {k: old["figures"][k] for k in shared}
        old.pop("figures"), new.pop("figures")
        assert new == old


def test_reading_a_chunk_takes_the_same_queries_for_10_or_30_accounts(branch_a):
    def reads(n: int) -> int:
        for _ in range(n):
            _varied_book(branch_a)
        ids = list(Student.objects.values_list("pk", flat=True))
        with CaptureQueriesContext(connection) as ctx:
            accounts = load_accounts(ids, policies={}, now=timezone.now())
        assert len(accounts) == len(ids)
        return len(ctx.captured_queries)

    assert reads(3) == reads(7)


def test_front_desk_cannot_be_an_assignee_fallback(branch_a):
    """Only a manager is the fallback: a branch with none leaves the task unassigned."""
    staff(Role.FRONT_DESK, branch_a, username="fd_x")
    student = absent_growth(branch_a, None)
    scan()
    assert RetentionTask.objects.get(student=student,
                                     playbook__code="at-risk-recovery").assignee is None


def test_each_branch_reads_consumption_and_payments_over_its_own_window(branch_a, branch_b):
    """Branches with different risk windows share a chunk: each account gets its own."""
    from students.models import LedgerEntry, Payment

    now = timezone.now()
    short = PolicyValues(risk_window_weeks=2)
    accounts = []
    for branch in (branch_a, branch_b):
        student = StudentFactory(branch=branch, period=P.GROWTH)
        contract = paid_contract(student, signed_days_ago=400)
        Payment.objects.filter(contract=contract).update(paid_at=now - dt.timedelta(days=500))
        Payment.objects.create(contract=contract, amount=100, method="cash", paid_at=now)
        for days in (10, 20):
            LedgerEntry.objects.create(contract=contract, kind="consumed", hours=-2,
                                       occurred_at=now - dt.timedelta(days=days))
        accounts.append(student)
    policies = {branch_a.pk: PolicyValues(), branch_b.pk: short}
    grouped = load_accounts([s.pk for s in accounts], policies=policies, now=now)
    long_acc, short_acc = grouped[accounts[0].pk], grouped[accounts[1].pk]
    assert long_acc.facts.figures.weekly_consumption == pytest.approx(4 / 4)  # 4 h, 4 weeks
    assert short_acc.facts.figures.weekly_consumption == pytest.approx(2 / 2)  # 2 h, 2 weeks
    for student, policy in zip(accounts, (PolicyValues(), short), strict=True):
        row = account_facts(Student.objects.filter(pk=student.pk), policy=policy, now=now)[0]
        old = facts_of(row, policy=policy, now=now)
        new = grouped[student.pk].facts
        assert new.figures.weekly_consumption == old.figures.weekly_consumption
        assert new.figures.remaining_hours == old.figures.remaining_hours
    # Paid in the last year: only the recent payment, in both branches.
    assert long_acc.value.spend_365 == short_acc.value.spend_365 == 100
    assert long_acc.value.paid_total == short_acc.value.paid_total > 100


def _contract_book(branch) -> tuple[Student, Student]:
    """Two accounts whose contracts exercise every per-student contract figure.

    `ended`: an old contract before a termination, a paid trial, an underpaid renewal
    and a cancelled one. `plain`: a paid renewal and nothing else (no termination)."""
    from lifecycle.models import Transition
    from students.models import Contract, Payment

    english = CourseFactory(subject="english", unit_price=Decimal("100.00"))
    ended = StudentFactory(branch=branch, period=P.MATURITY)
    old = paid_contract(ended, signed_days_ago=500, paid=False, hours_gifted=Decimal("4"),
                        discount=Decimal("800"), status=Contract.Status.COMPLETED,
                        valid_until=days_ago(100))
    Payment.objects.create(contract=old, amount=7200, method="cash",
                           paid_at=timezone.now() - dt.timedelta(days=450))
    terminated_at = timezone.now() - dt.timedelta(days=300)
    Contract.objects.filter(pk=old.pk).update(created_at=terminated_at - dt.timedelta(days=1))
    Transition.objects.create(student=ended, from_period=P.MATURITY, to_period=P.TERMINATION,
                              at=terminated_at, trigger="risk", reason="test")
    paid_contract(ended, signed_days_ago=100, is_trial=True, course=english,
                  list_price=Decimal("200"), hours_purchased=Decimal("2"))
    renewal = paid_contract(ended, signed_days_ago=20, is_renewal=True, paid=False)
    Payment.objects.create(contract=renewal, amount=3000, method="cash", paid_at=timezone.now())
    paid_contract(ended, signed_days_ago=60, list_price=Decimal("1000"),
                  status=Contract.Status.CANCELLED)
    plain = StudentFactory(branch=branch, period=P.GROWTH)
    paid_contract(plain, signed_days_ago=200)
    paid_contract(plain, signed_days_ago=10, is_renewal=True)
    return ended, plain


@pytest.mark.parametrize("trial_counts", [False, True])
def test_the_contract_figures_of_a_chunk(branch_a, trial_counts):
    """Purchases, the episode after a termination, renewals, live contracts, money,
    subjects and the oldest underpaid contract, as the nightly reader sums them."""
    ended, plain = _contract_book(branch_a)
    policy = PolicyValues(trial_counts_as_purchase=trial_counts)
    accounts = load_accounts([ended.pk, plain.pk], policies={branch_a.pk: policy},
                             now=timezone.now())
    facts, value = accounts[ended.pk].facts, accounts[ended.pk].value
    # Paid: the old contract (before the termination), the renewal and the cancelled one;
    # the trial counts as a purchase only under that policy. The episode keeps what was
    # recorded after the termination and is not dead: the renewal (and the trial).
    assert (facts.contracts, facts.dead_contracts) == (4, 1)
    assert facts.purchases == (4 if trial_counts else 3)
    assert facts.episode_purchases == (2 if trial_counts else 1)
    assert facts.days_since_first_purchase == (100 if trial_counts else 20)
    assert facts.renewals == (1 if trial_counts else 0)  # after a termination: the episode's
    assert facts.live_contracts == 2  # the trial and the renewal: active, hours left
    assert facts.figures.remaining_hours == 40 + 2 + 40 + 40  # every ledger, dead or not
    assert facts.figures.unpaid_contract_days == 20  # the renewal: 3,000 of 8,000 paid
    assert value.paid_total == 7200 + 200 + 3000 + 1000
    assert value.spend_365 == 200 + 3000 + 1000  # the old payment is 450 days old
    assert value.contract_amount == (8000 - 800) + 8000  # paid, not a trial, not dead
    assert value.list_value == 200 * (40 + 4) + 200 * 40
    assert value.subjects_365 == 2  # english (trial, active) and math (the renewal)
    assert accounts[plain.pk].facts.renewals == 1
    assert accounts[plain.pk].facts.figures.unpaid_contract_days is None
    assert accounts[plain.pk].value.subjects_365 == 1


def test_the_exam_trend_reads_the_latest_exams_of_the_year_in_date_order(branch_a):
    """Recorded out of order, one exam over a year old: the trend is the latest five
    of the year (95, 200 days ago, is the sixth)."""
    from lifecycle.risk import exam_slope

    student = StudentFactory(branch=branch_a, period=P.MATURITY)
    by_days_ago = {400: 10, 30: 70, 150: 90, 10: 60, 90: 80, 120: 85, 200: 95}
    for days, score in by_days_ago.items():
        ExamScoreFactory(student=student, score=score, full_marks=100,
                         exam_date=timezone.localdate() - dt.timedelta(days=days))
    figures = load_accounts([student.pk], policies={}, now=timezone.now())[student.pk]
    latest_five = [by_days_ago[d] for d in (150, 120, 90, 30, 10)]
    assert figures.facts.figures.exam_slope == pytest.approx(exam_slope(latest_five))
    assert figures.facts.figures.exam_slope == pytest.approx(-7.5)

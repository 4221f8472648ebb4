"""Two workers on the same nightly run (PostgreSQL row locks): every account scored once,
the counts exact, one open task per account and playbook, the run finished by the last."""
from __future__ import annotations

import pytest

from lifecycle import pipeline
from lifecycle.models import AccountScore, RetentionTask, ScanRun, ScoreHistory

from .test_concurrency import _run
from .test_nightly import absent_growth


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("slices", [False, True], ids=["same-start", "own-slices"])
def test_two_workers_share_one_run_without_scoring_anyone_twice(postgres_only, branch_a,
                                                                counselor_a, slices):
    import importlib

    from django.apps import apps

    importlib.import_module(
        "lifecycle.migrations.0003_default_playbooks_profiles_schedule").forwards(apps, None)
    students = [absent_growth(branch_a, counselor_a) for _ in range(8)]
    run = ScanRun.objects.create()

    def worker(i: int) -> ScanRun:
        return pipeline.scan_lifecycle(run=ScanRun.objects.get(pk=run.pk), chunk_size=1,
                                       worker=i if slices else 0, workers=2)

    results = _run(lambda: worker(0), lambda: worker(1))
    assert not [r for r in results if isinstance(r, Exception)], results
    run.refresh_from_db()
    assert run.status == ScanRun.Status.FINISHED
    assert AccountScore.objects.filter(run=run).count() == len(students)
    assert ScoreHistory.objects.filter(run=run).count() == len(students)  # first scores
    assert run.scanned == run.scored == len(students)
    assert RetentionTask.objects.filter(playbook__code="at-risk-recovery").count() == \
        len(students)


@pytest.mark.django_db(transaction=True)
def test_the_command_shares_a_run_between_processes(postgres_only, branch_a, counselor_a):
    """scan_in_processes spawns real processes on the test database: same result."""
    from lifecycle.parallel import scan_in_processes

    students = [absent_growth(branch_a, counselor_a) for _ in range(6)]
    run, queries = scan_in_processes(ScanRun.objects.create(), workers=2, chunk_size=2)
    assert run.status == ScanRun.Status.FINISHED
    assert run.scanned == run.scored == len(students)
    assert AccountScore.objects.filter(run=run).count() == len(students)
    assert run.moved_into_risk == len(students) and queries > 0


@pytest.mark.django_db(transaction=True)
def test_a_failing_worker_process_is_reported_and_the_run_stays_resumable(postgres_only,
                                                                           branch_a,
                                                                           counselor_a):
    """Workers are forks: a patch made here is theirs too, so one of them can be broken."""
    from unittest import mock

    from lifecycle import parallel

    students = [absent_growth(branch_a, counselor_a) for _ in range(4)]
    run = ScanRun.objects.create()
    real = parallel.scan_lifecycle

    def broken_second_worker(**kwargs):
        if kwargs["worker"] == 1:
            raise ValueError("disk on fire")
        return real(**kwargs)

    with mock.patch.object(parallel, "scan_lifecycle", side_effect=broken_second_worker), \
            pytest.raises(RuntimeError, match=r"(?s)worker 1 failed \(exit code 1\).*disk on fire"):
        parallel.scan_in_processes(run, workers=2, chunk_size=1)
    resumed, _queries = parallel.scan_in_processes(ScanRun.objects.get(pk=run.pk),
                                                   workers=2, chunk_size=1)
    assert resumed.status == ScanRun.Status.FINISHED
    assert AccountScore.objects.filter(run=run).count() == resumed.scanned == len(students)


@pytest.mark.django_db
def test_inside_a_transaction_the_run_stays_in_this_process(branch_a, counselor_a):
    """A forked worker could not see rows this transaction has not committed."""
    from lifecycle.parallel import scan_in_processes

    students = [absent_growth(branch_a, counselor_a) for _ in range(3)]
    run, queries = scan_in_processes(ScanRun.objects.create(), workers=2, chunk_size=1)
    assert run.status == ScanRun.Status.FINISHED and queries == 0
    assert AccountScore.objects.filter(run=run).count() == len(students)


@pytest.mark.django_db
def test_unscored_accounts_are_those_of_other_runs_or_never_scored(branch_a, branch_b):
    from students.models import Student
    from tests.factories import StudentFactory

    earlier, run = ScanRun.objects.create(), ScanRun.objects.create()
    done, stale, never = (StudentFactory(branch=branch_a) for _ in range(3))
    elsewhere = StudentFactory(branch=branch_b)
    for student, by in ((done, run), (stale, earlier), (elsewhere, earlier)):
        AccountScore.objects.create(student=student, branch=student.branch, run=by,
                                    current_value=0, potential_value=0)
    everyone = Student.objects.all()
    assert pipeline._unscored_ids(everyone, run) == sorted([stale.pk, never.pk,
                                                            elsewhere.pk])
    branch = Student.objects.filter(branch=branch_a)
    assert pipeline._unscored_ids(branch, run) == sorted([stale.pk, never.pk])
    # Nothing locks them (SQLite has no row locks): failed or late, not in flight.
    assert pipeline._others_still_working(branch, run) is False


@pytest.mark.django_db(transaction=True)
def test_an_unscored_account_locked_by_another_worker_means_it_is_still_working(
        postgres_only, branch_a):
    import threading

    from django.db import connection, transaction

    from students.models import Student
    from tests.factories import StudentFactory

    run = ScanRun.objects.create()
    held, free = StudentFactory(branch=branch_a), StudentFactory(branch=branch_a)
    AccountScore.objects.create(student=free, branch=branch_a, run=run, current_value=0,
                                potential_value=0)
    locked, release = threading.Event(), threading.Event()

    def other_worker() -> None:  # holds a chunk's row lock, as a worker mid-chunk does
        try:
            with transaction.atomic():
                list(Student.objects.select_for_update().filter(pk=held.pk))
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(10)
        assert pipeline._others_still_working(Student.objects.all(), run) is True
    finally:
        release.set()
        thread.join(10)
    assert pipeline._others_still_working(Student.objects.all(), run) is False

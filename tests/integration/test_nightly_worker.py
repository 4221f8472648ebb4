"""The nightly job end to end on a real Celery worker, Redis and PostgreSQL.

Run with:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/15 \
        .venv/bin/pytest tests/integration
"""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable

import pytest
from django.db import connection
from django.utils import timezone

from crm.roles import Role
from lifecycle.models import AccountScore, RetentionTask, ScanRun, ScoreHistory
from lifecycle.periods import Period
from lifecycle.tasks import nightly_lifecycle_task, scan_lifecycle_task
from students.models import Student
from tests.factories import (
    BranchFactory,
    ComplaintFactory,
    GuardianshipFactory,
    InteractionFactory,
    StudentFactory,
    staff,
)
from tests.lifecycle.conftest import attend, paid_contract

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def wait_for(check: Callable[[], bool], timeout: float = 90.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}")


def finished(run_id: int) -> bool:
    return ScanRun.objects.filter(pk=run_id, status=ScanRun.Status.FINISHED).exists()


def seed(n: int = 1) -> tuple[list[Student], object]:
    branch = BranchFactory(code=f"w{uuid.uuid4().hex[:4]}")
    counselor = staff(Role.COUNSELOR, branch, username=f"cs_{uuid.uuid4().hex[:6]}")
    staff(Role.MANAGER, branch, username=f"mg_{uuid.uuid4().hex[:6]}")
    students = []
    for _ in range(n):
        s = StudentFactory(branch=branch, period=Period.GROWTH, counselor=counselor,
                           decision_style="parent_led")
        GuardianshipFactory(student=s)
        paid_contract(s, signed_days_ago=90)
        InteractionFactory(student=s)
        attend(s, [(40, "attended"), (30, "attended"), (5, "absent"), (3, "absent"),
                   (1, "absent")])
        # One fact counts once: the absences alone (30) are below the threshold; a
        # complaint past its deadline is the second fact (+15 open, +15 overdue).
        ComplaintFactory(student=s, sla_due=timezone.now() - dt.timedelta(days=1))
        students.append(s)
    return students, counselor


def test_the_nightly_job_flags_the_account_and_queues_the_counselors_task(
        celery_worker_process):
    (student,), counselor = seed()
    result = nightly_lifecycle_task.delay().get(timeout=120)
    run = ScanRun.objects.get(pk=result["run"])
    assert run.status == ScanRun.Status.FINISHED and run.key.startswith("nightly:")
    student.refresh_from_db()
    assert student.period == Period.AT_RISK
    score = AccountScore.objects.get(student=student)
    assert {f["code"] for f in score.risk_factors} >= {"absences", "attendance"}
    task = RetentionTask.objects.get(student=student, playbook__code="at-risk-recovery")
    assert task.assignee == counselor and task.target == "parent"
    assert run.moved_into_risk == 1 and run.tasks_created >= 1

    # Idempotence: the same night again joins the run; another run duplicates no task.
    again = nightly_lifecycle_task.delay().get(timeout=120)
    assert again["run"] == run.pk
    other = scan_lifecycle_task.delay().get(timeout=120)
    assert other["run"] != run.pk and other["tasks_created"] == 0
    # Both runs scored the account; the second found the same scores: no new history row.
    assert AccountScore.objects.get(student=student).run_id == other["run"]
    assert ScoreHistory.objects.filter(student=student).count() == 1
    assert RetentionTask.objects.filter(student=student, status="open").count() == \
        RetentionTask.objects.filter(student=student).count()
    assert RetentionTask.objects.filter(student=student,
                                        playbook__code="at-risk-recovery").count() == 1


def _start_worker(queue: str, **env: str) -> subprocess.Popen:
    db = connection.settings_dict
    full_env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:"
                        f"{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DJANGO_SETTINGS_MODULE": "crm.settings",
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "crm", "worker", "-Q", queue, "-c", "1",
         "-P", "solo", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-n", f"{queue}-{uuid.uuid4().hex[:4]}@%h", "-l", "WARNING"],
        env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_worker_killed_mid_run_loses_nothing_and_the_rerun_scores_everyone_once(
        celery_worker_process):
    students, _ = seed(8)
    run = ScanRun.objects.create(source=ScanRun.Source.API)
    queue = f"crash-{uuid.uuid4().hex[:8]}"
    # Slow chunks (test-only env) so the kill lands mid-run; short visibility timeout so
    # Redis redelivers the unacknowledged message to the next worker.
    slow = _start_worker(queue, LIFECYCLE_TEST_CHUNK_DELAY="1.0",
                         CELERY_VISIBILITY_TIMEOUT="5")
    try:
        scan_lifecycle_task.apply_async(kwargs={"run_id": run.pk, "chunk_size": 1},
                                        queue=queue)
        wait_for(lambda: ScanRun.objects.get(pk=run.pk).chunks_done >= 2, 60,
                 "two chunks to commit")
        slow.send_signal(signal.SIGKILL)
        slow.wait(timeout=10)
    finally:
        if slow.poll() is None:
            slow.kill()
    run.refresh_from_db()
    assert run.status == ScanRun.Status.RUNNING
    assert 2 <= AccountScore.objects.filter(run=run).count() < len(students)

    fresh = _start_worker(queue, CELERY_VISIBILITY_TIMEOUT="5")
    try:
        # The operator's rerun; the redelivered message may arrive too: both resume the
        # same run and neither scores an account twice.
        scan_lifecycle_task.apply_async(kwargs={"run_id": run.pk, "chunk_size": 1},
                                        queue=queue)
        wait_for(lambda: finished(run.pk), 120, "the resumed run to finish")
    finally:
        fresh.terminate()
        fresh.wait(timeout=20)
    run.refresh_from_db()
    assert run.attempts >= 2
    assert AccountScore.objects.filter(run=run).count() == len(students)
    assert run.scored == len(students) and run.scanned == len(students)
    assert RetentionTask.objects.filter(playbook__code="at-risk-recovery").count() == \
        len(students)
    assert Student.objects.filter(period=Period.AT_RISK).count() == len(students)

"""Two workers on the same nightly run (PostgreSQL row locks): every account scored once,
the counts exact, one open task per account and playbook, the run finished by the last."""
from __future__ import annotations

import pytest

from lifecycle import pipeline
from lifecycle.models import RetentionTask, ScanRun, ScoreHistory

from .test_concurrency import _run
from .test_nightly import absent_growth


@pytest.mark.django_db(transaction=True)
def test_two_workers_share_one_run_without_scoring_anyone_twice(postgres_only, branch_a,
                                                                counselor_a):
    import importlib

    from django.apps import apps

    importlib.import_module(
        "lifecycle.migrations.0003_default_playbooks_profiles_schedule").forwards(apps, None)
    students = [absent_growth(branch_a, counselor_a) for _ in range(8)]
    run = ScanRun.objects.create()

    def worker() -> ScanRun:
        return pipeline.scan_lifecycle(run=ScanRun.objects.get(pk=run.pk), chunk_size=1)

    results = _run(worker, worker)
    assert not [r for r in results if isinstance(r, Exception)], results
    run.refresh_from_db()
    assert run.status == ScanRun.Status.FINISHED
    assert ScoreHistory.objects.filter(run=run).count() == len(students)
    assert run.scanned == run.scored == len(students)
    assert RetentionTask.objects.filter(playbook__code="at-risk-recovery").count() == \
        len(students)

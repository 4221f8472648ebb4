"""The scan: idempotent, chunked, recorded in ScanRun, same code for command and task."""
from __future__ import annotations

from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lifecycle import pipeline
from lifecycle.models import RiskState, ScanRun, Transition
from lifecycle.periods import Period
from lifecycle.tasks import scan_lifecycle_task
from students.models import Refund
from tests.factories import ComplaintFactory, StudentFactory

from .conftest import attend, paid_contract, scan

pytestmark = pytest.mark.django_db
P = Period


def _mixed_book(branch=None) -> list:
    """Accounts that the rules move in different ways in one scan."""
    kw = {"branch": branch} if branch else {}
    buyer = StudentFactory(**kw)
    paid_contract(buyer)
    renewer = StudentFactory(period=P.SOCIALIZATION, **kw)
    paid_contract(renewer)
    paid_contract(renewer, signed_days_ago=1, is_renewal=True)
    refunder = StudentFactory(period=P.GROWTH, **kw)
    contract = paid_contract(refunder)
    Refund.objects.create(contract=contract, reason="x", requested_at=contract.created_at)
    absent = StudentFactory(period=P.MATURITY, **kw)
    paid_contract(absent)
    attend(absent, [(1, "absent"), (2, "absent"), (3, "absent")])
    # 30 (absences, the 0% rate counted inside) + 10 (no contact) + 15 (open complaint)
    ComplaintFactory(student=absent)
    idle = StudentFactory(**kw)
    return [buyer, renewer, refunder, absent, idle]


def test_a_scan_records_its_run_with_counts_by_transition():
    _mixed_book()
    run = scan()
    run.refresh_from_db()
    assert run.status == ScanRun.Status.FINISHED
    assert run.scanned == 5
    assert run.moved == {"prospecting->socialization": 1, "socialization->growth": 1,
                         "growth->termination": 1, "maturity->at_risk": 1}
    assert run.moved_total == 4
    assert run.errors == []
    assert run.started_at <= run.finished_at
    assert Transition.objects.filter(scan_run=run).count() == 4


def test_running_the_scan_twice_changes_nothing_the_second_time():
    students = _mixed_book()
    scan()
    history = list(Transition.objects.order_by("id").values_list("id", flat=True))
    states = list(RiskState.objects.order_by("id").values("student", "score", "clear_since",
                                                          "changed_at"))
    periods = {s.pk: s.period for s in StudentFactory._meta.model.objects.all()}
    second = scan()
    assert second.moved == {}
    assert second.moved_total == 0
    assert list(Transition.objects.order_by("id").values_list("id", flat=True)) == history
    assert list(RiskState.objects.order_by("id").values("student", "score", "clear_since",
                                                        "changed_at")) == states
    assert {s.pk: s.period for s in StudentFactory._meta.model.objects.all()} == periods
    assert len(students) == second.scanned


def test_one_scan_walks_an_account_as_far_as_the_facts_go():
    """A prospect whose contract was already renewed ends in growth after one scan."""
    student = StudentFactory()
    paid_contract(student, signed_days_ago=40)
    paid_contract(student, signed_days_ago=5, is_renewal=True)
    run = scan()
    student.refresh_from_db()
    assert student.period == P.GROWTH
    assert run.moved == {"prospecting->socialization": 1, "socialization->growth": 1}


def test_the_branch_filter_scans_only_that_branch(branch_a, branch_b):
    a = StudentFactory(branch=branch_a)
    paid_contract(a)
    b = StudentFactory(branch=branch_b)
    paid_contract(b)
    run = scan(branch_id=branch_a.pk)
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.period, b.period) == (P.SOCIALIZATION, P.PROSPECTING)
    assert run.scanned == 1


def test_small_chunks_give_the_same_result_as_one_chunk():
    _mixed_book()
    run = scan(chunk_size=2)
    assert run.scanned == 5
    assert run.moved_total == 4


def test_a_failing_chunk_is_recorded_and_the_others_still_run():
    first, *_ = _mixed_book()
    real = pipeline._scan_chunk
    calls = {"n": 0}

    def flaky(qs, **kw):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("boom")
        return real(qs, **kw)

    with mock.patch.object(pipeline, "_scan_chunk", side_effect=flaky):
        run = scan(chunk_size=1)
    assert len(run.errors) == 1
    assert "boom" in run.errors[0]["error"]
    assert run.scanned == 4
    first.refresh_from_db()
    assert first.period == P.PROSPECTING  # its chunk rolled back
    assert run.moved_total == 3


def test_the_figures_are_read_set_based_not_per_student():
    """Ten or thirty accounts: the same number of queries to read their figures."""
    from lifecycle.models import PolicyValues
    from lifecycle.selectors import account_facts
    from students.models import Student

    def reads(n: int) -> int:
        for _ in range(n):
            s = StudentFactory(period=P.GROWTH)
            paid_contract(s)
            attend(s, [(1, "attended"), (2, "absent")])
        with CaptureQueriesContext(connection) as ctx:
            rows = list(account_facts(Student.objects.all(), policy=PolicyValues()))
        assert len(rows) == Student.objects.count()
        return len(ctx.captured_queries)

    assert reads(10) == reads(20) == 1  # 10 accounts, then 30


def test_the_management_command_runs_the_scan_and_reports():
    student = StudentFactory()
    paid_contract(student)
    out = StringIO()
    call_command("scan_lifecycle", stdout=out)
    student.refresh_from_db()
    assert student.period == P.SOCIALIZATION
    assert "prospecting->socialization: 1" in out.getvalue()
    assert ScanRun.objects.get().source == ScanRun.Source.COMMAND


def test_the_command_filters_by_branch_code(branch_a, branch_b):
    b = StudentFactory(branch=branch_b)
    paid_contract(b)
    call_command("scan_lifecycle", "--branch", branch_a.code, stdout=StringIO())
    b.refresh_from_db()
    assert b.period == P.PROSPECTING
    assert ScanRun.objects.get().branch == branch_a


def test_the_task_runs_the_same_scan_on_a_queued_run():
    student = StudentFactory()
    paid_contract(student)
    run = ScanRun.objects.create(source=ScanRun.Source.API)
    result = scan_lifecycle_task.delay(run_id=run.pk).get()
    run.refresh_from_db()
    assert run.status == ScanRun.Status.FINISHED
    assert {k: result[k] for k in ("run", "scanned", "scored", "moved", "errors")} == {
        "run": run.pk, "scanned": 1, "scored": 1, "moved": {"prospecting->socialization": 1},
        "errors": 0}
    assert scan_lifecycle_task.name.endswith("_task")

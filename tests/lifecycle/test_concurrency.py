"""Two movers at once on PostgreSQL: the row lock serialises them, no lost update."""
from __future__ import annotations

import itertools
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from lifecycle.models import Transition
from lifecycle.periods import Period
from lifecycle.services import account_transition
from students.models import Student
from tests.factories import StudentFactory

P = Period


def _assert_history_consistent(student: Student) -> None:
    student.refresh_from_db()
    rows = list(Transition.objects.filter(student=student).order_by("id"))
    for earlier, later in itertools.pairwise(rows):
        assert later.from_period == earlier.to_period  # a chain, no fork
    assert rows[-1].to_period == student.period


def _run(*workers) -> list:
    results: list = [None] * len(workers)

    def wrap(i, fn):
        try:
            results[i] = fn()
        except Exception as exc:  # collected for the assertions
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=wrap, args=(i, fn)) for i, fn in enumerate(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_workers_making_the_same_move_only_one_wins(postgres_only):
    student = StudentFactory(period=P.SOCIALIZATION)
    holding = threading.Event()

    def first():
        with transaction.atomic():
            row = account_transition(student=Student.objects.get(pk=student.pk),
                                     to_period=P.GROWTH, trigger="renewal", reason="a")
            holding.set()
            time.sleep(0.5)  # keep the lock while the other worker arrives
        return row

    def second():
        holding.wait(5)
        # read before the first commits: it still says socialization
        stale = Student.objects.get(pk=student.pk)
        assert stale.period == P.SOCIALIZATION
        return account_transition(student=stale, to_period=P.GROWTH, trigger="renewal",
                                  reason="b")

    results = _run(first, second)
    assert isinstance(results[0], Transition)
    assert isinstance(results[1], ValidationError)  # growth -> growth, seen after the lock
    assert Transition.objects.filter(student=student).count() == 1
    _assert_history_consistent(student)


@pytest.mark.django_db(transaction=True)
def test_a_worker_and_a_person_moving_at_once_apply_in_order(postgres_only, counselor_a):
    student = StudentFactory(period=P.GROWTH, branch=counselor_a.staff_profile.branch)
    holding = threading.Event()

    def worker():
        with transaction.atomic():
            account_transition(student=Student.objects.get(pk=student.pk),
                               to_period=P.AT_RISK, trigger="risk", reason="score 60")
            holding.set()
            time.sleep(0.5)

    def person():
        holding.wait(5)
        return account_transition(student=Student.objects.get(pk=student.pk),
                                  to_period=P.TERMINATION, trigger="manual",
                                  actor=counselor_a, reason="refund asked")

    results = _run(worker, person)
    assert not any(isinstance(r, Exception) for r in results), results
    moves = list(Transition.objects.filter(student=student).order_by("id")
                 .values_list("from_period", "to_period"))
    assert moves == [(P.GROWTH, P.AT_RISK), (P.AT_RISK, P.TERMINATION)]
    _assert_history_consistent(student)


@pytest.mark.django_db(transaction=True)
def test_many_simultaneous_movers_never_fork_the_history(postgres_only):
    student = StudentFactory(period=P.SOCIALIZATION)
    start = threading.Barrier(6)

    def mover(to):
        def go():
            start.wait(5)
            return account_transition(student=Student.objects.get(pk=student.pk),
                                      to_period=to, trigger="risk", reason="race")
        return go

    results = _run(*[mover(P.GROWTH) for _ in range(3)],
                   *[mover(P.AT_RISK) for _ in range(3)])
    # Each mover either applied on top of the committed state or was refused as illegal
    # there (e.g. growth -> growth); nothing else, and every success left exactly one row.
    wins = [r for r in results if isinstance(r, Transition)]
    assert all(isinstance(r, Transition | ValidationError) for r in results), results
    assert len(wins) >= 1
    assert Transition.objects.filter(student=student).count() == len(wins)
    _assert_history_consistent(student)

"""Pattern annotation (SQL) agrees with the pure pattern_of; counts per pattern for dashboards."""
from __future__ import annotations

import pytest

from lifecycle.models import Transition
from lifecycle.periods import Pattern, Period, pattern_of
from lifecycle.selectors import (
    pattern_counts,
    pattern_of_student,
    patterns_by_branch,
    with_pattern,
    with_pattern_grouped,
)
from students.models import Student
from tests.factories import StudentFactory

from .conftest import move

pytestmark = pytest.mark.django_db
P = Period

PATHS = {
    "abort": [P.SOCIALIZATION, P.TERMINATION],
    "mid_way": [P.SOCIALIZATION, P.GROWTH, P.AT_RISK, P.TERMINATION, P.LAPSED],
    "early_exit": [P.SOCIALIZATION, P.GROWTH, P.MATURITY, P.TERMINATION],
    "long_term": [P.SOCIALIZATION, P.GROWTH, P.MATURITY],
    "long_term_at_risk": [P.SOCIALIZATION, P.GROWTH, P.MATURITY, P.AT_RISK],
    "open": [P.SOCIALIZATION, P.GROWTH],
    "prospect": [],
    "won_back": [P.SOCIALIZATION, P.GROWTH, P.MATURITY, P.TERMINATION, P.SOCIALIZATION],
    "won_back_then_lost": [P.SOCIALIZATION, P.GROWTH, P.MATURITY, P.TERMINATION,
                           P.SOCIALIZATION, P.TERMINATION],
    "won_back_to_maturity": [P.SOCIALIZATION, P.TERMINATION, P.SOCIALIZATION, P.GROWTH,
                             P.MATURITY],
    "won_back_mid_way": [P.SOCIALIZATION, P.GROWTH, P.MATURITY, P.TERMINATION,
                         P.SOCIALIZATION, P.GROWTH, P.TERMINATION],
}
EXPECTED = {
    "abort": Pattern.EARLY_ABORT, "mid_way": Pattern.MID_WAY,
    "early_exit": Pattern.EARLY_EXIT, "long_term": Pattern.LONG_TERM,
    "long_term_at_risk": Pattern.LONG_TERM, "open": None, "prospect": None,
    "won_back": None, "won_back_then_lost": Pattern.EARLY_ABORT,
    "won_back_to_maturity": Pattern.LONG_TERM, "won_back_mid_way": Pattern.MID_WAY,
}


def visited(student: Student) -> list[str]:
    rows = list(Transition.objects.filter(student=student).order_by("id"))
    return ([rows[0].from_period] + [r.to_period for r in rows]) if rows else [student.period]


@pytest.fixture
def book() -> dict[str, Student]:
    return {name: move(StudentFactory(), *path) for name, path in PATHS.items()}


def test_the_sql_pattern_matches_the_pure_function_for_every_history(book):
    annotated = dict(with_pattern(Student.objects.all()).values_list("pk", "pattern"))
    for name, student in book.items():
        assert pattern_of(visited(student)) == EXPECTED[name], name
        assert annotated[student.pk] == EXPECTED[name], name


def test_the_grouped_pattern_matches_the_per_row_one_for_every_history(book):
    grouped = dict(with_pattern_grouped(Student.objects.all()).values_list("pk", "pattern"))
    for name, student in book.items():
        assert grouped[student.pk] == EXPECTED[name], name


def test_patterns_by_branch_counts_each_branch_from_the_grouped_rule(book):
    other = StudentFactory(period=P.MATURITY)  # no history: IV by its period alone
    expected: dict[int, dict[str, int]] = {}
    for name, student in [*book.items(), ("other", other)]:
        cell = expected.setdefault(student.branch_id,
                                   dict.fromkeys(["I", "II", "III", "IV", ""], 0))
        cell[EXPECTED.get(name, Pattern.LONG_TERM) or ""] += 1
    counts = patterns_by_branch(Student.objects.all(), list(expected))
    assert counts == expected
    # Branches not asked for are not counted; asked-for empty branches are all zeros.
    only = patterns_by_branch(Student.objects.all(), [other.branch_id])
    assert only == {other.branch_id: {"I": 0, "II": 0, "III": 0, "IV": 1, "": 0}}
    assert patterns_by_branch(Student.objects.all(), []) == {}
    assert patterns_by_branch(Student.objects.none(), [other.branch_id]) == {
        other.branch_id: {"I": 0, "II": 0, "III": 0, "IV": 0, "": 0}}


def test_one_accounts_pattern_can_be_read_alone(book):
    assert pattern_of_student(book["early_exit"]) == Pattern.EARLY_EXIT
    assert pattern_of_student(book["open"]) is None


def test_an_account_created_in_maturity_without_history_is_long_term():
    student = StudentFactory(period=P.MATURITY)
    assert pattern_of_student(student) == Pattern.LONG_TERM


def test_pattern_counts_give_accounts_per_pattern(book):
    counts = pattern_counts(Student.objects.all())
    assert counts == {"I": 2, "II": 2, "III": 1, "IV": 3, "": 3}


def test_pattern_counts_respect_the_queryset(book):
    counts = pattern_counts(Student.objects.filter(pk=book["mid_way"].pk))
    assert counts == {"I": 0, "II": 1, "III": 0, "IV": 0, "": 0}

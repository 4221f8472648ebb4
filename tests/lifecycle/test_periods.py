"""The transition table and the lifecycle pattern: pure functions, no database."""
from __future__ import annotations

import itertools

import pytest

from lifecycle.periods import (
    Pattern,
    Period,
    Phase,
    allowed_targets,
    is_allowed,
    is_win_back,
    pattern_of,
    phase_of,
)

P = Period
# The rules, written out independently of the table under test.
EXPECTED_ALLOWED = {
    (P.PROSPECTING, P.SOCIALIZATION),
    (P.SOCIALIZATION, P.GROWTH), (P.SOCIALIZATION, P.AT_RISK), (P.SOCIALIZATION, P.TERMINATION),
    (P.GROWTH, P.MATURITY), (P.GROWTH, P.AT_RISK), (P.GROWTH, P.TERMINATION),
    (P.MATURITY, P.AT_RISK), (P.MATURITY, P.TERMINATION),
    (P.AT_RISK, P.SOCIALIZATION), (P.AT_RISK, P.GROWTH), (P.AT_RISK, P.MATURITY),
    (P.AT_RISK, P.TERMINATION),
    (P.TERMINATION, P.LAPSED), (P.TERMINATION, P.SOCIALIZATION),
    (P.LAPSED, P.SOCIALIZATION),
}
ALL_PAIRS = list(itertools.product(Period.values, repeat=2))


def test_there_are_seven_periods_and_49_pairs():
    assert len(Period.values) == 7
    assert len(ALL_PAIRS) == 49


@pytest.mark.parametrize(("from_period", "to_period"), ALL_PAIRS)
def test_the_table_allows_exactly_the_listed_moves(from_period, to_period):
    assert is_allowed(from_period, to_period) == ((from_period, to_period) in EXPECTED_ALLOWED)


def test_prospect_cannot_jump_to_maturity():
    assert not is_allowed(P.PROSPECTING, P.MATURITY)


def test_no_period_follows_itself():
    assert not any(is_allowed(p, p) for p in Period.values)


def test_every_period_has_a_phase():
    assert phase_of(P.PROSPECTING) == Phase.EXPECTED
    assert {phase_of(p) for p in (P.SOCIALIZATION, P.GROWTH, P.MATURITY, P.AT_RISK)} == {
        Phase.MAINTENANCE}
    assert {phase_of(p) for p in (P.TERMINATION, P.LAPSED)} == {Phase.RECOVERY}


def test_at_risk_offers_only_the_remembered_period_and_termination():
    assert allowed_targets(P.AT_RISK, P.GROWTH) == [P.GROWTH, P.TERMINATION]
    assert allowed_targets(P.AT_RISK, "") == [P.TERMINATION]


def test_other_periods_offer_their_table_row_in_period_order():
    assert allowed_targets(P.GROWTH) == [P.MATURITY, P.AT_RISK, P.TERMINATION]


def test_only_leaving_recovery_for_socialization_is_a_win_back():
    assert is_win_back(P.TERMINATION, P.SOCIALIZATION)
    assert is_win_back(P.LAPSED, P.SOCIALIZATION)
    assert not is_win_back(P.PROSPECTING, P.SOCIALIZATION)
    assert not is_win_back(P.AT_RISK, P.SOCIALIZATION)


@pytest.mark.parametrize(("visited", "expected"), [
    # I early abort: ended before leaving exploration
    ([P.PROSPECTING, P.SOCIALIZATION, P.TERMINATION], Pattern.EARLY_ABORT),
    ([P.PROSPECTING, P.SOCIALIZATION, P.AT_RISK, P.TERMINATION, P.LAPSED], Pattern.EARLY_ABORT),
    # II mid-way: ended in formation (growth)
    ([P.PROSPECTING, P.SOCIALIZATION, P.GROWTH, P.TERMINATION], Pattern.MID_WAY),
    ([P.SOCIALIZATION, P.GROWTH, P.AT_RISK, P.TERMINATION, P.LAPSED], Pattern.MID_WAY),
    # III early exit: reached stability, then left
    ([P.SOCIALIZATION, P.GROWTH, P.MATURITY, P.TERMINATION], Pattern.EARLY_EXIT),
    ([P.GROWTH, P.MATURITY, P.AT_RISK, P.TERMINATION, P.LAPSED], Pattern.EARLY_EXIT),
    # IV long-term: in stability and not left
    ([P.SOCIALIZATION, P.GROWTH, P.MATURITY], Pattern.LONG_TERM),
    ([P.GROWTH, P.MATURITY, P.AT_RISK], Pattern.LONG_TERM),
    ([P.MATURITY, P.AT_RISK, P.MATURITY], Pattern.LONG_TERM),
    # still open: no pattern yet
    ([P.PROSPECTING], None),
    ([P.PROSPECTING, P.SOCIALIZATION, P.GROWTH], None),
    ([P.SOCIALIZATION, P.AT_RISK], None),
    ([], None),
])
def test_pattern_is_classified_from_the_periods_visited(visited, expected):
    assert pattern_of(visited) == expected


def test_a_won_back_customer_starts_a_new_relationship():
    history = [P.SOCIALIZATION, P.GROWTH, P.MATURITY, P.TERMINATION, P.SOCIALIZATION]
    assert pattern_of(history) is None
    assert pattern_of([*history, P.TERMINATION]) == Pattern.EARLY_ABORT

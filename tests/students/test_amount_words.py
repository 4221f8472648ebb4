"""大写金额 on receipts: the bank examples, and every amount reads back to itself."""
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from students.amount_words import DIGITS, amount_in_words


@pytest.mark.parametrize(("amount", "words"), [
    ("0", "零元整"),
    ("1", "壹元整"),
    ("10", "壹拾元整"),
    ("15", "壹拾伍元整"),
    ("100", "壹佰元整"),
    ("1010", "壹仟零壹拾元整"),
    ("1001", "壹仟零壹元整"),
    ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
    ("1680.30", "壹仟陆佰捌拾元叁角整"),
    ("8000", "捌仟元整"),
    ("12345.67", "壹万贰仟叁佰肆拾伍元陆角柒分"),
    ("100005", "壹拾万零伍元整"),
    ("107000.53", "壹拾万柒仟元伍角叁分"),
    ("1000000", "壹佰万元整"),
    ("100000005", "壹亿零伍元整"),
    ("100010000", "壹亿零壹万元整"),
    ("1.05", "壹元零伍分"),
    ("0.05", "伍分"),
    ("0.50", "伍角整"),
    ("0.555", "伍角陆分"),
])
def test_bank_examples(amount, words):
    assert amount_in_words(Decimal(amount)) == words


def test_a_negative_or_absurd_amount_is_refused():
    with pytest.raises(ValueError):
        amount_in_words(Decimal("-1"))
    with pytest.raises(ValueError):
        amount_in_words(Decimal("1e17"))


def parse(words: str) -> Decimal:
    """Read 大写 back (a test oracle written independently of the converter)."""
    units = {"拾": 10, "佰": 100, "仟": 1000}
    total = section = digit = 0
    big = Decimal(0)
    words = words.removesuffix("整")
    yuan_part, _, rest = words.partition("元") if "元" in words else ("", "", words)
    for ch in yuan_part:
        if ch in DIGITS:
            digit = DIGITS.index(ch)
        elif ch in units:
            section += digit * units[ch]
            digit = 0
        elif ch == "万":
            total += (section + digit) * 10000
            section = digit = 0
        elif ch == "亿":
            big += (total + section + digit) * Decimal(10) ** 8
            total = section = digit = 0
    value = big + total + section + digit
    cents = digit = 0
    for ch in rest:
        if ch in DIGITS:
            digit = DIGITS.index(ch)
        elif ch == "角":
            cents += digit * 10
        elif ch == "分":
            cents += digit
    return value + Decimal(cents) / 100


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10 ** 13 - 1))
def test_every_amount_reads_back_to_itself(cents):
    amount = Decimal(cents) / 100
    words = amount_in_words(amount)
    assert parse(words) == amount
    assert ("零零" not in words and not words.startswith("零")) or words == "零元整"

"""Amounts in Chinese financial capitals (大写金额) for receipts.

Written the way banks and the 《支付结算办法》 ask: 壹贰叁 digits with 拾佰仟 / 万亿 units,
one 零 for any run of zeros inside the figure, 元 / 角 / 分, and 整 when there are no 分
("¥1,680.30" reads 壹仟陆佰捌拾元叁角整). Pure: no database, no locale.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

DIGITS = "零壹贰叁肆伍陆柒捌玖"
IN_SECTION = ("", "拾", "佰", "仟")
SECTIONS = ("", "万", "亿", "万亿")
LIMIT = Decimal("10") ** 16  # below 一万万亿: far beyond any receipt


def _section(value: int) -> str:
    """0 < value < 10000 as words; zeros inside collapse to one 零, trailing ones vanish."""
    out, started, zero = "", False, False
    for pos in range(3, -1, -1):
        digit = value // 10 ** pos % 10
        if digit == 0:
            zero = zero or started
            continue
        if zero:
            out += DIGITS[0]
            zero = False
        out += DIGITS[digit] + IN_SECTION[pos]
        started = True
    return out


def _yuan(value: int) -> str:
    sections = []
    while value:
        sections.append(value % 10000)
        value //= 10000
    out, gap = "", False
    for index in range(len(sections) - 1, -1, -1):
        part = sections[index]
        if part == 0:
            gap = gap or bool(out)
            continue
        # 壹拾万零伍: a zero section, or a section not starting at 仟, reads one 零.
        if out and (gap or part < 1000):
            out += DIGITS[0]
        out += _section(part) + SECTIONS[index]
        gap = False
    return out


def amount_in_words(amount: Decimal | int | str) -> str:
    """¥ amount -> 大写, rounded half-up to the fen. Negative amounts are refused."""
    value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if value < 0:
        raise ValueError("A receipt amount cannot be negative.")
    if value >= LIMIT:
        raise ValueError("The amount is too large to write out.")
    cents = int(value * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    if cents == 0:
        return "零元整"
    out = _yuan(yuan) + "元" if yuan else ""
    if jiao:
        out += DIGITS[jiao] + "角"
    if fen:
        if yuan and not jiao:
            out += DIGITS[0]
        out += DIGITS[fen] + "分"
    else:
        out += "整"
    return out

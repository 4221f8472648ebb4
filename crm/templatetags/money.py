"""`{{ amount|money }}`: the one way a page shows an amount of money (¥1,422,342).

Grouping and the decimal mark follow the active language's formats (crm/formats for
Simplified Chinese), so a page never hand-builds "¥" + floatformat + intcomma.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils import formats

register = template.Library()

CURRENCY = "¥"
EMPTY = "—"


def format_money(value: Any, places: int = 0) -> str:
    """¥ and the amount rounded half up to `places` decimals, grouped by thousands in the
    active language's separators; a minus sign goes before the ¥. Missing or not a
    number: a dash (a page shows no amount rather than ¥0 it does not know)."""
    if value is None or value == "":
        return EMPTY
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return EMPTY
    if not amount.is_finite():
        return EMPTY
    places = max(0, int(places))
    amount = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    text = formats.number_format(abs(amount), decimal_pos=places, use_l10n=True,
                                 force_grouping=True)
    return f"{sign}{CURRENCY}{text}"


@register.filter
def money(value: Any, places: Any = 0) -> str:
    """{{ amount|money }} -> ¥1,422,342; {{ amount|money:2 }} -> ¥1,422,342.50."""
    try:
        places = int(places)
    except (TypeError, ValueError):
        places = 0
    return format_money(value, places)

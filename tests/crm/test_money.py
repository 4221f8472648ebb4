"""The money filter: one format for every amount a page shows (¥1,422,342), following the
active language's separators."""
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from crm.templatetags.money import format_money


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_grouped_by_thousands_in_both_languages(lang):
    with translation.override(lang):
        assert format_money(Decimal("1422342")) == "¥1,422,342"
        assert format_money(1422342.4) == "¥1,422,342"
        assert format_money("999") == "¥999"
        assert format_money(0) == "¥0"


def test_rounds_half_up_and_shows_decimals_when_asked():
    with translation.override("en"):
        assert format_money(Decimal("1422341.5")) == "¥1,422,342"
        assert format_money(Decimal("2.5")) == "¥3"
        assert format_money(Decimal("1234.565"), 2) == "¥1,234.57"


def test_negative_and_missing():
    with translation.override("zh-hans"):
        assert format_money(Decimal("-1500")) == "-¥1,500"
        assert format_money(None) == "—"
        assert format_money("") == "—"
        assert format_money("abc") == "—"


def test_follows_the_locale_separators():
    """German groups with dots and marks decimals with a comma: the filter asks the
    locale, it does not hard-code the comma."""
    with translation.override("de"):
        assert format_money(Decimal("1422342.5"), 2) == "¥1.422.342,50"


def test_template_filter_in_chinese():
    tpl = Template("{% load money %}{{ a|money }} {{ b|money:2 }} {{ c|money }}")
    with translation.override("zh-hans"):
        out = tpl.render(Context({"a": Decimal("1422342"), "b": Decimal("88.5"), "c": None}))
    assert out == "¥1,422,342 ¥88.50 —"

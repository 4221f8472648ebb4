"""China's public holiday calendar as shipped (the data migration loads it).

2026: the State Council's arrangement (国务院办公厅关于2026年部分节假日安排的通知),
holidays with their 调休 working weekends. 2027: only the statutory days are certain
until that year's notice is loaded (the festival dates follow the lunar calendar); they
are marked provisional and head office adds the 调休 rows in the admin when published.
"""
from __future__ import annotations

import datetime as dt

HOLIDAY = "holiday"
WORKDAY = "workday"


def _span(first: str, last: str, name: str, kind: str = HOLIDAY,
          provisional: bool = False) -> list[tuple[dt.date, str, str, bool]]:
    day, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    out = []
    while day <= end:
        out.append((day, kind, name, provisional))
        day += dt.timedelta(days=1)
    return out


def _work(day: str, name: str) -> list[tuple[dt.date, str, str, bool]]:
    return [(dt.date.fromisoformat(day), WORKDAY, name, False)]


CN_2026 = [
    *_span("2026-01-01", "2026-01-03", "元旦"), *_work("2026-01-04", "元旦调休上班"),
    *_span("2026-02-15", "2026-02-23", "春节"),
    *_work("2026-02-14", "春节调休上班"), *_work("2026-02-28", "春节调休上班"),
    *_span("2026-04-04", "2026-04-06", "清明节"),
    *_span("2026-05-01", "2026-05-05", "劳动节"), *_work("2026-05-09", "劳动节调休上班"),
    *_span("2026-06-19", "2026-06-21", "端午节"),
    *_span("2026-09-25", "2026-09-27", "中秋节"),
    *_span("2026-10-01", "2026-10-07", "国庆节"),
    *_work("2026-09-20", "国庆节调休上班"), *_work("2026-10-10", "国庆节调休上班"),
]

# Statutory days (全国年节及纪念日放假办法, 2024 revision): 元旦 1, 春节 4 (除夕 to 初三),
# 清明 1, 劳动节 2, 端午 1, 中秋 1, 国庆 3.
CN_2027 = [
    *_span("2027-01-01", "2027-01-01", "元旦", provisional=True),
    *_span("2027-02-05", "2027-02-08", "春节", provisional=True),
    *_span("2027-04-05", "2027-04-05", "清明节", provisional=True),
    *_span("2027-05-01", "2027-05-02", "劳动节", provisional=True),
    *_span("2027-06-09", "2027-06-09", "端午节", provisional=True),
    *_span("2027-09-15", "2027-09-15", "中秋节", provisional=True),
    *_span("2027-10-01", "2027-10-03", "国庆节", provisional=True),
]

CALENDAR = CN_2026 + CN_2027

"""Load the shipped public holiday calendar: China 2026 (with 调休 working weekends) and
the statutory days of 2027 (provisional). Source and rules: timetable/holidays_cn.py; the
rows are copied here so later edits to that module cannot change what this migration did.
"""
import datetime as dt

from django.db import migrations

CALENDAR = [
    ("2026-01-01", "holiday", "元旦", False),
    ("2026-01-02", "holiday", "元旦", False),
    ("2026-01-03", "holiday", "元旦", False),
    ("2026-01-04", "workday", "元旦调休上班", False),
    ("2026-02-15", "holiday", "春节", False),
    ("2026-02-16", "holiday", "春节", False),
    ("2026-02-17", "holiday", "春节", False),
    ("2026-02-18", "holiday", "春节", False),
    ("2026-02-19", "holiday", "春节", False),
    ("2026-02-20", "holiday", "春节", False),
    ("2026-02-21", "holiday", "春节", False),
    ("2026-02-22", "holiday", "春节", False),
    ("2026-02-23", "holiday", "春节", False),
    ("2026-02-14", "workday", "春节调休上班", False),
    ("2026-02-28", "workday", "春节调休上班", False),
    ("2026-04-04", "holiday", "清明节", False),
    ("2026-04-05", "holiday", "清明节", False),
    ("2026-04-06", "holiday", "清明节", False),
    ("2026-05-01", "holiday", "劳动节", False),
    ("2026-05-02", "holiday", "劳动节", False),
    ("2026-05-03", "holiday", "劳动节", False),
    ("2026-05-04", "holiday", "劳动节", False),
    ("2026-05-05", "holiday", "劳动节", False),
    ("2026-05-09", "workday", "劳动节调休上班", False),
    ("2026-06-19", "holiday", "端午节", False),
    ("2026-06-20", "holiday", "端午节", False),
    ("2026-06-21", "holiday", "端午节", False),
    ("2026-09-25", "holiday", "中秋节", False),
    ("2026-09-26", "holiday", "中秋节", False),
    ("2026-09-27", "holiday", "中秋节", False),
    ("2026-10-01", "holiday", "国庆节", False),
    ("2026-10-02", "holiday", "国庆节", False),
    ("2026-10-03", "holiday", "国庆节", False),
    ("2026-10-04", "holiday", "国庆节", False),
    ("2026-10-05", "holiday", "国庆节", False),
    ("2026-10-06", "holiday", "国庆节", False),
    ("2026-10-07", "holiday", "国庆节", False),
    ("2026-09-20", "workday", "国庆节调休上班", False),
    ("2026-10-10", "workday", "国庆节调休上班", False),
    ("2027-01-01", "holiday", "元旦", True),
    ("2027-02-05", "holiday", "春节", True),
    ("2027-02-06", "holiday", "春节", True),
    ("2027-02-07", "holiday", "春节", True),
    ("2027-02-08", "holiday", "春节", True),
    ("2027-04-05", "holiday", "清明节", True),
    ("2027-05-01", "holiday", "劳动节", True),
    ("2027-05-02", "holiday", "劳动节", True),
    ("2027-06-09", "holiday", "端午节", True),
    ("2027-09-15", "holiday", "中秋节", True),
    ("2027-10-01", "holiday", "国庆节", True),
    ("2027-10-02", "holiday", "国庆节", True),
    ("2027-10-03", "holiday", "国庆节", True),
]


def load(apps, schema_editor):
    Holiday = apps.get_model("timetable", "Holiday")
    have = set(Holiday.objects.values_list("date", flat=True))
    Holiday.objects.bulk_create([
        Holiday(date=dt.date.fromisoformat(day), kind=kind, name=name, provisional=provisional)
        for day, kind, name, provisional in CALENDAR
        if dt.date.fromisoformat(day) not in have])


def unload(apps, schema_editor):
    Holiday = apps.get_model("timetable", "Holiday")
    Holiday.objects.filter(date__in=[dt.date.fromisoformat(r[0]) for r in CALENDAR]).delete()


class Migration(migrations.Migration):
    dependencies = [("timetable", "0001_rooms_rules_slots_holidays")]
    operations = [migrations.RunPython(load, unload)]

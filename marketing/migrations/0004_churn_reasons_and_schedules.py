"""Seed the managed churn-reason list and the periodic jobs of the marketing app."""
import json

from django.db import migrations

REASONS = [
    # code, zh, en, worth a win-back offer
    ("price", "价格", "Price", True),
    ("results", "成绩/效果", "Results", True),
    ("teacher", "老师", "Teacher", True),
    ("schedule", "上课时间", "Schedule", True),
    ("moved", "搬家/转学", "Moved away", False),
    ("competitor", "选择了其他机构", "Went to a competitor", True),
    ("need_ended", "需求结束", "Need ended", False),
    ("service_complaint", "服务投诉", "Service complaint", True),
    ("other", "其他", "Other", True),
]

# name, task, crontab (minute, hour): idle leads go back to the pool at night; prospects
# are synced with attendance/contracts hourly.
SCHEDULES = [
    ("marketing: release idle leads", "marketing.tasks.release_idle_leads_task", "15", "2"),
    ("marketing: sync prospect pipeline", "marketing.tasks.sync_prospects_task", "5", "*"),
]


def seed(apps, schema_editor):
    ChurnReason = apps.get_model("marketing", "ChurnReason")
    for order, (code, zh, en, eligible) in enumerate(REASONS):
        ChurnReason.objects.get_or_create(code=code, defaults={
            "name_zh": zh, "name_en": en, "win_back_eligible": eligible, "sort_order": order})
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, minute, hour in SCHEDULES:
        cron, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_week="*", day_of_month="*", month_of_year="*",
            timezone="Asia/Shanghai")
        PeriodicTask.objects.get_or_create(name=name, defaults={
            "task": task, "crontab": cron, "args": json.dumps([]), "kwargs": json.dumps({}),
            "enabled": True})


def unseed(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[s[0] for s in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("marketing", "0003_prospects_campaigns_referrals_churn"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(seed, unseed)]

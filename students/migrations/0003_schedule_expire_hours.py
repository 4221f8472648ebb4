"""Schedule the nightly expiry job (02:30 Asia/Shanghai) in django_celery_beat.

Stored in the database so managers see and can adjust it in the admin; depends on
django_celery_beat's latest migration so its tables (and timezone field) exist.
"""
from django.db import migrations

TASK_NAME = "students: expire lesson hours past validity"


def schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="2", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone="Asia/Shanghai",
    )
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={"task": "students.tasks.expire_hours_task", "crontab": crontab,
                  "interval": None, "enabled": True,
                  "description": "Writes `expired` entries for hours past validity + grace."},
    )
    # The beat scheduler caches schedules until this counter changes.
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    from django.utils import timezone

    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def unschedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("students", "0002_policies_roll_call_refunds_transfers_notices"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]

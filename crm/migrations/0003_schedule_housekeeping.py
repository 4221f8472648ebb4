"""Schedule the nightly Idempotency-Key purge (03:15 Asia/Shanghai) in django_celery_beat,
the same way the other periodic jobs are: a row managers see and can adjust."""
from django.db import migrations

TASK_NAME = "crm: purge old idempotency keys"


def schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="15", hour="3", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone="Asia/Shanghai",
    )
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={"task": "crm.tasks.purge_idempotency_keys_task", "crontab": crontab,
                  "interval": None, "enabled": True,
                  "description": "Deletes Idempotency-Key answers older than "
                                 "IDEMPOTENCY_KEY_RETENTION_DAYS."},
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
        ("crm", "0002_idempotencykey"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]

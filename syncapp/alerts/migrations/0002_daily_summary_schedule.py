"""The Finance summary becomes daily: the hourly q2 schedule that sends the summaries that are due
(`alerts.tasks.send_due_summaries`), and the kind's new label.

Hourly rather than once a day at 07:00: each integration's 07:00 is in its own timezone, and a
worker that was down at 07:00 sends that day's summary at its next tick (the AlertSent key makes
it once). At five past the hour, so a run that ended on the hour has committed."""

import datetime as dt

from django.db import migrations, models
from django.utils import timezone

SCHEDULE_NAME = "alerts-daily-summaries"
TICK_MINUTE = 5


def _next_tick() -> dt.datetime:
    now = timezone.now()
    at = now.replace(minute=TICK_MINUTE, second=0, microsecond=0)
    return at if at > now else at + dt.timedelta(hours=1)


def add_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "func": "syncapp.alerts.tasks.send_due_summaries",
            "schedule_type": "H",
            "repeats": -1,  # for ever
            "next_run": _next_tick(),
            # What was sent is on the AlertSent rows: 24 results a day need not push other tasks'
            # results out of django-q2's kept results (save_limit). A failed tick is kept.
            "kwargs": "{'q_options': {'save': False}}",
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.AlterField(
            model_name="alertsent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("run_failed", "Run failed"),
                    ("payments", "Payments newly blocked or failed"),
                    ("reconnect", "Connection needs reconnecting"),
                    ("summary", "Daily summary for Finance"),
                ],
                max_length=20,
            ),
        ),
        migrations.RunPython(add_schedule, remove_schedule),
    ]

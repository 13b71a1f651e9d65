"""The worker's heartbeat row, and the two schedules every installation needs: the heartbeat
every minute (a stale one means no worker is taking tasks) and the daily prune of old rows."""

import datetime as dt

from django.db import migrations, models
from django.utils import timezone

SCHEDULES = {
    # A beat that succeeds is not kept as a task result: 1,440 a day would push every other task
    # out of django-q2's kept results (save_limit). A failed beat is kept.
    "worker-heartbeat": {
        "func": "syncapp.core.tasks.beat",
        "schedule_type": "I",
        "minutes": 1,
        "kwargs": "{'q_options': {'save': False}}",
    },
    "prune-old-rows": {"func": "syncapp.core.tasks.prune", "schedule_type": "D"},
}
PRUNE_AT = dt.time(3, 30)  # local time (TIME_ZONE): off-peak


def _next_prune() -> dt.datetime:
    now = timezone.localtime()
    at = now.replace(hour=PRUNE_AT.hour, minute=PRUNE_AT.minute, second=0, microsecond=0)
    return at if at > now else at + dt.timedelta(days=1)


def add_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, fields in SCHEDULES.items():
        if name == "prune-old-rows":
            fields = {**fields, "next_run": _next_prune()}
        Schedule.objects.update_or_create(name=name, defaults={**fields, "repeats": -1})  # for ever


def remove_schedules(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__in=SCHEDULES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.CreateModel(
            name="WorkerHeartbeat",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("beat_at", models.DateTimeField()),
                ("worker", models.CharField(blank=True, max_length=255)),
            ],
        ),
        migrations.RunPython(add_schedules, remove_schedules),
    ]

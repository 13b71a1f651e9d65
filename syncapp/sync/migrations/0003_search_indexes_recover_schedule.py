"""PostgreSQL prefix-search indexes for the payments list, and the every-minute schedule that marks
dead runs failed.

The dashboard searches invoice numbers and references with `istartswith`, which Django writes as
`UPPER("col"::text) LIKE UPPER('abc%')` on PostgreSQL. A plain btree cannot serve that LIKE unless
the database collation is "C"; an index on the same UPPER(...) expression with text_pattern_ops
can, in any collation. SQLite (the demo) gets none: it does not need them at its sizes.
"""

from django.db import migrations

INDEXES = [
    ("sync_payment_invoice_prefix", "invoice_number"),
    ("sync_payment_reference_prefix", "reference"),
]

SCHEDULE_NAME = "recover-stale-sync-runs"


def create_prefix_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "sync_payment" '
            f'("integration_id", UPPER("{column}"::text) text_pattern_ops)'
        )


def drop_prefix_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def add_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "func": "syncapp.sync.tasks.recover_stale",
            "schedule_type": "I",  # every `minutes` minutes
            "minutes": 1,
            "repeats": -1,  # for ever
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0002_claims_indexes_unlinked"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.RunPython(create_prefix_indexes, drop_prefix_indexes),
        migrations.RunPython(add_schedule, remove_schedule),
    ]

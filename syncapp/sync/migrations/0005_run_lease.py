# The run's lease (sync.lease): who executes it, whether it holds the run's advisory lock, and until
# when a write to Procore it started may still be in flight.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0004_currency_allocations"),
    ]

    operations = [
        migrations.AddField(
            model_name="syncrun",
            name="worker",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="syncrun",
            name="worker_lock",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="syncrun",
            name="write_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]

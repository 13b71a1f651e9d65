"""Each alert sent is a row, written before the mail goes out and then marked sent or failed.

The row's unique `key` is what makes an alert go out once: a second delivery of the same news (the
signal sent again, a retried task, two workers) fails to insert it and sends nothing.
"""

from django.conf import settings
from django.db import models

from syncapp.connections.models import Integration


class AlertKind(models.TextChoices):
    RUN_FAILED = "run_failed", "Run failed"
    PAYMENTS = "payments", "Payments newly blocked or failed"
    RECONNECT = "reconnect", "Connection needs reconnecting"
    SUMMARY = "summary", "Daily summary for Finance"


class AlertSent(models.Model):
    # e.g. "run_failed:run:12", "payments:run:12", "reconnect:connection:3:<when it was marked>",
    # "summary:integration:3:2026-12-01" (the local day of a daily summary)
    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    integration = models.ForeignKey(Integration, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(max_length=300)
    recipients = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Why it did not go out (the mail server refused, nobody to send it to); no secrets.
    error = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.key


class AlertSettings(models.Model):
    """Per integration, what an Admin chose beyond the Admins' alerts (which are always on)."""

    integration = models.OneToOneField(Integration, on_delete=models.CASCADE, related_name="alert_settings")
    # The peers' nightly email: a summary of the day's runs, mailed to Finance users once a day
    # (alerts.services.send_due_summaries). Off by default.
    finance_summary = models.BooleanField(default=False)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    updated_at = models.DateTimeField(auto_now=True)

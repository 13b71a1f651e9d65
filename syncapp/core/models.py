"""The audit log: who did what and when (sync started, retry, ignore, link, connect, settings)."""

from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # e.g. "sync.started", "payment.retried", "vendor.linked", "connection.connected"
    action = models.CharField(max_length=50, db_index=True)
    # A short human line: "Connected Xero organisation 'Demo Builders'".
    summary = models.CharField(max_length=500)
    integration = models.ForeignKey(
        "connections.Integration", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    details = models.JSONField(default=dict, blank=True)  # never tokens or secrets

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"

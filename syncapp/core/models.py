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


class WorkerHeartbeat(models.Model):
    """The background worker's last sign of life: a django-q2 schedule runs `core.tasks.beat`
    every minute, which stamps this one row. A stale stamp means no worker is taking tasks (or
    the scheduler is stopped): /healthz and `manage.py worker_health` say so."""

    beat_at = models.DateTimeField()
    worker = models.CharField(max_length=255, blank=True)  # host and pid of the last beat

    def __str__(self) -> str:
        return f"worker beat at {self.beat_at:%Y-%m-%d %H:%M:%S}"

"""What every background job row has (sync runs, reconciliation reports): when it was asked for,
started, last seen alive and finished, and why it failed."""

from django.db import models
from django.utils import timezone


class BackgroundJob(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Refreshed while the worker is alive: a job whose heartbeat stops is declared dead.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=1000, blank=True)

    class Meta:
        abstract = True

    @property
    def duration_seconds(self) -> float | None:
        if not self.started_at:
            return None
        return ((self.finished_at or timezone.now()) - self.started_at).total_seconds()

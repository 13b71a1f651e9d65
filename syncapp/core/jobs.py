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

    @classmethod
    def claim(cls, pk: int):
        """Queued -> running by a conditional UPDATE, so a task delivered twice runs once.
        Returns the claimed row, or None when another delivery got it first."""
        now = timezone.now()
        claimed = cls.objects.filter(pk=pk, state="queued").update(state="running", started_at=now, heartbeat_at=now)
        return cls.objects.get(pk=pk) if claimed else None

    @property
    def duration_seconds(self) -> float | None:
        if not self.started_at:
            return None
        return ((self.finished_at or timezone.now()) - self.started_at).total_seconds()

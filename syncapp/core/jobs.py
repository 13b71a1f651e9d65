"""Background jobs — sync runs and reconciliation reports — and the one lifecycle they share.

A job is a row: queued when someone asks for it, running once a worker claims it, then an end
state. At most one job of a kind is queued or running per integration, and that is the database's
job (`one_active_per_integration`, a partial unique constraint), so two requests at the same moment
give one job. The worker gets the job's id from a django-q2 task queued when the request commits;
claiming is a conditional UPDATE, so a task delivered twice runs once.

A worker's every write about its job (its heartbeat, its end) is conditional on the job still
running: a worker that was declared dead while it was slow finds 0 rows and stops, and cannot
overwrite the "failed" that was recorded for it. `JobLifecycle.recover_stale` declares dead a job
whose worker is gone, so a new one can start; each kind says when that is (`death_of`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, Generic, TypeVar

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from syncapp.core import audit
from syncapp.core.text import fit

# The state values every kind of job has (its own TextChoices adds how it ends).
QUEUED = "queued"
RUNNING = "running"
FAILED = "failed"
ACTIVE_STATES = (QUEUED, RUNNING)


def one_active_per_integration(name: str) -> models.UniqueConstraint:
    """At most one queued or running job of a kind per integration (a constraint, not a check)."""
    return models.UniqueConstraint(fields=["integration"], condition=Q(state__in=list(ACTIVE_STATES)), name=name)


class BackgroundJob(models.Model):
    """What every job row has. A concrete job adds `integration`, `trigger` and `state` (with its
    own choices) and `one_active_per_integration` to its constraints."""

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Refreshed while the worker is alive: a job whose heartbeat stops is declared dead.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=1000, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def last_seen(self) -> dt.datetime:
        """When the job last showed it was alive (or was asked for, before any sign of life)."""
        return self.heartbeat_at or self.started_at or self.created_at

    @property
    def duration_seconds(self) -> float | None:
        if not self.started_at:
            return None
        return ((self.finished_at or timezone.now()) - self.started_at).total_seconds()

    @classmethod
    def claim(cls, pk: int):
        """Queued -> running by a conditional UPDATE, so a task delivered twice runs once.
        Returns the claimed row, or None when another delivery got it first."""
        now = timezone.now()
        claimed = cls.objects.filter(pk=pk, state=QUEUED).update(state=RUNNING, started_at=now, heartbeat_at=now)
        return cls.objects.get(pk=pk) if claimed else None

    @classmethod
    def beat(cls, pk: int, *, at: dt.datetime | None = None, **progress: Any) -> bool:
        """Write the heartbeat (and `progress`) of a running job. False: it is no longer running
        (declared dead meanwhile), and its worker must stop."""
        return bool(cls._running(pk).update(heartbeat_at=at or timezone.now(), **progress))

    @classmethod
    def finish(cls, pk: int, state: str, *, error: str = "", at: dt.datetime | None = None, **fields: Any) -> bool:
        """Record how a running job ended. False: it was no longer running (a job declared dead
        keeps its "failed" and the reason given then)."""
        finished = cls._running(pk).update(
            state=state, finished_at=at or timezone.now(), error=cls.fit_error(error), **fields
        )
        return bool(finished)

    @classmethod
    def fit_error(cls, error: str) -> str:
        return fit(cls, "error", error)

    @classmethod
    def _running(cls, pk: int) -> models.QuerySet:
        return cls.objects.filter(pk=pk, state=RUNNING)


Job = TypeVar("Job", bound=BackgroundJob)


class JobLifecycle(Generic[Job]):
    """How one kind of job is started, queued and declared dead. A subclass names its model, its
    task, its audit line and its messages, and says how long silence means death."""

    model: ClassVar[type[BackgroundJob]]
    task: ClassVar[str]  # the django-q2 task that executes a job, given its id
    task_name: ClassVar[str]  # its name in the queue, formatted with the job's pk
    started_action: ClassVar[str]  # the audit log's action for a job asked for
    audit_key: ClassVar[str]  # the audit entry's detail that holds the job's id
    never_picked_up: ClassVar[str]  # why a job queued for too long was failed
    stopped_responding: ClassVar[str]  # why a running job whose heartbeat stopped was failed

    def stale_after(self) -> dt.timedelta:
        """Heartbeat silence after which a running job's worker is taken for dead."""
        raise NotImplementedError

    def queued_stale_after(self) -> dt.timedelta:
        """How long a job may wait for a worker before its task is taken for lost."""
        raise NotImplementedError

    def started_summary(self, job: Job) -> str:
        raise NotImplementedError

    def active(self, *, integration) -> Job | None:
        return self.model.objects.filter(integration=integration, state__in=ACTIVE_STATES).first()

    def start(self, *, integration, requested_by=None, **fields: Any) -> tuple[Job, bool]:
        """Create a queued job, or return the one already queued or running: (job, created)."""
        self.recover_stale(integration=integration)
        if requested_by is not None and not requested_by.is_authenticated:
            requested_by = None
        try:
            with transaction.atomic():
                job = self.model.objects.create(integration=integration, requested_by=requested_by, **fields)
                self._record_start(job)
        except IntegrityError:
            existing = self.active(integration=integration)
            if existing is None:  # it ended between our insert and our look: ask again, for the same job
                return self.start(integration=integration, requested_by=requested_by, **fields)
            return existing, False
        return job, True

    def _record_start(self, job: Job) -> None:
        audit.record(
            action=self.started_action,
            summary=self.started_summary(job),
            actor=job.requested_by,
            integration=job.integration,
            **{self.audit_key: job.pk},
        )

    def enqueue(self, job: Job) -> None:
        """Queue the job's task once the transaction that created the job commits (the worker
        must find the row); the task gets the id and reads the rest from the database."""
        pk = job.pk
        transaction.on_commit(lambda: async_task(self.task, pk, task_name=self.task_name.format(pk=pk)))

    def recover_stale(self, *, integration=None, now: dt.datetime | None = None) -> list[Job]:
        """Mark jobs whose worker died as failed (never "running" forever). Returns them."""
        now = now or timezone.now()
        jobs = self.model.objects.filter(state__in=ACTIVE_STATES)
        if integration is not None:
            jobs = jobs.filter(integration=integration)
        recovered = []
        for job in jobs:
            message = self.death_of(job, now)
            if message is not None and self._declare_dead(job, message, now):
                recovered.append(job)
        return recovered

    def death_of(self, job: Job, now: dt.datetime) -> str | None:
        """Why `job` is dead, in words for people; None while its worker may still be at work."""
        if job.state == QUEUED:
            return self.never_picked_up if job.created_at < now - self.queued_stale_after() else None
        return self.stopped_responding if job.last_seen < now - self.stale_after() else None

    def _declare_dead(self, job: Job, message: str, now: dt.datetime) -> bool:
        # Only as judged: a beat since (the worker was alive after all) keeps the job running.
        declared = self.model.objects.filter(pk=job.pk, state=job.state, heartbeat_at=job.heartbeat_at).update(
            state=FAILED, finished_at=now, error=self.model.fit_error(message)
        )
        if declared:
            job.refresh_from_db()
            self.declared_dead(job, message)
        return bool(declared)

    def declared_dead(self, job: Job, message: str) -> None:
        """What else a kind of job does once it is declared dead (a log line, an announcement)."""

"""Is the product working: the database, the background worker, its queue, each connection, and
the runs in progress. Read by /healthz (`core.views.healthz`) and `manage.py worker_health`.

The worker's sign of life is its heartbeat row (`WorkerHeartbeat`), stamped every minute by a
django-q2 schedule (migration core 0003): a fresh stamp proves the scheduler and a worker both
take tasks. Nothing here reads or returns a token, a secret, or an id that grants access.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import DatabaseError, connection
from django.utils import timezone
from django_q import brokers

from syncapp.connections.models import Connection
from syncapp.core.conf import CoreConf
from syncapp.core.models import WorkerHeartbeat
from syncapp.core.text import fit
from syncapp.sync.models import ACTIVE_RUN_STATES, SyncRun

logger = logging.getLogger(__name__)

HEARTBEAT_ROW = 1  # one row: any worker of the cluster may run the schedule


def dead_after() -> dt.timedelta:
    return dt.timedelta(seconds=CoreConf.WORKER_DEAD_SECONDS)


# --- the worker's heartbeat --------------------------------------------------------------------------


def record_beat(*, worker: str) -> None:
    beat = {"beat_at": timezone.now(), "worker": fit(WorkerHeartbeat, "worker", worker)}
    WorkerHeartbeat.objects.update_or_create(pk=HEARTBEAT_ROW, defaults=beat)


@dataclass(frozen=True)
class WorkerState:
    beat_at: dt.datetime | None
    worker: str
    age_seconds: float | None
    alive: bool

    @property
    def status(self) -> str:
        if self.beat_at is None:
            return "never seen"
        return "alive" if self.alive else "dead"

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "last_beat_at": _iso(self.beat_at),
            "age_seconds": None if self.age_seconds is None else round(self.age_seconds),
            "dead_after_seconds": round(dead_after().total_seconds()),
            "worker": self.worker,
        }


def worker_state(*, now: dt.datetime | None = None) -> WorkerState:
    now = now or timezone.now()
    row = WorkerHeartbeat.objects.filter(pk=HEARTBEAT_ROW).first()
    if row is None:
        return WorkerState(beat_at=None, worker="", age_seconds=None, alive=False)
    age = (now - row.beat_at).total_seconds()
    alive = age <= dead_after().total_seconds()
    return WorkerState(beat_at=row.beat_at, worker=row.worker, age_seconds=age, alive=alive)


# --- the checks ----------------------------------------------------------------------------------------


def database_ok() -> bool:
    """One trivial query; False when the database does not answer."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.warning("health check: the database does not answer", exc_info=True)
        return False
    return True


def queue_depth() -> dict:
    """Tasks waiting for a worker, from django-q2's broker (ORM or Redis alike)."""
    try:
        return {"status": "ok", "queued": brokers.get_broker().queue_size()}
    except Exception as exc:  # a broker that does not answer (Redis down) is itself the finding
        logger.warning("health check: the task queue does not answer", exc_info=True)
        return {"status": "error", "error": f"The task queue does not answer ({type(exc).__name__})."}


def connections() -> list[dict]:
    """Each integration's Xero and Procore connection: its state and when it last worked or failed.
    Only columns chosen here leave: never the tokens, the tenant or connection ids, or the scope."""
    rows = Connection.objects.select_related("integration").order_by("integration__name", "provider")
    return [
        {
            "integration": c.integration.name,
            "provider": c.provider,
            "status": c.status,
            "reason": c.status_reason,
            "organisation": c.tenant_name,
            "last_success_at": _iso(c.last_success_at),
            "last_error_at": _iso(c.last_error_at),
            "last_error": c.last_error[:300],
        }
        for c in rows
    ]


def active_runs() -> list[dict]:
    runs = SyncRun.objects.filter(state__in=ACTIVE_RUN_STATES).select_related("integration").order_by("pk")
    return [
        {
            "run": r.pk,
            "integration": r.integration.name,
            "state": r.state,
            "trigger": r.trigger,
            "phase": r.phase,
            "started_at": _iso(r.started_at),
            "heartbeat_at": _iso(r.heartbeat_at),
            "progress": f"{r.progress_done}/{r.progress_total}",
        }
        for r in runs
    ]


def report(*, now: dt.datetime | None = None) -> tuple[dict, bool]:
    """The Admins' answer: every check, and the problems in words. (report, healthy)."""
    now = now or timezone.now()
    if not database_ok():
        return {"status": "unhealthy", "problems": ["The database does not answer."], "database": "error"}, False
    worker = worker_state(now=now)
    queue = queue_depth()
    conns = connections()
    problems = []
    if not worker.alive:
        problems.append(
            f"No background worker has taken a task since {_iso(worker.beat_at)}: start it (manage.py qcluster)."
            if worker.beat_at
            else "No background worker has ever beaten: start it (manage.py qcluster)."
        )
    if queue["status"] != "ok":
        problems.append(queue["error"])
    for c in conns:
        if c["status"] == "needs_reconnect":
            problems.append(f"{c['integration']}: the {c['provider']} connection needs reconnecting.")
    body = {
        "status": "unhealthy" if problems else "ok",
        "problems": problems,
        "checked_at": _iso(now),
        "database": "ok",
        "worker": worker.as_dict(),
        "queue": queue,
        "connections": conns,
        "active_runs": active_runs(),
    }
    return body, not problems


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None

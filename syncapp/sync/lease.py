"""A run's lease held by a live process: a PostgreSQL advisory lock keyed on the run.

The worker executing a run takes `pg_try_advisory_lock(RUN_LOCK_SPACE, run_id)` on a connection of
its own, opened for the run and closed at its end. PostgreSQL releases a session's locks the
moment the session ends, and a process that dies (kill -9, OOM, a crash) ends its sessions with
it. So anyone who can take the lock of a running run knows its worker is gone, at once — where
the heartbeat alone needs minutes of silence to say the same (`runs.recover_stale_runs`).

Why a connection of its own: Django closes its connections between requests and django-q2 between
tasks (`close_old_connections`), and a session-level lock lives exactly as long as its session.
The lock session also asks PostgreSQL to probe the worker's TCP connection often, so a host that
vanishes (power off, network gone) frees the lock in about half a minute instead of hours.

The lock session must be a session of its own at the server too: through a proxy that pools by
transaction (PgBouncer's transaction mode) a session lock outlives the worker; point such a
deployment's DATABASE_URL at PostgreSQL itself or a session-pooling proxy.

SQLite has no such locks: `acquire` returns a lease without a lock there, and the heartbeat stays
the only sign of life. The heartbeat remains the fallback on PostgreSQL too, for a worker whose
process lives but no longer works (a stopped process, a hung host whose kernel still answers).
"""

from __future__ import annotations

import logging
import os
import socket

import psycopg
from django.db import connection, connections, transaction

logger = logging.getLogger(__name__)

# The first key of every run lock ("SYNC" in ASCII), so run ids do not collide with other users of
# advisory locks in the same database.
RUN_LOCK_SPACE = 0x53594E43

# The lock session's TCP keepalive (seconds): PostgreSQL drops a silent peer after
# IDLE + INTERVAL * COUNT, which frees the lock of a worker whose host is gone.
_KEEPALIVE = {"tcp_keepalives_idle": 10, "tcp_keepalives_interval": 5, "tcp_keepalives_count": 3}


def this_process() -> str:
    """How a run names its worker on the run page and in its log."""
    return f"{socket.gethostname()} pid {os.getpid()}"


def locks_available() -> bool:
    return connection.vendor == "postgresql"


class RunLease:
    """Held by the worker executing one run; `release()` at the run's end (the process's death
    releases it too). `locked` says whether a live-process lock backs it (PostgreSQL)."""

    def __init__(self, run_id: int, session=None):
        self.run_id = run_id
        self.worker = this_process()
        self._session = session

    @property
    def locked(self) -> bool:
        return self._session is not None

    def release(self) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        try:
            # Unlocked before the session closes: the server ends a closed session a moment after
            # the client has moved on, and whoever looks next must find the lock free already.
            session.execute("SELECT pg_advisory_unlock(%s, %s)", [RUN_LOCK_SPACE, self.run_id])
        except Exception:  # the lock goes with the session whatever went wrong unlocking it
            logger.warning("unlocking run %s failed; closing its session frees it", self.run_id, exc_info=True)
        finally:
            session.close()


def acquire(run_id: int) -> RunLease | None:
    """The lease of `run_id` for this process, or None when another live session holds it (another
    worker executes the run, or is taking it over this very moment)."""
    if not locks_available():
        return RunLease(run_id)
    try:
        session = _open_session()
    except Exception:
        # No connection to spare (max_connections, say): the run still runs, known alive by its
        # heartbeat alone, as on SQLite. The claim, not the lock, keeps it to one worker.
        logger.warning("run %s: no session for its lock; the heartbeat alone shows it alive", run_id, exc_info=True)
        return RunLease(run_id)
    try:
        with session.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [RUN_LOCK_SPACE, run_id])
            taken = cursor.fetchone()[0]
    except BaseException:
        session.close()
        raise
    if not taken:
        session.close()
        return None
    return RunLease(run_id, session)


def holder_is_gone(run_id: int) -> bool:
    """True when nobody holds the lock of `run_id` (its worker's session ended). Takes the lock for
    the length of a transaction to find out, through Django's own connection (a transaction lock
    needs no unlock, which a transaction-pooling proxy could send to another session). Only for
    runs whose worker took the lock."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [RUN_LOCK_SPACE, run_id])
        return bool(cursor.fetchone()[0])


def _open_session():
    """A psycopg connection to the default database, outside Django's connection handling."""
    wrapper = connections["default"]
    params = wrapper.get_connection_params()
    options = " ".join(f"-c {name}={value}" for name, value in _KEEPALIVE.items())
    params["options"] = f"{params.get('options', '')} {options}".strip()
    params.setdefault("application_name", f"sync run lease ({this_process()})"[:63])
    return psycopg.connect(**params, autocommit=True)

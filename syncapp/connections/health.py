"""A connection's health columns: last success, last error, and the "needs reconnect" state.

Every write here is a targeted UPDATE of a few columns, never `save()` of a whole row: a worker
holding a stale Connection instance must not overwrite tokens another worker just rotated.
Re-exported by `syncapp.connections.services`, which is where callers should import them from.
"""

from __future__ import annotations

import logging
import time

from django.db import DatabaseError
from django.utils import timezone

from syncapp.connections import signals
from syncapp.connections.models import Connection, ConnectionStatus
from syncapp.core.audit import record
from syncapp.core.text import fit

logger = logging.getLogger(__name__)

# A client writes its connection's health at most this often; what happens between two writes is
# written at the next due call or when the client closes (a run closes its clients as it ends).
HEALTH_WRITE_EVERY = 15.0


def mark_needs_reconnect(connection: Connection, *, reason: str) -> None:
    """The connection is dead until an Admin reconnects. Runs fail fast with `reason` (no secrets)."""
    reason = fit(Connection, "status_reason", reason)
    now = timezone.now()
    changed = Connection.objects.filter(pk=connection.pk).exclude(status=ConnectionStatus.NEEDS_RECONNECT).update(
        status=ConnectionStatus.NEEDS_RECONNECT, status_reason=reason, last_error=reason, last_error_at=now
    )
    if changed:
        # Only the first worker to notice writes the audit line; the others see it already marked.
        record(
            action="connection.needs_reconnect",
            summary=f"{connection.get_provider_display()} needs reconnecting: {reason}",
            integration=connection.integration,
            provider=connection.provider,
        )
        # Alerts mail the Admins once per such change (syncapp.alerts.receivers).
        signals.needs_reconnect.send(sender=Connection, connection=connection, marked_at=now)
    connection.status = ConnectionStatus.NEEDS_RECONNECT
    connection.status_reason = reason
    connection.last_error = reason
    connection.last_error_at = now


def record_error(connection: Connection, *, message: str) -> None:
    """A call failed but the connection is not known to be dead (e.g. a 5xx or a timeout)."""
    now = timezone.now()
    connection.last_error = fit(Connection, "last_error", message)
    Connection.objects.filter(pk=connection.pk).update(last_error=connection.last_error, last_error_at=now)
    connection.last_error_at = now


class ConnectionHealth:
    """`CallHealth` for the clients of one connection: every call's outcome moves the row's last
    success or last error, cheaply. The first call writes at once, then at most one UPDATE per
    HEALTH_WRITE_EVERY seconds carries the newest success and error seen since the last write, and
    `flush` (the client's close) writes the rest: a run of thousands of calls costs a few writes,
    and the card is at most that many seconds behind while the run works. (The sync engine makes
    its calls outside transactions, so the UPDATE holds the row's lock only for itself.)"""

    def __init__(self, connection: Connection, *, every: float = HEALTH_WRITE_EVERY):
        self._pk = connection.pk
        self._every = every
        self._written_at: float | None = None  # time.monotonic() of the last write
        self._success_at = None
        self._error: tuple[str, object] | None = None

    def ok(self) -> None:
        self._success_at = timezone.now()
        self._write_if_due()

    def failed(self, message: str) -> None:
        self._error = (fit(Connection, "last_error", message), timezone.now())
        self._write_if_due()

    def flush(self) -> None:
        fields: dict = {}
        if self._success_at is not None:
            fields["last_success_at"] = self._success_at
        if self._error is not None:
            fields["last_error"], fields["last_error_at"] = self._error
        self._written_at = time.monotonic()
        if not fields:
            return
        try:
            Connection.objects.filter(pk=self._pk).update(**fields)
        except DatabaseError:  # the card's freshness must never fail a call that worked
            logger.warning("could not record the health of connection %s", self._pk, exc_info=True)
            return
        self._success_at = self._error = None

    def _write_if_due(self) -> None:
        if self._written_at is None or time.monotonic() - self._written_at >= self._every:
            self.flush()

"""A connection's health columns: last success, last error, and the "needs reconnect" state.

Every write here is a targeted UPDATE of a few columns, never `save()` of a whole row: a worker
holding a stale Connection instance must not overwrite tokens another worker just rotated.
Re-exported by `syncapp.connections.services`, which is where callers should import them from.
"""

from __future__ import annotations

from django.utils import timezone

from syncapp.connections import signals
from syncapp.connections.models import Connection, ConnectionStatus
from syncapp.core.audit import record


def mark_needs_reconnect(connection: Connection, *, reason: str) -> None:
    """The connection is dead until an Admin reconnects. Runs fail fast with `reason` (no secrets)."""
    reason = reason[:500]
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


def record_success(connection: Connection) -> None:
    now = timezone.now()
    Connection.objects.filter(pk=connection.pk).update(last_success_at=now)
    connection.last_success_at = now


def record_error(connection: Connection, *, message: str) -> None:
    """A call failed but the connection is not known to be dead (e.g. a 5xx or a timeout)."""
    now = timezone.now()
    Connection.objects.filter(pk=connection.pk).update(last_error=message[:1000], last_error_at=now)
    connection.last_error = message[:1000]
    connection.last_error_at = now

"""Writing the audit log. Call `record` from services, inside the transaction of the change."""

from syncapp.core.models import AuditEntry


def record(*, action: str, summary: str, actor=None, integration=None, **details) -> AuditEntry:
    """Note that `actor` (a user, or None for the system) did `action`. Details must hold no secret."""
    if actor is not None and not actor.is_authenticated:
        actor = None
    return AuditEntry.objects.create(
        action=action, summary=summary[:500], actor=actor, integration=integration, details=details
    )

"""django-q2 entry points of core's schedules (migration 0003). Thin: they call the services."""

from syncapp.core import health, retention
from syncapp.sync.lease import this_process


def beat() -> str:
    """Every minute: the worker is alive and taking tasks."""
    health.record_beat(worker=this_process())
    return "beat"


def prune() -> dict[str, int]:
    """Daily: delete rows older than RETENTION_DAYS."""
    return retention.prune()

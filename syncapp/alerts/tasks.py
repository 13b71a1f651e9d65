"""django-q2 entry point of the alerts' schedule (migration 0002). Thin: it calls the service."""

from syncapp.alerts import services


def send_due_summaries() -> int:
    """Every hour: the daily summaries for Finance that are due and not sent yet."""
    return services.send_due_summaries()

"""django-q2 entry point of the webhooks. Thin: the work is `services.dispatch`; safe to run twice
(a second one finds the events taken, or the run it would start already going)."""

from __future__ import annotations

from syncapp.webhooks import services


def dispatch(integration_id: int) -> int | None:
    run = services.dispatch(integration_id)
    return run.pk if run else None

"""Where alerts hear about runs and connections: thin receivers that pass ids to `services`.

The work waits for the sender's transaction to commit (at once when there is none), so an alert
never tells of a change that was rolled back, and reads it back from the database.
"""

from __future__ import annotations

from functools import partial

from django.db import transaction

from syncapp.alerts import services
from syncapp.connections.signals import needs_reconnect
from syncapp.sync.models import SyncRun
from syncapp.sync.signals import run_ended


def on_run_ended(sender, run: SyncRun, **kwargs) -> None:
    transaction.on_commit(partial(services.alert_run_ended, run_id=run.pk), robust=True)


def on_needs_reconnect(sender, connection, marked_at, **kwargs) -> None:
    transaction.on_commit(
        partial(services.alert_needs_reconnect, connection_id=connection.pk, marked_at=marked_at), robust=True
    )


def connect() -> None:
    run_ended.connect(on_run_ended, dispatch_uid="alerts.run_ended")
    needs_reconnect.connect(on_needs_reconnect, dispatch_uid="alerts.needs_reconnect")

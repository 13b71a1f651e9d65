"""Removing an integration while a run is being started at the same moment (two connections to
PostgreSQL): never a removal during a run, never a run left behind for a removed integration."""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from syncapp.connections import integrations
from syncapp.connections.models import Integration
from syncapp.sync.models import RunState, SyncRun

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def start_run_in_another_connection(integration_id: int, inserted: threading.Event, commit: threading.Event, out: dict):
    try:
        with transaction.atomic():
            SyncRun.objects.create(integration_id=integration_id, state=RunState.QUEUED)
            inserted.set()
            commit.wait(30)
    except IntegrityError as exc:
        out["error"] = exc
    finally:
        inserted.set()
        connection.close()


def test_a_run_inserted_but_not_committed_when_the_integration_is_removed_fails_at_its_commit():
    integration = Integration.objects.create(name="north")
    inserted, commit, out = threading.Event(), threading.Event(), {}
    worker = threading.Thread(target=start_run_in_another_connection, args=(integration.pk, inserted, commit, out))
    worker.start()
    assert inserted.wait(30)

    integrations.remove_integration(integration=integration)  # the run is not visible yet
    commit.set()
    worker.join(30)

    assert isinstance(out.get("error"), IntegrityError)
    assert not Integration.objects.exists() and not SyncRun.objects.exists()


def test_a_run_committed_before_the_removal_makes_it_refused():
    integration = Integration.objects.create(name="north")
    inserted, commit, out = threading.Event(), threading.Event(), {}
    commit.set()
    worker = threading.Thread(target=start_run_in_another_connection, args=(integration.pk, inserted, commit, out))
    worker.start()
    worker.join(30)

    with pytest.raises(integrations.IntegrationRefused, match=r"Run #\d+ of this integration is queued"):
        integrations.remove_integration(integration=integration)
    assert Integration.objects.filter(pk=integration.pk).exists() and "error" not in out

"""`manage.py sync_payments` is never blocked by a run the button queued while no worker runs: it
runs that run itself, and the task a worker picks up later does nothing (exactly once). And a run
whose stored tokens cannot be decrypted says so and marks the connection."""

from __future__ import annotations

import os

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.utils import timezone

from syncapp.connections.crypto import rotate
from syncapp.connections.models import Connection, ConnectionStatus
from syncapp.sync import tasks
from syncapp.sync.models import RunState, SyncRun
from syncapp.sync.runs import request_run
from tests.torture.harness import compare_with_expected

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_run_the_button_queued_while_no_worker_runs_is_run_by_the_command_once(
    duplicates_allowed, admin_user, capsys
):
    from django_q.models import OrmQ

    world = duplicates_allowed
    queued, created = request_run(integration=world.integration, requested_by=admin_user)
    assert created and OrmQ.objects.count() == 1  # its task waits for a worker that is not there
    call_command("sync_payments", "--integration", "northwind")
    out = capsys.readouterr().out
    assert f"Get All Payments button run #{queued.pk} was waiting for a worker: running it here." in out
    run = SyncRun.objects.get()
    assert run.pk == queued.pk and run.state == RunState.SUCCEEDED, run.error
    assert run.requested_by == admin_user and run.worker.endswith(f"pid {os.getpid()}")
    lines = run.log_lines.count()
    # The worker starts at last and gets the queued task: it finds the run taken and does nothing.
    assert tasks.run_sync(queued.pk) == "claimed elsewhere"
    assert SyncRun.objects.get().finished_at == run.finished_at and run.log_lines.count() == lines
    comparison = compare_with_expected(world.summary.expected)
    assert comparison.clean, comparison.details()


def test_a_command_asking_for_a_dry_run_runs_the_queued_run_first_then_its_own(world, admin_user, capsys):
    queued, _ = request_run(integration=world.integration, requested_by=admin_user)
    call_command("sync_payments", "--integration", "northwind", "--dry-run")
    out = capsys.readouterr().out
    button, command = SyncRun.objects.order_by("pk")
    assert button.pk == queued.pk and not button.dry_run and button.state == RunState.SUCCEEDED
    assert command.trigger == SyncRun.Trigger.COMMAND and command.dry_run and command.state == RunState.SUCCEEDED
    assert f"Run #{button.pk} of northwind: Finished" in out and f"Run #{command.pk} of northwind: Finished" in out


def test_the_command_still_refuses_to_start_beside_a_running_run(world):
    SyncRun.objects.create(
        integration=world.integration, trigger="button", state=RunState.RUNNING, heartbeat_at=timezone.now()
    )
    with pytest.raises(CommandError, match="already running"):
        call_command("sync_payments", "--integration", "northwind")
    assert SyncRun.objects.count() == 1


def test_a_run_whose_procore_tokens_a_changed_key_cannot_read_says_so_and_marks_the_connection(world, settings):
    old_keys = list(settings.TOKEN_ENCRYPTION_KEYS)
    new_key = Fernet.generate_key().decode()
    # Xero's tokens were re-encrypted under the new key; Procore's were left under the old one,
    # which the configuration then dropped.
    settings.TOKEN_ENCRYPTION_KEYS = [new_key, *old_keys]
    xero = Connection.objects.get(integration=world.integration, provider="xero")
    Connection.objects.filter(pk=xero.pk).update(
        access_token_encrypted=rotate(xero.access_token_encrypted),
        refresh_token_encrypted=rotate(xero.refresh_token_encrypted),
    )
    settings.TOKEN_ENCRYPTION_KEYS = [new_key]

    run = world.run()

    assert run.state == RunState.FAILED
    assert run.error.startswith(
        "The stored Procore tokens cannot be decrypted with the configured TOKEN_ENCRYPTION_KEYS"
    )
    assert "reconnect Procore" in run.error and "restore the previous key" in run.error
    assert run.log_lines.filter(level="error", message=f"Run failed: {run.error}").exists()
    assert run.fetched > 0  # Xero's part ran: only the Procore connection is in question
    procore = Connection.objects.get(integration=world.integration, provider="procore")
    assert procore.last_error == run.error and procore.last_error_at is not None
    # Not "needs reconnect": putting the previous key back mends it, as the message says.
    assert procore.status == ConnectionStatus.CONNECTED
    settings.TOKEN_ENCRYPTION_KEYS = [new_key, *old_keys]
    assert world.run().state == RunState.SUCCEEDED

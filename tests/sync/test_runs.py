"""One run at a time per integration (a database constraint), claiming, and dead-run recovery."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from syncapp.connections.models import Integration
from syncapp.core.models import AuditEntry
from syncapp.sync.models import RunState, SyncRun
from syncapp.sync.runs import claim_run, execute_run, recover_stale_runs, start_run
from syncapp.sync.signals import run_ended


@pytest.fixture
def integration(db) -> Integration:
    return Integration.objects.create(name="demo")


def test_a_second_start_while_one_is_queued_returns_the_queued_run(integration, finance_user):
    first, created = start_run(integration=integration, trigger="button", requested_by=finance_user)
    second, created_again = start_run(integration=integration, trigger="button")
    assert created and not created_again
    assert second.pk == first.pk
    assert SyncRun.objects.count() == 1
    assert AuditEntry.objects.filter(action="sync.started", actor=finance_user).count() == 1


def test_the_database_refuses_a_second_active_run_even_without_the_check(integration):
    from django.db import IntegrityError, transaction

    SyncRun.objects.create(integration=integration, trigger="button", state=RunState.RUNNING)
    with pytest.raises(IntegrityError), transaction.atomic():
        SyncRun.objects.create(integration=integration, trigger="button")


def test_finished_runs_do_not_block_a_new_one(integration):
    SyncRun.objects.create(integration=integration, trigger="button", state=RunState.SUCCEEDED)
    SyncRun.objects.create(integration=integration, trigger="button", state=RunState.FAILED)
    run, created = start_run(integration=integration, trigger="command")
    assert created and run.state == RunState.QUEUED


def test_a_run_is_claimed_once_even_when_the_task_arrives_twice(integration):
    run, _ = start_run(integration=integration, trigger="button")
    assert claim_run(run.pk) is not None
    assert claim_run(run.pk) is None
    run.refresh_from_db()
    assert run.state == RunState.RUNNING and run.started_at is not None


def test_a_run_whose_worker_died_is_marked_failed_and_a_new_one_can_start(integration):
    run, _ = start_run(integration=integration, trigger="button")
    claim_run(run.pk)
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - dt.timedelta(minutes=10))
    new_run, created = start_run(integration=integration, trigger="button")
    run.refresh_from_db()
    assert created and new_run.pk != run.pk
    assert run.state == RunState.FAILED and "stopped responding" in run.error
    assert run.log_lines.filter(level="error").exists()


def test_a_run_with_a_fresh_heartbeat_is_left_running(integration):
    run, _ = start_run(integration=integration, trigger="button")
    claim_run(run.pk)
    assert recover_stale_runs(integration=integration) == []
    assert SyncRun.objects.get(pk=run.pk).state == RunState.RUNNING


def test_a_run_without_connections_fails_fast_with_the_reason(integration):
    run, _ = start_run(integration=integration, trigger="command")
    run = execute_run(run.pk)
    assert run.state == RunState.FAILED
    assert "not connected" in run.error
    assert run.finished_at is not None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_requested_at_the_same_moment_give_one_run():
    integration = Integration.objects.create(name="race")
    barrier = threading.Barrier(8)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def request():
        try:
            barrier.wait()
            run, created = start_run(integration=integration, trigger="button")
            results.append((run.pk, created))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len({pk for pk, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert SyncRun.objects.filter(integration=integration).count() == 1
    assert connection.vendor == "postgresql"


def test_run_ended_is_sent_once_when_a_run_fails_and_once_when_its_dead_worker_is_noticed(integration):
    ended = []

    def receiver(sender, run, **kwargs):
        ended.append((run.pk, run.state))

    run_ended.connect(receiver)
    try:
        failed, _ = start_run(integration=integration, trigger="button")
        execute_run(failed.pk)  # no connections: it fails at once
        dead, _ = start_run(integration=integration, trigger="button")
        claim_run(dead.pk)
        SyncRun.objects.filter(pk=dead.pk).update(heartbeat_at=timezone.now() - dt.timedelta(minutes=10))
        recover_stale_runs(integration=integration)
        recover_stale_runs(integration=integration)
    finally:
        run_ended.disconnect(receiver)
    assert ended == [(failed.pk, RunState.FAILED), (dead.pk, RunState.FAILED)]

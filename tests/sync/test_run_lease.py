"""A run's lease held by a live process (syncapp/sync/lease.py): a run whose worker process is gone
is failed at once and the next run starts within seconds; a live worker keeps its run however old
its heartbeat, until minutes of silence say it hung; a dead worker's last Procore request is waited
for. The worker processes here are real OS processes (tests/torture/harness.py), killed or stopped
by signal."""

from __future__ import annotations

import datetime as dt
import signal
import threading
import time

import pytest
from django.db import connections
from django.utils import timezone

from syncapp.connections.models import Integration
from syncapp.sandbox.procore.models import ContractPayment
from syncapp.sync import lease, progress
from syncapp.sync.models import RunState, SyncRun
from syncapp.sync.progress import RunAborted, RunContext
from syncapp.sync.runs import execute_run, recover_stale_runs, start_run, take_and_execute
from tests.sync.conftest import SteppedClock
from tests.torture.harness import Workers, compare_with_expected

pytestmark = pytest.mark.postgres

def _running(integration: Integration, *, heartbeat_age: dt.timedelta, **fields) -> SyncRun:
    """A run as its worker leaves it once claimed (`runs.take_and_execute`), with a heartbeat this old."""
    now = timezone.now()
    fields = {"worker": "worker-host pid 4242", "worker_lock": True, **fields}
    return SyncRun.objects.create(
        integration=integration,
        trigger="button",
        state=RunState.RUNNING,
        started_at=now - dt.timedelta(hours=1),
        heartbeat_at=now - heartbeat_age,
        **fields,
    )


@pytest.fixture
def integration(db) -> Integration:
    return Integration.objects.create(name="demo")


# --- what recover_stale_runs decides, from the lock and the run's row ---------------------------------


def test_a_run_whose_worker_holds_its_lock_stays_running_however_old_its_heartbeat(integration):
    run = _running(integration, heartbeat_age=dt.timedelta(minutes=5))
    held = lease.acquire(run.pk)  # the worker's own session, as in the process executing the run
    assert held is not None and held.locked, "no session for the lock (see the log)"
    try:
        assert recover_stale_runs() == []
        assert SyncRun.objects.get(pk=run.pk).state == RunState.RUNNING
    finally:
        held.release()
    [dead] = recover_stale_runs()  # its session ended: known dead at once
    assert dead.pk == run.pk and dead.state == RunState.FAILED
    assert "worker-host pid 4242" in dead.error and "is gone" in dead.error
    assert dead.log_lines.filter(level="error", message=dead.error).exists()


def test_a_run_whose_worker_holds_its_lock_but_is_silent_for_minutes_is_declared_hung(integration, settings):
    settings.SYNC_HUNG_SECONDS = 600
    run = _running(integration, heartbeat_age=dt.timedelta(minutes=11))
    held = lease.acquire(run.pk)
    assert held is not None and held.locked, "no session for the lock (see the log)"
    try:
        [dead] = recover_stale_runs()
    finally:
        held.release()
    assert dead.pk == run.pk and "stopped responding" in dead.error


def test_a_dead_workers_run_is_not_failed_while_its_last_procore_request_may_still_land(integration):
    in_30s = timezone.now() + dt.timedelta(seconds=30)
    run = _running(integration, heartbeat_age=dt.timedelta(seconds=3), write_until=in_30s)
    assert recover_stale_runs() == []  # nobody holds its lock, but a POST it sent may be on its way
    SyncRun.objects.filter(pk=run.pk).update(write_until=timezone.now() - dt.timedelta(seconds=1))
    [dead] = recover_stale_runs()
    assert dead.pk == run.pk and "is gone" in dead.error


def test_a_run_claimed_without_a_lock_is_left_to_the_heartbeat(integration):
    # SQLite, or a run claimed by older code: a free lock says nothing, two silent minutes do.
    run = _running(integration, heartbeat_age=dt.timedelta(seconds=30), worker_lock=False)
    assert recover_stale_runs() == []
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - dt.timedelta(minutes=3))
    [dead] = recover_stale_runs()
    assert "stopped responding" in dead.error


def test_once_a_run_writes_every_procore_call_moves_write_until_and_a_run_declared_dead_stops_first(
    integration, settings, monkeypatch
):
    settings.HTTP_TIMEOUT = 20
    clock = SteppedClock()
    monkeypatch.setattr(progress, "time", clock)  # write_until moves at most once a (monotonic) second
    run = _running(integration, heartbeat_age=dt.timedelta(0))
    ctx = RunContext(run)
    ctx.procore_calls.count()  # reads before any write mark nothing
    assert SyncRun.objects.get(pk=run.pk).write_until is None
    ctx.renew_lease()  # right before the first write
    first = SyncRun.objects.get(pk=run.pk).write_until
    assert dt.timedelta(seconds=20) < first - timezone.now() <= dt.timedelta(seconds=25)
    clock.sleep(1.05)
    ctx.procore_calls.count()  # the client about to send a request (a re-sent POST, say)
    assert SyncRun.objects.get(pk=run.pk).write_until > first
    SyncRun.objects.filter(pk=run.pk).update(state=RunState.FAILED)
    clock.sleep(1.05)
    with pytest.raises(RunAborted):
        ctx.procore_calls.count()


def test_a_worker_that_cannot_open_a_lock_session_still_runs_known_alive_by_its_heartbeat(integration, monkeypatch):
    def no_connection_left():
        raise OSError("FATAL: sorry, too many clients already")

    monkeypatch.setattr(lease, "_open_session", no_connection_left)
    run, _ = start_run(integration=integration, trigger="command")
    run = execute_run(run.pk)
    assert run.state == RunState.FAILED and "not connected" in run.error  # it ran, to its own end
    assert not run.worker_lock and run.worker


@pytest.mark.django_db(transaction=True)
def test_a_queued_run_taken_by_two_workers_at_the_same_moment_is_executed_once():
    integration = Integration.objects.create(name="race")
    run, _ = start_run(integration=integration, trigger="button")
    barrier = threading.Barrier(4)
    results: list[SyncRun | None] = []

    def take():
        try:
            barrier.wait()
            results.append(take_and_execute(run.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    executed = [r for r in results if r is not None]
    assert len(results) == 4 and len(executed) == 1
    run.refresh_from_db()
    assert run.state == RunState.FAILED and "not connected" in run.error  # it ran: no connections here
    assert run.log_lines.filter(message__startswith="Run started").count() == 1


# --- real worker processes ---------------------------------------------------------------------------


@pytest.fixture
def workers(duplicates_allowed, tmp_path):
    started = Workers(site_url=duplicates_allowed.url, log_dir=tmp_path)
    try:
        yield started
    finally:
        started.end_all()


def _start_when_possible(world, *, within: float) -> tuple[SyncRun, float]:
    """Click until a new run starts, as a person (or the schedule) would; (run, seconds waited)."""
    began = time.monotonic()
    while True:
        run, created = start_run(integration=world.integration, trigger="button")
        waited = time.monotonic() - began
        if created:
            return run, waited
        assert waited < within, f"run #{run.pk} still {run.state} after {waited:.1f}s"
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("point", "within"),
    [
        # Before any write to Procore: the next run may start the moment the process is gone.
        ("after_fetch:1", 2.0),
        # Right before a POST: only once that POST could no longer land (HTTP_TIMEOUT 2 s + 5 s).
        ("before_create:3", 9.0),
    ],
)
def test_a_worker_killed_with_sigkill_frees_its_run_within_seconds(duplicates_allowed, workers, point, within):
    world = duplicates_allowed
    worker = workers.sync_payments(TORTURE_CRASH_AT=point, HTTP_TIMEOUT="2")
    assert worker.wait(timeout=180) == -signal.SIGKILL, worker.tail()
    run, waited = _start_when_possible(world, within=within)
    dead = SyncRun.objects.exclude(pk=run.pk).get()
    assert dead.state == RunState.FAILED
    assert f"pid {worker.pid}) is gone" in dead.error and "Start the sync again" in dead.error
    run = execute_run(run.pk)
    assert run.state == RunState.SUCCEEDED, run.error
    comparison = compare_with_expected(world.summary.expected)
    assert comparison.clean, comparison.details()
    print(f"\n{point}: the next run started {waited:.2f}s after the worker was killed")


@pytest.mark.django_db(transaction=True)
def test_a_stopped_worker_keeps_its_run_until_it_hangs_for_minutes_and_then_sends_nothing(duplicates_allowed, workers):
    world = duplicates_allowed
    worker = workers.sync_payments(TORTURE_CRASH_AT="before_create:2:stop")
    deadline = time.monotonic() + 180
    while not worker.stopped():
        assert worker.alive() and time.monotonic() < deadline, worker.tail()
        time.sleep(0.05)
    run = SyncRun.objects.get(state=RunState.RUNNING)
    assert run.worker.endswith(f"pid {worker.pid}") and run.worker_lock
    sent_before = ContractPayment.objects.count()
    # A heartbeat minutes old, past the write mark: the process still holds the lock, so it stays.
    long_ago = timezone.now() - dt.timedelta(minutes=5)
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=long_ago, write_until=long_ago)
    assert recover_stale_runs() == []
    _, created = start_run(integration=world.integration, trigger="button")
    assert not created
    # Silent for longer than SYNC_HUNG_SECONDS: declared dead though its process lives.
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - dt.timedelta(minutes=11))
    [dead] = recover_stale_runs()
    assert dead.pk == run.pk and "stopped responding" in dead.error
    worker.send(signal.SIGCONT)
    worker.wait(timeout=60)
    dead.refresh_from_db()
    assert dead.state == RunState.FAILED and "stopped responding" in dead.error
    assert ContractPayment.objects.count() == sent_before  # it woke up and stopped before its POST

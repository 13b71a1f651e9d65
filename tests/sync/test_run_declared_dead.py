"""A run declared dead while its worker slept (a long Retry-After, a frozen VM) stops when it wakes:
it beats while it sleeps, stops the moment the run is taken away, cannot claim a payment the run
after it holds, and never sends a payment twice."""

from __future__ import annotations

import pytest
from django.utils import timezone

from syncapp.connections.models import Integration
from syncapp.sandbox.procore.models import ContractPayment
from syncapp.sync import crashpoints, progress
from syncapp.sync.models import Payment, PaymentState, RunState, SyncRun
from syncapp.sync.progress import RunAborted, RunContext
from syncapp.sync.runs import execute_run, start_run
from syncapp.sync.send import _claim
from tests.dashboard.conftest import make_payment
from tests.sync.conftest import SteppedClock, procore_duplicates


@pytest.fixture
def integration(db) -> Integration:
    return Integration.objects.create(name="northwind")


@pytest.mark.django_db(transaction=True)
def test_a_run_declared_dead_while_it_slept_stops_and_never_duplicates_a_payment(duplicates_allowed):
    world = duplicates_allowed
    second: dict[str, SyncRun] = {}
    seen = {"n": 0}

    def stall_then_let_another_run_start(point: str) -> None:
        if point != "before_create":
            return
        seen["n"] += 1
        if seen["n"] != 3:
            return
        crashpoints.hook = None
        # Worker A stalls here (a long Retry-After, say) until its heartbeat is stale; a click
        # then recovers A as dead and starts run B, which runs to the end. Then A wakes up.
        long_ago = "2000-01-01T00:00:00Z"  # its heartbeat and the deadline of its last request
        SyncRun.objects.filter(state=RunState.RUNNING).update(heartbeat_at=long_ago, write_until=long_ago)
        run_b, created = start_run(integration=world.integration, trigger="button")
        assert created
        second["run"] = execute_run(run_b.pk)

    crashpoints.hook = stall_then_let_another_run_start
    try:
        run_a = world.run()
    finally:
        crashpoints.hook = None
    assert procore_duplicates() == {}
    assert not Payment.objects.filter(state__in=[PaymentState.FAILED, PaymentState.SENDING]).exists()
    assert second["run"].state == RunState.SUCCEEDED, second["run"].error
    # A keeps the "failed" it was given when declared dead: it neither finished nor wrote counts.
    assert run_a.state == RunState.FAILED and "stopped responding" in run_a.error
    for pid, outcome in world.summary.expected.items():
        if outcome in ("sent", "already_sent"):
            assert ContractPayment.objects.filter(origin_id=pid).count() == 1


def test_a_run_declared_dead_cannot_claim_a_payment_the_run_after_it_holds(integration):
    payment = make_payment(integration, 1, attempts=1)  # sent once, by an earlier run
    zombie = SyncRun.objects.create(integration=integration, trigger="command", state=RunState.FAILED)
    holder = SyncRun.objects.create(integration=integration, trigger="command", state=RunState.RUNNING)
    Payment.objects.filter(pk=payment.pk).update(state=PaymentState.SENDING, claimed_by_run=holder)
    with pytest.raises(RunAborted):
        _claim(RunContext(zombie), payment)
    payment.refresh_from_db()
    assert payment.claimed_by_run_id == holder.pk and payment.attempts == 1


def test_a_long_wait_beats_while_it_sleeps_and_stops_when_the_run_is_taken_away(integration, monkeypatch):
    monkeypatch.setattr(progress, "SLEEP_SLICE", 0.05)
    monkeypatch.setattr(progress, "time", SteppedClock())
    run, _ = start_run(integration=integration, trigger="command")
    SyncRun.objects.filter(pk=run.pk).update(state=RunState.RUNNING, heartbeat_at="2000-01-01T00:00:00Z")
    ctx = RunContext(SyncRun.objects.get(pk=run.pk))
    ctx.sleep(0.2)
    assert SyncRun.objects.get(pk=run.pk).heartbeat_at > timezone.now() - timezone.timedelta(seconds=5)
    SyncRun.objects.filter(pk=run.pk).update(state=RunState.FAILED)
    with pytest.raises(RunAborted):
        ctx.sleep(0.2)
    assert SyncRun.objects.get(pk=run.pk).state == RunState.FAILED

"""Exactly once, whatever goes wrong: lost answers, crashes at every step, 429 storms and 5xx.

Each test ends by comparing Procore with what an uninterrupted run gives: every sendable payment
there exactly once, nothing else created, every payment in its expected state. The sandbox's
Procore is told to accept duplicate origin_ids here (`duplicates_allowed`): whether real Procore
refuses them is unverified, so these tests count on our guarantee alone.
"""

from __future__ import annotations

from collections import Counter

import pytest

from syncapp.sandbox.models import Behaviour
from syncapp.sandbox.procore.models import ContractPayment
from syncapp.sync.models import PaymentState, RunState
from tests.sync.conftest import abandon_dead_runs

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("duplicates_allowed")]

EXPECTED_STATE = {
    "sent": PaymentState.SENT,
    "already_sent": PaymentState.SENT,
    "blocked": PaymentState.BLOCKED,
    "ignored": PaymentState.SKIPPED,
}


def assert_same_end_state_as_an_uninterrupted_run(world) -> None:
    origins = Counter(ContractPayment.objects.exclude(origin_id="").values_list("origin_id", flat=True))
    duplicates = {origin: n for origin, n in origins.items() if n > 1}
    assert not duplicates
    should_be_there = {pid for pid, outcome in world.summary.expected.items() if outcome in ("sent", "already_sent")}
    assert set(origins) == should_be_there
    wrong = {
        pid: (outcome, p.state, p.message)
        for pid, outcome in world.summary.expected.items()
        if (p := world.payment(pid)).state != EXPECTED_STATE[outcome]
    }
    assert not wrong
    for pid in should_be_there:
        assert world.payment(pid).procore_payment_id == ContractPayment.objects.get(origin_id=pid).pk


@pytest.mark.parametrize("fault", ["500", "timeout"])
def test_commit_then_fail_on_creation_never_leaves_a_duplicate(world, settings, fault):
    settings.HTTP_TIMEOUT = 1.0
    Behaviour.set("procore", commit_then_fail=fault, commit_then_fail_rate=1.0 if fault == "500" else 0.3,
                  hang_seconds=1.5)  # fmt: skip
    run = world.run()
    assert run.state == RunState.SUCCEEDED, run.error
    Behaviour.set("procore", commit_then_fail="")
    world.run()
    assert_same_end_state_as_an_uninterrupted_run(world)
    reconciled = sum(world.payment(pid).events.filter(kind="reconciled").count() for pid in world.summary.expected)
    assert reconciled > 0  # the lost answers were found by re-reading, not posted again


@pytest.mark.parametrize(
    ("point", "nth"),
    [
        ("after_fetch", 1),
        ("after_resolve", 1),
        ("before_create", 1),
        ("before_create", 7),
        ("after_create", 1),
        ("after_create", 7),
    ],
)
def test_a_run_that_dies_at_any_step_and_runs_again_ends_like_an_uninterrupted_run(world, crash_at, point, nth):
    died = crash_at(point, nth=nth)
    with pytest.raises(died):
        world.run()
    abandon_dead_runs()  # the heartbeat check marks it failed; a new run may start
    run = world.run()
    assert run.state == RunState.SUCCEEDED, run.error
    assert_same_end_state_as_an_uninterrupted_run(world)


def test_a_payment_left_sending_by_a_dead_worker_is_reconciled_not_posted_twice(world, crash_at):
    died = crash_at("after_create", nth=3)
    with pytest.raises(died):
        world.run()
    left = [pid for pid in world.summary.expected if world.payment(pid).state == PaymentState.SENDING]
    assert len(left) == 1
    abandon_dead_runs()
    world.run()
    [pid] = left
    assert ContractPayment.objects.filter(origin_id=pid).count() == 1
    assert world.payment(pid).state == PaymentState.SENT


def test_a_429_storm_and_20_percent_5xx_still_send_every_eligible_payment_once(world):
    # A one-second spike window keeps each 429's Retry-After short, so the storm fits in a test.
    Behaviour.set("procore", error_rate=0.2, throttle_rate=0.2, spike_window_seconds=1)
    Behaviour.set("xero", error_rate=0.2, throttle_rate=0.2)
    run = world.run()
    for _ in range(3):  # a run may give up on a payment after its retries; the next run finishes it
        if run.state == RunState.SUCCEEDED and not run.counts.get("failed"):
            break
        from syncapp.sync import services
        from syncapp.sync.models import Payment

        for payment in Payment.objects.filter(state=PaymentState.FAILED):
            services.retry_payment(payment=payment)
        run = world.run()
    Behaviour.set("procore", error_rate=0, throttle_rate=0)
    Behaviour.set("xero", error_rate=0, throttle_rate=0)
    assert run.state == RunState.SUCCEEDED, run.error
    assert run.throttled > 0 or run.api_calls_procore > 0
    assert_same_end_state_as_an_uninterrupted_run(world)

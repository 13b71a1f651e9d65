"""The review's reproductions, over HTTP against the sandbox: a run declared dead while it slept,
a payment edited while the pages are read, and payments deleted in Xero while it was unknown
whether Procore had them. Each failed before the fix."""

from __future__ import annotations

import pytest
from django.utils import timezone

from syncapp.connectors import xero as xero_module
from syncapp.sandbox.procore.models import Company, ContractPayment
from syncapp.sandbox.xero.models import Payment as XeroPaymentRow
from syncapp.sync import crashpoints, services
from syncapp.sync.models import Payment, PaymentState, RunState, SyncRun
from syncapp.sync.runs import execute_run, start_run
from tests.sync.conftest import abandon_dead_runs, procore_duplicates

pytestmark = pytest.mark.django_db(transaction=True)


# --- a run declared dead while its worker slept ----------------------------------------------------


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


def test_a_run_declared_dead_cannot_claim_a_payment_the_run_after_it_holds(world):
    from syncapp.sync.progress import RunAborted, RunContext
    from syncapp.sync.send import _claim

    world.run()
    payment = Payment.objects.filter(state=PaymentState.SENT).first()
    zombie = SyncRun.objects.create(integration=world.integration, trigger="command", state=RunState.FAILED)
    holder = SyncRun.objects.create(integration=world.integration, trigger="command", state=RunState.RUNNING)
    Payment.objects.filter(pk=payment.pk).update(state=PaymentState.SENDING, claimed_by_run=holder)
    with pytest.raises(RunAborted):
        _claim(RunContext(zombie), payment)
    payment.refresh_from_db()
    assert payment.claimed_by_run_id == holder.pk and payment.attempts == 1


def test_a_long_wait_beats_while_it_sleeps_and_stops_when_the_run_is_taken_away(world, monkeypatch):
    from syncapp.sync import progress

    monkeypatch.setattr(progress, "SLEEP_SLICE", 0.05)
    run, _ = start_run(integration=world.integration, trigger="command")
    SyncRun.objects.filter(pk=run.pk).update(state=RunState.RUNNING, heartbeat_at="2000-01-01T00:00:00Z")
    ctx = progress.RunContext(SyncRun.objects.get(pk=run.pk))
    ctx.sleep(0.2)
    assert SyncRun.objects.get(pk=run.pk).heartbeat_at > timezone.now() - timezone.timedelta(seconds=5)
    SyncRun.objects.filter(pk=run.pk).update(state=RunState.FAILED)
    with pytest.raises(progress.RunAborted):
        ctx.sleep(0.2)
    assert SyncRun.objects.get(pk=run.pk).state == RunState.FAILED


# --- a payment edited in Xero while the pages are read ---------------------------------------------


def test_a_payment_edited_while_the_pages_are_read_is_not_lost(world, monkeypatch):
    original = xero_module.XeroClient.payments_page
    touched = {"done": False}
    calls = []

    def small_pages_and_an_edit_after_the_first(self, *, page, modified_since=None):
        self._page_size = 10
        calls.append(page)
        result = original(self, page=page, modified_since=modified_since)
        if not touched["done"]:
            touched["done"] = True
            # Someone in finance changes an early payment while we page.
            XeroPaymentRow.objects.filter(payment_id=result.items[0].payment_id).update(updated_at=timezone.now())
        return result

    monkeypatch.setattr(xero_module.XeroClient, "payments_page", small_pages_and_an_edit_after_the_first)
    run = world.run()
    assert run.state == RunState.SUCCEEDED, run.error
    in_xero = {str(pid) for pid in XeroPaymentRow.objects.values_list("payment_id", flat=True)}
    fetched = set(Payment.objects.values_list("xero_payment_id", flat=True))
    assert in_xero - fetched == set()
    assert run.fetched == len(in_xero)  # each payment counted once, however often it was read
    # Reading on from the newest change seen re-reads the row at the page boundary, and the edited
    # row once more: a page of 1,000 pays 0.1% for it; here (pages of 10) it is a call or two.
    assert len(calls) <= -(-len(in_xero) // 9) + 1


# --- deleted in Xero while it was unknown whether Procore had it ------------------------------------


@pytest.mark.parametrize("deletes", ["allowed", "refused"])
def test_a_payment_left_sending_then_deleted_in_xero_is_found_in_procore_and_reversed(world, crash_at, deletes):
    # Procore's documented default refuses to delete a synced payment: then the reversal is a
    # person's ("needs attention"); in a company where deletes work, it is deleted.
    Company.objects.update(refuse_delete_with_origin=deletes == "refused")
    died = crash_at("after_create", nth=2)
    with pytest.raises(died):
        world.run()
    [pid] = [p for p in world.summary.expected if world.payment(p).state == PaymentState.SENDING]
    assert ContractPayment.objects.filter(origin_id=pid).count() == 1
    XeroPaymentRow.objects.filter(payment_id=pid).update(status="DELETED", updated_at=timezone.now())
    abandon_dead_runs()
    run = world.run()
    payment = world.payment(pid)
    assert run.state == RunState.SUCCEEDED, run.error
    assert payment.events.filter(kind="reconciled", message__contains="found in Procore").exists()
    if deletes == "refused":
        assert payment.state == PaymentState.NEEDS_ATTENTION and payment.procore_payment_id is not None
        assert ContractPayment.objects.filter(origin_id=pid).count() == 1
    else:
        assert payment.state == PaymentState.REVERSED
        assert ContractPayment.objects.filter(origin_id=pid).count() == 0


def test_a_failed_payment_that_reached_procore_then_deleted_in_xero_is_reversed_not_skipped(world, crash_at):
    Company.objects.update(refuse_delete_with_origin=False)  # a company where deletes work: see above
    died = crash_at("after_create", nth=1)
    with pytest.raises(died):
        world.run()
    [pid] = [p for p in world.summary.expected if world.payment(p).state == PaymentState.SENDING]
    abandon_dead_runs()
    # As if the POST had timed out and the run gave up on it: failed, though Procore has it.
    Payment.objects.filter(xero_payment_id=pid).update(state=PaymentState.FAILED, claimed_by_run=None)
    XeroPaymentRow.objects.filter(payment_id=pid).update(status="DELETED", updated_at=timezone.now())
    services.retry_payment(payment=world.payment(pid))  # an Admin retries it: back to "new"
    world.run()
    assert world.payment(pid).state == PaymentState.REVERSED
    assert not ContractPayment.objects.filter(origin_id=pid).exists()


def test_a_deleted_payment_procore_never_got_is_set_aside_saying_procore_was_checked(world, crash_at):
    died = crash_at("before_create", nth=1)
    with pytest.raises(died):
        world.run()
    [pid] = [p for p in world.summary.expected if world.payment(p).state == PaymentState.SENDING]
    assert not ContractPayment.objects.filter(origin_id=pid).exists()
    XeroPaymentRow.objects.filter(payment_id=pid).update(status="DELETED", updated_at=timezone.now())
    abandon_dead_runs()
    world.run()
    payment = world.payment(pid)
    assert payment.state == PaymentState.SKIPPED and payment.reason_code == "deleted_in_xero"
    assert "checked" in payment.message
    assert not ContractPayment.objects.filter(origin_id=pid).exists()

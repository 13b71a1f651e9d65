"""Payments deleted in Xero while it was unknown whether Procore had them (a run died between
claiming and hearing Procore's answer), over HTTP against the sandbox: the next run looks in
Procore first, then reverses what it finds there, or sets aside what never arrived."""

from __future__ import annotations

import pytest
from django.utils import timezone

from syncapp.sandbox.procore.models import Company, ContractPayment
from syncapp.sandbox.xero.models import Payment as XeroPaymentRow
from syncapp.sync import services
from syncapp.sync.models import Payment, PaymentState, RunState
from tests.sync.conftest import abandon_dead_runs

pytestmark = pytest.mark.django_db(transaction=True)


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

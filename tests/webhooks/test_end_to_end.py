"""Webhooks end to end, over HTTP: a payment added in the sandbox Xero makes it send a signed
delivery to the product, whose task starts a targeted run that puts the payment in the sandbox
Procore; and what a targeted run reads and leaves alone."""

from __future__ import annotations

import pytest
from django_q.models import OrmQ

from syncapp.sandbox.procore.models import ContractPayment
from syncapp.sandbox.seeding.changes import add_payments
from syncapp.sandbox.xero import webhooks as sandbox_webhooks
from syncapp.sync import tasks as sync_tasks
from syncapp.sync.models import Payment, PaymentState, RunState, SyncCursor, SyncRun
from syncapp.sync.runs import execute_run, start_run
from syncapp.webhooks import tasks as webhook_tasks
from syncapp.webhooks.models import XeroWebhookEvent
from tests.webhooks.conftest import KEY

pytestmark = pytest.mark.django_db(transaction=True)


def queued_task(name_prefix: str) -> tuple:
    [task] = [t for t in OrmQ.objects.all() if t.task["name"].startswith(name_prefix)]
    task.delete()  # taken by "the worker": this test
    return task.task["args"]


@pytest.fixture
def webhooks_on(world, settings):
    """Xero's webhook for the app points at the product (the key shared, as the portal shows it)."""
    settings.XERO_WEBHOOK_KEY = KEY
    settings.WEBHOOK_DEBOUNCE_SECONDS = 0
    settings.SANDBOX_XERO_WEBHOOK_URL = f"{world.url}/webhooks/xero/"
    first = world.run()  # the product has read everything so far
    assert first.state == RunState.SUCCEEDED, first.error
    OrmQ.objects.all().delete()


@pytest.mark.usefixtures("webhooks_on")
def test_a_payment_added_in_xero_reaches_procore_through_a_signed_webhook(world):
    watermark = SyncCursor.objects.get(integration=world.integration).payments_since

    added = add_payments(count=2, projects=1, new_invoices=True, seed=11)  # two bills paid in Xero, now
    sandbox_webhooks.wait_for_deliveries()  # each answered by the product's endpoint

    assert set(XeroWebhookEvent.objects.values_list("resource_id", flat=True)) == set(added.bill_ids)
    # The endpoint queued one task for the two deliveries; the worker runs it:
    run_id = webhook_tasks.dispatch(*queued_task("webhook-sync-"))
    run = SyncRun.objects.get(pk=run_id)
    assert run.trigger == SyncRun.Trigger.WEBHOOK and sorted(run.bill_ids) == sorted(added.bill_ids)
    assert sync_tasks.run_sync(*queued_task("sync-run-")) == RunState.SUCCEEDED

    run.refresh_from_db()
    assert run.counts.get("sent") == 2, run.counts
    for payment_id in added.payment_ids:
        assert world.payment(payment_id).state == PaymentState.SENT
        assert ContractPayment.objects.filter(origin_id=payment_id).count() == 1
    assert SyncCursor.objects.get(integration=world.integration).payments_since == watermark
    assert not XeroWebhookEvent.objects.filter(consumed_by_run__isnull=True).exists()


@pytest.mark.usefixtures("webhooks_on")
def test_a_targeted_run_reads_only_its_bills_payments_and_leaves_the_watermark(world, settings):
    settings.SANDBOX_XERO_WEBHOOK_URL = ""  # this test names the bills itself
    cursor = SyncCursor.objects.get(integration=world.integration)
    added = add_payments(count=2, projects=2, new_invoices=True, seed=12)
    named, other = added.bill_ids
    known_before = Payment.objects.filter(integration=world.integration).count()

    run, created = start_run(integration=world.integration, trigger=SyncRun.Trigger.WEBHOOK, bill_ids=[named])
    assert created
    run = execute_run(run.pk)

    assert run.state == RunState.SUCCEEDED, run.error
    assert world.payment(added.payment_ids[0]).state == PaymentState.SENT
    assert not Payment.objects.filter(xero_payment_id=added.payment_ids[1]).exists()
    assert Payment.objects.filter(integration=world.integration).count() == known_before + 1
    assert not ContractPayment.objects.filter(origin_id=added.payment_ids[1]).exists()
    after = SyncCursor.objects.get(integration=world.integration)
    assert (after.payments_since, after.bills_since, after.contacts_since) == (
        cursor.payments_since,
        cursor.bills_since,
        cursor.contacts_since,
    )
    assert other not in run.bill_ids

    # The next full run reads from the watermark: the other bill's payment is found then.
    full = world.run()
    assert full.state == RunState.SUCCEEDED, full.error
    assert world.payment(added.payment_ids[1]).state == PaymentState.SENT
    assert ContractPayment.objects.filter(origin_id=added.payment_ids[0]).count() == 1  # not sent twice


@pytest.mark.usefixtures("webhooks_on")
def test_an_event_for_a_sales_invoice_reads_it_and_fetches_no_payments(world):
    from syncapp.sandbox.xero.models import Invoice

    sales = Invoice.objects.filter(type="ACCPAY").first()
    Invoice.objects.filter(pk=sales.pk).update(type="ACCREC")  # a customer invoice, as far as Xero says
    run, _ = start_run(integration=world.integration, trigger=SyncRun.Trigger.WEBHOOK, bill_ids=[str(sales.invoice_id)])
    run = execute_run(run.pk)
    assert run.state == RunState.SUCCEEDED, run.error
    assert run.fetched == 0
    assert "1 other invoices or unknown ids left out" in " ".join(run.log_lines.values_list("message", flat=True))

"""Smaller guarantees of the sync engine, over HTTP against the sandbox: an unlinked vendor stays
unlinked, a 409 proves the payment is in Procore, one refused read
per commitment, final outcome counts and words, the button's task through django-q, the schedule
that recovers dead runs, and references kept whole."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from syncapp.sandbox.models import Behaviour
from syncapp.sandbox.procore.models import Commitment, Company, ContractPayment
from syncapp.sandbox.xero.models import Payment as XeroPaymentRow
from syncapp.sync import crashpoints, services
from syncapp.sync.models import LinkHow, Payment, PaymentState, RunState, SyncRun, VendorLink

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_unlinked_confirmed_vendor_blocks_its_payments_and_is_not_matched_again(world, admin_user):
    world.run()
    [contact_id, *_] = world.summary.cases["tax_number_match"]
    link = VendorLink.objects.get(integration=world.integration, xero_contact_id=contact_id)
    assert link.confirmed and link.how == LinkHow.TAX_NUMBER
    # Unsent payments of this contact: new ones arrive after the unlink.
    pids = [
        p for p in world.summary.contact_payments["tax_number_match"] if world.payment(p).xero_contact_id == contact_id
    ]
    assert pids
    Payment.objects.filter(xero_payment_id__in=pids).update(state=PaymentState.NEW, procore_payment_id=None)
    ContractPayment.objects.filter(origin_id__in=pids).delete()
    services.unlink_vendor(link=link, actor=admin_user)
    world.run()
    for pid in pids:
        payment = world.payment(pid)
        assert payment.state == PaymentState.BLOCKED and payment.reason_code == "vendor_not_linked"
        assert "unlinked" in payment.message
    assert VendorLink.objects.get(pk=link.pk).how == LinkHow.UNLINKED  # the tax number did not relink it
    assert not ContractPayment.objects.filter(origin_id__in=pids).exists()
    services.link_vendor(
        integration=world.integration,
        xero_contact_id=contact_id,
        procore_vendor_id=link.procore_vendor_id,
        vendor_name=link.vendor_name,
        actor=admin_user,
    )
    world.run()
    assert {world.payment(pid).state for pid in pids} == {PaymentState.SENT}


def test_a_409_origin_id_taken_records_the_payment_as_sent_with_procores_id(world):
    # Someone else's write lands between our read of the commitment and our POST; with the
    # sandbox's uniqueness on, the POST answers 409. Uniqueness is off by default (whether real
    # Procore refuses a taken origin_id is unverified): this test is about the 409 path, so it
    # switches it on.
    Company.objects.update(unique_payment_origin=True)
    [pid, *_] = world.summary.cases["full"]
    planted = {}

    def plant(point: str) -> None:
        if point != "before_create" or planted:
            return
        row = Payment.objects.get(xero_payment_id=pid)
        if row.state != PaymentState.SENDING:
            return
        planted["payment"] = ContractPayment.objects.create(
            project_id=row.procore_project_id,
            commitment_id=row.procore_commitment_id,
            date=row.date,
            amount=row.amount,
            origin_id=pid,
        )

    crashpoints.hook = plant
    try:
        run = world.run()
    finally:
        crashpoints.hook = None
    payment = world.payment(pid)
    assert run.state == RunState.SUCCEEDED, run.error
    assert payment.state == PaymentState.SENT and payment.procore_payment_id == planted["payment"].pk
    assert ContractPayment.objects.filter(origin_id=pid).count() == 1
    assert payment.events.filter(kind="reconciled", message__contains="taken").exists()


def test_a_commitment_whose_payments_procore_refuses_to_show_is_asked_once_per_run(world):
    from syncapp.connections.services import get_connection
    from syncapp.connections.tokens import ConnectionTokens
    from syncapp.connectors.procore import ProcoreClient
    from syncapp.connectors.types import DataError
    from syncapp.sync.procore_index import ProcoreIndex
    from syncapp.sync.procore_store import ProcoreStore

    connection = get_connection(integration=world.integration, provider="procore")
    with ProcoreClient(tokens=ConnectionTokens(connection), company_id=int(connection.tenant_id)) as client:
        index = ProcoreIndex(client, ProcoreStore(world.integration))
        for _ in range(5):
            with pytest.raises(DataError):
                index.payments_on(project_id=123, commitment_id=456)  # no such project: 404
        assert client.counter.calls == 1


def test_a_run_counts_final_outcomes_only_and_says_them_in_plain_words(world):
    run = world.run()
    assert "ready" not in run.counts
    sendable = sum(1 for outcome in world.summary.expected.values() if outcome == "sent")
    assert run.counts["sent"] == sendable
    finished = run.log_lines.get(message__startswith="Run finished")
    assert "already in Procore" in finished.message and "not for Procore" in finished.message
    [pid, *_] = world.summary.contact_payments["no_vendor"]
    event = world.payment(pid).events.get(kind="blocked")
    assert event.message.startswith("Blocked because Xero contact ")


def test_the_button_queues_a_task_that_django_q_runs_to_a_finished_run(world, finance_user, client, monkeypatch):
    from django_q.conf import Conf
    from django_q.models import Task

    monkeypatch.setattr(Conf, "SYNC", True)  # the task runs in this process, through django-q's worker code
    client.force_login(finance_user)
    response = client.post(reverse("start-sync"))
    assert response.status_code == 302
    run = SyncRun.objects.get(integration=world.integration)
    assert run.state == RunState.SUCCEEDED, run.error
    assert run.requested_by == finance_user and run.counts["sent"] > 0
    task = Task.objects.get(name=f"sync-run-{run.pk}")
    assert task.success and task.func == "syncapp.sync.tasks.run_sync"


@pytest.mark.django_db(transaction=False)
def test_dead_runs_are_recovered_by_a_schedule_every_minute():
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="recover-stale-sync-runs")
    assert schedule.func == "syncapp.sync.tasks.recover_stale"
    assert schedule.schedule_type == Schedule.MINUTES and schedule.minutes == 1 and schedule.repeats < 0


def test_a_long_reference_reaches_procore_whole(world):
    [pid, *_] = world.summary.cases["full"]
    reference = "EFT " + "0123456789" * 12  # 124 characters: the old cut at 50 lost most of it
    XeroPaymentRow.objects.filter(payment_id=pid).update(reference=reference)
    world.run()
    assert ContractPayment.objects.get(origin_id=pid).check_number == reference


def test_a_404_on_delete_is_taken_as_reversed_only_after_a_fresh_read_shows_it_gone(world):
    world.run()
    [pid, *_] = world.summary.cases["full"]
    ContractPayment.objects.filter(origin_id=pid).delete()  # someone deleted it in Procore by hand
    XeroPaymentRow.objects.filter(payment_id=pid).update(status="DELETED", updated_at=timezone.now())
    run = world.run()
    payment = world.payment(pid)
    assert payment.state == PaymentState.REVERSED and run.counts["reversed"] == 1


def test_the_payment_method_an_admin_chose_is_what_procore_receives(world, admin_user):
    services.update_settings(integration=world.integration, payment_method="check", start_date=None, actor=admin_user)
    assert world.run().state == RunState.SUCCEEDED
    [pid] = world.summary.cases["full"][:1]
    assert ContractPayment.objects.get(origin_id=pid).payment_method == "check"


def test_a_ready_payment_an_admin_points_at_another_commitment_is_sent_there(world, admin_user):
    # A run left the payment ready for one commitment (a dry run here; a run paused by a rate
    # limit does the same); an Admin then links its bill to another. The next run must send it
    # to the one the Admin chose, not to the one the row still names.
    [pid, *_] = world.summary.cases["full"]
    world.run(dry_run=True)
    ready = world.payment(pid)
    assert ready.state == PaymentState.READY
    old = Commitment.objects.get(id=ready.procore_commitment_id)
    chosen = Commitment.objects.create(
        project_id=old.project_id, vendor_id=old.vendor_id, number="SC-CHOSEN", title="The one the Admin picked"
    )
    services.link_bill(
        integration=world.integration,
        xero_invoice_id=ready.xero_invoice_id,
        procore_project_id=old.project_id,
        procore_commitment_id=chosen.id,
        actor=admin_user,
    )
    world.run()
    sent = world.payment(pid)
    assert sent.state == PaymentState.SENT and sent.procore_commitment_id == chosen.id
    assert ContractPayment.objects.get(origin_id=pid).commitment_id == chosen.id


def test_a_payment_post_procore_answers_503_to_pauses_the_run_and_fails_no_payment(world, server_errors_are):
    # Procore's 503 is "overloaded, come back later" and means it did not take the request: the
    # payment goes back to ready and the run pauses, as a read met by 503 does.
    server_errors_are(503)
    [pid, *_] = world.summary.cases["full"]

    def overload_at_the_post(point: str) -> None:
        if point == "before_create" and Payment.objects.get(xero_payment_id=pid).state == PaymentState.SENDING:
            Behaviour.set("procore", error_rate=1.0)

    crashpoints.hook = overload_at_the_post
    try:
        run = world.run()
    finally:
        crashpoints.hook = None
        Behaviour.set("procore", error_rate=0)
    payment = world.payment(pid)
    assert run.state == RunState.PAUSED and "overloaded" in run.error
    assert payment.state == PaymentState.READY and not Payment.objects.filter(state=PaymentState.FAILED).exists()
    assert not ContractPayment.objects.filter(origin_id=pid).exists()

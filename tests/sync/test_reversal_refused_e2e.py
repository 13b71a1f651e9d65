"""A reversal Procore refuses, end to end against the sandbox over HTTP.

Procore's documented default (its financial-tools guide: a payment with an origin_id "cannot be
edited or deleted because it is synced with an ERP system") is the sandbox's default too: a payment
deleted in Xero after it was sent ends "needs attention" with plain steps for a Procore admin, shows
as "Deleted in Xero, still in Procore" in reconciliation (page and CSV), and no later run deletes
it again by itself; only an Admin's retry does.
"""

from __future__ import annotations

import pytest
from django.core.signals import request_started
from django.utils import timezone

from syncapp.reconcile.reports import execute_report, start_report
from syncapp.sandbox.procore.models import Company, ContractPayment
from syncapp.sandbox.xero.models import Payment as XeroPaymentRow
from syncapp.sync import services
from syncapp.sync.models import PaymentEvent, PaymentState

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def procore_deletes():
    """Every DELETE the sandbox Procore received, as its path (counted where the HTTP request
    arrives, so nothing the product does in between can hide one)."""
    seen: list[str] = []

    def note(sender, environ, **kwargs):
        if environ.get("REQUEST_METHOD") == "DELETE" and "/sandbox/procore/" in environ.get("PATH_INFO", ""):
            seen.append(environ["PATH_INFO"])

    request_started.connect(note, weak=False)
    yield seen
    request_started.disconnect(note)


def delete_in_xero(payment_id: str) -> None:
    XeroPaymentRow.objects.filter(payment_id=payment_id).update(status="DELETED", updated_at=timezone.now())


def test_a_refused_reversal_needs_attention_with_steps_and_is_not_retried_by_later_runs(world, procore_deletes):
    assert Company.objects.filter(refuse_delete_with_origin=True).exists()  # the documented default
    world.run()
    [pid, *_] = world.summary.cases["full"]
    sent = world.payment(pid)
    assert sent.state == PaymentState.SENT

    delete_in_xero(pid)
    second = world.run()

    payment = world.payment(pid)
    assert payment.state == PaymentState.NEEDS_ATTENTION
    assert second.state == "succeeded" and second.counts.get("needs_attention") == 1
    assert len(procore_deletes) == 1 and procore_deletes[0].endswith(f"/contract_payments/{sent.procore_payment_id}")
    assert "Procore refused to delete" in payment.message
    assert "locks payments created by an integration" in payment.message
    assert payment.fix == (
        f"In Procore, open project {sent.project_name} > commitment {sent.commitment_number} > Payments issued, "
        f"payment #{sent.procore_payment_id} ({sent.amount:,.2f} on {sent.date:%Y-%m-%d}): a Procore company "
        "admin must remove it — Procore locks payments created by an integration — then mark the reversal done here."
    )
    assert "synced with an ERP system" in payment.last_error  # Procore's own words are kept
    assert ContractPayment.objects.filter(origin_id=pid).count() == 1  # still in Procore
    events = PaymentEvent.objects.filter(payment=payment).count()

    third = world.run()

    assert third.state == "succeeded" and "needs_attention" not in third.counts
    assert len(procore_deletes) == 1  # no second DELETE: no retry loop
    assert PaymentEvent.objects.filter(payment=payment).count() == events
    assert world.payment(pid).state == PaymentState.NEEDS_ATTENTION


def test_only_an_admins_retry_tries_the_delete_again(world, procore_deletes, admin_user):
    world.run()
    [pid, *_] = world.summary.cases["full"]
    delete_in_xero(pid)
    world.run()
    assert world.payment(pid).state == PaymentState.NEEDS_ATTENTION and len(procore_deletes) == 1

    services.retry_reversal(payment=world.payment(pid), actor=admin_user)
    world.run()
    assert len(procore_deletes) == 2  # tried once more, refused once more
    assert world.payment(pid).state == PaymentState.NEEDS_ATTENTION

    # The company's Procore admin unlocked deletes (a company where they work): the retry goes through.
    Company.objects.update(refuse_delete_with_origin=False)
    services.retry_reversal(payment=world.payment(pid), actor=admin_user)
    world.run()
    assert world.payment(pid).state == PaymentState.REVERSED
    assert not ContractPayment.objects.filter(origin_id=pid).exists()


def test_a_refused_reversal_shows_as_deleted_in_xero_still_in_procore_with_the_steps(world, client, admin_user):
    world.run()
    [pid, *_] = world.summary.cases["full"]
    delete_in_xero(pid)
    world.run()
    payment = world.payment(pid)

    report, _ = start_report(integration=world.integration)
    report = execute_report(report.pk)
    line = report.lines.get(xero_payment_id=pid)
    assert line.status == "deleted_in_xero" and line.get_status_display() == "Deleted in Xero, still in Procore"
    assert "Procore refused the delete" in line.note and payment.fix in line.note
    assert line.difference == -line.procore_amount

    client.force_login(admin_user)
    page = client.get("/reconciliation/").content.decode()
    assert "Deleted in Xero, still in Procore" in page and f"payment #{payment.procore_payment_id}" in page
    download = client.get(f"/reconciliation/reports/{report.pk}/download.csv")
    csv = b"".join(download.streaming_content).decode("utf-8-sig")
    row = next(r for r in csv.splitlines() if pid in r)
    assert "Deleted in Xero, still in Procore" in row and "a Procore company admin must remove it" in row

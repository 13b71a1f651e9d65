"""Xero's real shapes, end to end: the seeded world (batch payments, a credit-note refund, a
prepayment and an overpayment payment, bills settled in part or whole by allocations) is synced
over HTTP, then checked as a person sees it: payment states and reasons, the bill on the payment's
page, the batch id in the notes Procore got. Both readings the docs leave open are run: the spec
example's shapes (batch id at the top and nested; refunds embedding their document) and the
strict ones (batch id only nested; refunds embedding an `Invoice` of their document's type)."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import httpx
import pytest
from django.urls import reverse

from syncapp.sandbox.procore.models import ContractPayment
from syncapp.sandbox.xero import limits
from syncapp.sandbox.xero.models import Invoice as XeroInvoiceRow
from syncapp.sandbox.xero.models import Payment as XeroPaymentRow
from syncapp.sync.models import Payment, PaymentState, RunState, XeroBillRecord

pytestmark = pytest.mark.django_db(transaction=True)

BATCH, EMBED = "SANDBOX_XERO_BATCH_ID_AT_TOP_LEVEL", "SANDBOX_XERO_OTHER_DOCUMENT_EMBED"
SHAPES = {
    "as_the_spec_example": {BATCH: "true", EMBED: "document"},
    "strict": {BATCH: "false", EMBED: "invoice"},
}


@pytest.fixture(params=list(SHAPES))
def shapes(request, settings):
    for name, value in SHAPES[request.param].items():
        setattr(settings, name, value)
    return request.param


@pytest.fixture
def finance_browser(client, db):
    from django.contrib.auth.models import Group, User

    from syncapp.core.roles import FINANCE

    user = User.objects.create_user(username="fin-shapes", password="pw-for-tests")
    user.groups.add(Group.objects.get_or_create(name=FINANCE)[0])
    client.force_login(user)
    return client


def page_of(browser, payment: Payment) -> str:
    response = browser.get(reverse("payment", args=[payment.pk]))
    assert response.status_code == 200
    return response.content.decode()


def xero_answer(world, path: str) -> dict:
    """What the sandbox Xero answers the product's own connection, read directly."""
    from django.conf import settings

    from syncapp.connections.services import get_connection
    from syncapp.connections.tokens import ConnectionTokens

    connection = get_connection(integration=world.integration, provider="xero")
    headers = {"Authorization": f"Bearer {ConnectionTokens(connection).access_token()}",
               "xero-tenant-id": connection.tenant_id}  # fmt: skip
    return httpx.get(f"{settings.XERO_API_URL}/{path}", headers=headers, timeout=30).json()


def test_batch_payments_are_sent_with_their_batch_named_in_procores_notes(world, shapes):
    run = world.run()

    assert run.state == RunState.SUCCEEDED, run.error
    batch_ids = world.summary.cases["batch"]
    assert batch_ids
    # The run read the shape this case is about: the nested BatchPayment object, and the
    # top-level id only as the spec's example has it.
    [answer] = xero_answer(world, f"Payments/{batch_ids[0]}")["Payments"]
    assert answer["BatchPayment"]["BatchPaymentID"]
    assert ("BatchPaymentID" in answer) is (shapes == "as_the_spec_example")
    for pid in batch_ids:
        batch = str(XeroPaymentRow.objects.get(payment_id=pid).batch_payment_id)
        payment = world.payment(pid)
        assert payment.state == PaymentState.SENT and payment.batch_payment_id == batch
        [remote] = ContractPayment.objects.filter(origin_id=pid)
        assert remote.notes == f"Xero payment {pid}, batch {batch}"


def test_refunds_of_credit_notes_prepayments_and_overpayments_are_skipped_with_a_reason(world, shapes, finance_browser):
    run = world.run()

    assert run.state == RunState.SUCCEEDED, run.error
    refunds = {
        XeroPaymentRow.objects.get(payment_id=pid).payment_type: world.payment(pid)
        for pid in world.summary.cases["other_payment_types"]
    }
    words = {
        "APCREDITPAYMENT": "A refund of a supplier credit note (Xero type APCREDITPAYMENT)",
        "APPREPAYMENTPAYMENT": "A supplier prepayment (Xero type APPREPAYMENTPAYMENT)",
        "APOVERPAYMENTPAYMENT": "A supplier overpayment or its refund (Xero type APOVERPAYMENTPAYMENT)",
    }
    for kind, start in words.items():
        payment = refunds[kind]
        assert payment.state == PaymentState.SKIPPED and payment.reason_code == "not_bill_payment"
        assert payment.message.startswith(start) and "not a payment of a supplier bill" in payment.message
        assert not ContractPayment.objects.filter(origin_id=payment.xero_payment_id).exists()
        assert "Not for Procore." in page_of(finance_browser, payment) and start in page_of(finance_browser, payment)
    # A refund's credit note is no bill: nothing was looked up or kept for it as one.
    credit = refunds["APCREDITPAYMENT"]
    assert not XeroBillRecord.objects.filter(integration=world.integration, invoice_number="CN-0042").exists()
    if shapes == "strict":
        assert credit.invoice_number == "CN-0042" and credit.xero_invoice_id


def test_a_bill_settled_partly_by_allocations_shows_them_beside_its_payment(world, shapes, finance_browser):
    run = world.run()

    assert run.state == RunState.SUCCEEDED, run.error
    kinds = set()
    for pid in world.summary.cases["paid_and_credited"]:
        payment = world.payment(pid)
        assert payment.state == PaymentState.SENT
        xero_bill = XeroPaymentRow.objects.get(payment_id=pid).invoice
        [document] = XeroInvoiceRow.objects.filter(reference=str(xero_bill.invoice_id))
        bill = XeroBillRecord.objects.get(integration=world.integration, invoice_id=payment.xero_invoice_id)
        assert bill.amount_credited == document.amount_paid > 0
        assert payment.amount + bill.amount_credited == bill.total  # why Procore shows less than the bill
        [remote] = ContractPayment.objects.filter(origin_id=pid)
        assert remote.amount == payment.amount
        kind = "credit note CN-0042" if document.invoice_number else "prepayment"
        kinds.add(kind)
        line = (
            f"Settled by allocation, not a payment: {kind}, {document.amount_paid:,.2f} AUD on "
            f"{document.date.isoformat()}"
        )
        assert line in page_of(finance_browser, payment)
    assert kinds == {"credit note CN-0042", "prepayment"}


def test_a_bill_settled_by_allocations_alone_has_no_payment_but_keeps_them(world, shapes):
    run = world.run()

    assert run.state == RunState.SUCCEEDED, run.error
    [invoice_id] = world.summary.cases["settled_by_allocation"]
    assert not Payment.objects.filter(integration=world.integration, xero_invoice_id=invoice_id).exists()
    bill = XeroBillRecord.objects.get(integration=world.integration, invoice_id=invoice_id)
    assert bill.status == "PAID" and bill.amount_paid == 0 and bill.amount_credited == bill.total
    assert [(a["kind"], a["number"]) for a in bill.allocations] == [("credit note", "CN-0043"), ("overpayment", "")]
    assert sum(Decimal(a["amount"]) for a in bill.allocations) == bill.total


def test_xero_answering_too_many_calls_at_once_only_slows_the_run(world):
    """Five calls in flight elsewhere for six seconds: Xero answers 429 "concurrent" without
    Retry-After; the run backs off briefly, retries and finishes with every payment handled."""
    tenant = world.summary.tenant_id
    limits._in_flight[tenant] = limits.CONCURRENT_LIMIT
    freed = threading.Timer(6.0, lambda: limits._in_flight.__setitem__(tenant, 0))
    freed.start()
    started = time.monotonic()
    try:
        run = world.run()
    finally:
        freed.cancel()
        limits._in_flight[tenant] = 0

    assert run.state == RunState.SUCCEEDED, run.error
    assert time.monotonic() - started >= 6.0
    sent = [pid for pid, outcome in world.summary.expected.items() if outcome == "sent"]
    assert [world.payment(pid).state for pid in sent] == [PaymentState.SENT] * len(sent)
    assert run.paused_until is None  # never taken for the day limit

"""Every reason of the catalogue is one a real sync can give: the seeded world, a few of its
payments and Procore rows changed the way real data goes wrong, synced over HTTP against the
sandbox. A code no scenario produces is dead (or its scenario is missing), and this test names it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from syncapp.sandbox.procore.models import Requisition, Vendor
from syncapp.sandbox.xero import payloads as xero_payloads
from syncapp.sandbox.xero.models import Contact, Invoice
from syncapp.sandbox.xero.models import Payment as XeroPaymentRow
from syncapp.sync import services
from syncapp.sync.matching import normalise_tax_number
from syncapp.sync.models import Payment, PaymentState, RunState
from syncapp.sync.reasons import Reason

pytestmark = pytest.mark.django_db(transaction=True)


def reasons_now(world) -> set[str]:
    return set(Payment.objects.filter(integration=world.integration).values_list("reason_code", flat=True)) - {""}


def bill_of(payment_id: str) -> Invoice:
    return XeroPaymentRow.objects.select_related("invoice").get(payment_id=payment_id).invoice


def send_without_its_bill(monkeypatch, payment_id: str) -> None:
    """Xero answers this payment without its Invoice (the bill cannot be read)."""
    original = xero_payloads.payment_json

    def payment_json(row, **kwargs):
        body = original(row, **kwargs)
        if str(row["payment_id"]) == payment_id:
            body.pop("Invoice", None)
        return body

    monkeypatch.setattr(xero_payloads, "payment_json", payment_json)


def test_every_reason_of_the_catalogue_is_given_by_a_real_sync(world, settings, monkeypatch, admin_user):
    # The seeded world gives the others (the cases of syncapp/sandbox/seed.py: currency, vendors,
    # invoices, access, commitments, overpayment, other payment types, deleted before sending).
    unknown_status, unapproved_bill, unreadable_bill, *_ = world.summary.cases["full"]
    [claim_in_review, *_] = world.summary.cases["batch"]
    XeroPaymentRow.objects.filter(payment_id=unknown_status).update(status="PENDING")
    Invoice.objects.filter(pk=bill_of(unapproved_bill).pk).update(status="SUBMITTED")
    send_without_its_bill(monkeypatch, unreadable_bill)
    Requisition.objects.filter(invoice_number=bill_of(claim_in_review).invoice_number).update(status="under_review")
    # A second vendor with the ABN that linked a contact by tax number: which one is it?
    [taxed, *_] = world.summary.cases["tax_number_match"]
    abn = normalise_tax_number(Contact.objects.get(contact_id=taxed).tax_number)
    [twin] = [v for v in Vendor.objects.exclude(business_id="") if normalise_tax_number(v.business_id) == abn]
    Vendor.objects.create(company=twin.company, name=f"{twin.name} (second entity)", business_id=twin.business_id)
    settings.SANDBOX_PROCORE_PAYMENT_422 = "text"  # Procore refuses every new payment

    first = world.run()

    assert first.state == RunState.SUCCEEDED, first.error
    produced = reasons_now(world)
    blocked = Payment.objects.filter(integration=world.integration, state=PaymentState.BLOCKED).first()
    services.ignore_payment(payment=blocked, reason="Paid by hand in Procore", actor=admin_user)
    produced |= reasons_now(world)
    # A payment an earlier run sent, deleted in Xero: Procore refuses to delete its copy.
    [in_procore, *_] = world.summary.cases["already_in_procore"]
    assert world.payment(in_procore).state == PaymentState.SENT
    XeroPaymentRow.objects.filter(payment_id=in_procore).update(status="DELETED", updated_at=timezone.now())
    settings.SANDBOX_PROCORE_PAYMENT_422 = ""

    second = world.run()

    assert second.state == RunState.SUCCEEDED, second.error
    produced |= reasons_now(world)
    assert set(Reason.values) - produced == set()
    for payment_id, reason in [
        (unknown_status, Reason.UNKNOWN_XERO_STATUS),
        (unapproved_bill, Reason.BILL_NOT_APPROVED),
        (unreadable_bill, Reason.BILL_NOT_FETCHED),
        (claim_in_review, Reason.INVOICE_NOT_APPROVED),
        (in_procore, Reason.REVERSAL_REFUSED),
    ]:
        payment = world.payment(payment_id)
        assert payment.reason_code == reason and payment.message and payment.reason_params is not None, payment_id
    assert world.payment(blocked.xero_payment_id).reason_code == Reason.IGNORED

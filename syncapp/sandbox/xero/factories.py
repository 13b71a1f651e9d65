"""Small builders of sandbox Xero data, for tests (and anyone wanting a few rows quickly).

The full demo world is the seeder's job (`sandbox_seed`); these make just enough: an app, an
organisation, a supplier, an approved bill and payments on it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from syncapp.sandbox.xero import identity, payloads
from syncapp.sandbox.xero.identity import ensure_client
from syncapp.sandbox.xero.models import Contact, Invoice, OAuthClient, Organisation, Payment


def make_organisation(*, name: str = "Demo Builders Pty Ltd", currency: str = "AUD", country: str = "AU"):
    return Organisation.objects.create(name=name, base_currency=currency, country_code=country, short_code="!Dm0")


def make_contact(*, organisation: Organisation, name: str = "Ace Plumbing Pty Ltd", **extra) -> Contact:
    values = {"tax_number": "51 824 753 556", "contact_number": "SUP-001", "updated_at": timezone.now()}
    values.update(extra)
    return Contact.objects.create(organisation=organisation, name=name, **values)


def make_bill(
    *,
    organisation: Organisation,
    contact: Contact,
    number: str = "INV-1001",
    total: Decimal = Decimal("1100.00"),
    status: str = "AUTHORISED",
    date: dt.date = dt.date(2024, 1, 31),
    tracking: str = "Project 1001",
    **extra,
) -> Invoice:
    values = {
        "type": "ACCPAY",
        "invoice_number": number,
        "reference": "WO-1001",
        "status": status,
        "date": date,
        "due_date": date + dt.timedelta(days=30),
        "currency_code": organisation.base_currency,
        "sub_total": (total / Decimal("1.1")).quantize(Decimal("0.01")),
        "total_tax": total - (total / Decimal("1.1")).quantize(Decimal("0.01")),
        "total": total,
        "amount_due": total,
        "line_items": [
            {
                "Description": "Rough-in plumbing",
                "Quantity": "1.0000",
                "UnitAmount": str((total / Decimal("1.1")).quantize(Decimal("0.01"))),
                "AccountCode": "310",
                "TaxType": "INPUT",
                "LineAmount": str((total / Decimal("1.1")).quantize(Decimal("0.01"))),
                "Tracking": [
                    {
                        "TrackingCategoryID": str(uuid.uuid5(organisation.tenant_id, "Project")),
                        "Name": "Project",
                        "Option": tracking,
                    }
                ],
            }
        ],
        "updated_at": timezone.now(),
    }
    values.update(extra)
    return Invoice.objects.create(organisation=organisation, contact=contact, **values)


def make_payment(
    *,
    invoice: Invoice,
    amount: Decimal,
    date: dt.date = dt.date(2024, 2, 15),
    reference: str = "EFT 0001",
    updated_at: dt.datetime | None = None,
    **extra,
) -> Payment:
    """A payment on a bill; the bill's paid and due amounts and status follow, as in Xero."""
    values = {
        "payment_type": "ACCPAYPAYMENT",
        "status": "AUTHORISED",
        "date": date,
        "amount": amount,
        "bank_amount": amount,
        "reference": reference,
        "updated_at": updated_at or timezone.now(),
    }
    values.update(extra)
    payment = Payment.objects.create(organisation=invoice.organisation, invoice=invoice, **values)
    if payment.status == "AUTHORISED":
        invoice.amount_paid += amount
        invoice.amount_due = invoice.total - invoice.amount_paid
        invoice.status = "PAID" if invoice.amount_due <= 0 else invoice.status
        invoice.updated_at = timezone.now()
        invoice.save(update_fields=["amount_paid", "amount_due", "status", "updated_at"])
    return payment


def make_allocation(
    *, bill: Invoice, kind: str = payloads.CREDIT_NOTE, amount: Decimal, date: dt.date = dt.date(2024, 2, 20),
    number: str = "",
) -> Invoice:
    """A supplier credit note, prepayment or overpayment (`kind`: payloads.CREDIT_NOTE, PREPAYMENT,
    OVERPAYMENT) allocated to `bill`: no Payment; the bill's AmountDue drops and it is PAID once
    nothing is due, as in Xero. Stored as the sandbox keeps allocations (see payloads)."""
    document = Invoice.objects.create(
        organisation=bill.organisation,
        contact=bill.contact,
        type=kind,
        invoice_number=number,
        reference=str(bill.invoice_id),
        status="PAID",
        date=date,
        currency_code=bill.currency_code,
        sub_total=amount,
        total=amount,
        amount_paid=amount,
        amount_due=Decimal(0),
        updated_at=timezone.now(),
    )
    bill.amount_due -= amount
    bill.status = "PAID" if bill.amount_due <= 0 else bill.status
    bill.updated_at = timezone.now()
    bill.save(update_fields=["amount_due", "status", "updated_at"])
    return document


def make_other_payment(
    *, organisation: Organisation, contact: Contact, payment_type: str = "APCREDITPAYMENT", amount: Decimal,
    date: dt.date = dt.date(2024, 3, 3), number: str = "CN-0042", **extra,
) -> Payment:
    """A refund that is not a bill payment: APCREDITPAYMENT embeds a CreditNote,
    APPREPAYMENTPAYMENT a Prepayment, APOVERPAYMENTPAYMENT an Overpayment (Payment schema members;
    the documents' Type values are inside their schemas' enums)."""
    key, document = {
        "APCREDITPAYMENT": ("CreditNote", {"Type": "ACCPAYCREDIT", "CreditNoteNumber": number}),
        "APPREPAYMENTPAYMENT": ("Prepayment", {"Type": "SPEND-PREPAYMENT"}),
        "APOVERPAYMENTPAYMENT": ("Overpayment", {"Type": "SPEND-OVERPAYMENT"}),
    }[payment_type]
    document = {
        f"{key}ID": str(uuid.uuid4()),
        **document,
        "Contact": {"ContactID": str(contact.contact_id), "Name": contact.name},
        "Status": "PAID",
        "CurrencyCode": organisation.base_currency,
        "Total": float(amount),
    }
    values = {"status": "AUTHORISED", "date": date, "amount": amount, "bank_amount": amount,
              "reference": "Refund", "updated_at": timezone.now()}
    values.update(extra)
    return Payment.objects.create(
        organisation=organisation, invoice=None, other_document={key: document}, payment_type=payment_type, **values
    )


@dataclass
class XeroWorld:
    client: OAuthClient
    organisation: Organisation
    contact: Contact
    bill: Invoice
    payments: list[Payment] = field(default_factory=list)


def make_world(
    *,
    client_id: str = "sandbox-xero-app",
    client_secret: str = "sandbox-xero-secret",
    redirect_uris: tuple[str, ...] = ("http://127.0.0.1:8000/connections/xero/callback",),
    custom_connection: bool = False,
) -> XeroWorld:
    """An app, one organisation, a supplier, an approved bill of 1100.00 and two part payments."""
    organisation = make_organisation()
    client = ensure_client(
        client_id=client_id,
        client_secret=client_secret,
        redirect_uris=list(redirect_uris),
        name="Procore Payments Sync",
        custom_connection_organisation=organisation if custom_connection else None,
    )
    contact = make_contact(organisation=organisation)
    bill = make_bill(organisation=organisation, contact=contact)
    payments = [
        make_payment(invoice=bill, amount=Decimal("400.00"), date=dt.date(2024, 2, 15), reference="EFT 0001"),
        make_payment(invoice=bill, amount=Decimal("300.50"), date=dt.date(2024, 3, 1), reference="EFT 0002"),
    ]
    return XeroWorld(client=client, organisation=organisation, contact=contact, bill=bill, payments=payments)


def connect(*, client: OAuthClient, organisations: list[Organisation], scope: str = "") -> dict:
    """Consent and code exchange without the browser round trip: the token JSON Xero would give.
    For tests of the API; the HTTP flow itself is tested in tests/sandbox/test_xero_oauth.py."""
    scope = scope or "offline_access " + identity.CUSTOM_CONNECTION_SCOPES
    redirect_uri = (client.redirect_uris or [""])[0]
    code = identity.issue_code(client=client, redirect_uri=redirect_uri, scope=scope, organisations=organisations)
    answer = identity.exchange_code(client=client, code=code, redirect_uri=redirect_uri, code_verifier="")
    return answer.as_json()

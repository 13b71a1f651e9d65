"""Xero's real shapes in the sandbox, over HTTP and through xero-python: batch payments carry the
`BatchPayment` object, refunds embed their credit note, prepayment or overpayment (or an `Invoice`
of that document's type), bills settled by allocations list them with `AmountCredited`, and the
rate limits answer as Xero's limits page says (a fixed minute window per organisation; Retry-After
only on the minute and day limits)."""

import datetime as dt
import time
import uuid
from decimal import Decimal

import pytest
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token

from syncapp.sandbox.models import Behaviour
from syncapp.sandbox.xero import limits, payloads
from syncapp.sandbox.xero.factories import (
    make_allocation,
    make_bill,
    make_other_payment,
    make_payment,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sdk(sandbox, world, tokens):
    configuration = Configuration()
    configuration.oauth2_token = OAuth2Token(client_id=world.client.client_id, client_secret=world.client.client_secret)
    store: dict = {}
    client = ApiClient(
        configuration,
        pool_threads=1,
        oauth2_token_getter=lambda: store.get("token"),
        oauth2_token_saver=lambda token: store.update(token=token),
    )
    client.rest_client.pool_manager.connection_pool_kw["retries"] = False
    client.set_oauth2_token({**tokens, "scope": tokens["scope"].split(), "expires_at": time.time() + 1800})
    return AccountingApi(client, base_url=f"{sandbox}/sandbox/xero/api.xro/2.0"), str(world.organisation.tenant_id)


def text(value) -> str:
    return getattr(value, "value", value)


def refunds(world) -> dict[str, object]:
    contact, org = world.contact, world.organisation
    return {
        kind: make_other_payment(organisation=org, contact=contact, payment_type=kind, amount=Decimal(amount))
        for kind, amount in (("APCREDITPAYMENT", "20.00"), ("APPREPAYMENTPAYMENT", "30.00"),
                             ("APOVERPAYMENTPAYMENT", "40.00"))
    }  # fmt: skip


# --- batch payments ------------------------------------------------------------------------------


def test_a_batch_payment_carries_the_batch_payment_object_with_its_id_and_total(api, world):
    other = make_bill(organisation=world.organisation, contact=world.contact, number="INV-2002")
    batch = uuid.uuid4()
    make_payment(invoice=world.bill, amount=Decimal("100.00"), batch_payment_id=batch, reference="Pay run")
    make_payment(invoice=other, amount=Decimal("250.00"), batch_payment_id=batch, reference="Pay run")

    payments = api.get("Payments", params={"where": 'Reference=="Pay run"'}).json()["Payments"]

    assert len(payments) == 2
    for payment in payments:
        # As the spec's getPayments example: the id at the top and in the BatchPayment object.
        assert payment["BatchPaymentID"] == str(batch)
        nested = payment["BatchPayment"]
        assert nested["BatchPaymentID"] == str(batch) and nested["Type"] == "PAYBATCH"
        assert nested["Status"] == "AUTHORISED" and nested["TotalAmount"] == 350.0
        assert nested["Date"] == payment["Date"] and nested["Account"]["AccountID"]
    plain = api.get("Payments", params={"where": 'Reference=="EFT 0001"'}).json()["Payments"][0]
    assert "BatchPayment" not in plain and "BatchPaymentID" not in plain


def test_with_the_switch_off_the_batch_id_is_only_inside_the_batch_payment_object(api, world, settings):
    settings.SANDBOX_XERO_BATCH_ID_AT_TOP_LEVEL = "false"
    batch = uuid.uuid4()
    payment = make_payment(invoice=world.bill, amount=Decimal("10.00"), batch_payment_id=batch)

    [body] = api.get(f"Payments/{payment.payment_id}").json()["Payments"]

    assert "BatchPaymentID" not in body and body["BatchPayment"]["BatchPaymentID"] == str(batch)


# --- refunds: not bill payments ------------------------------------------------------------------


def test_refunds_embed_their_credit_note_prepayment_or_overpayment(api, world):
    made = refunds(world)

    payments = {p["PaymentType"]: p for p in api.get("Payments", params={"where": "Amount<=40"}).json()["Payments"]}

    assert payments["APCREDITPAYMENT"]["CreditNote"]["CreditNoteNumber"] == "CN-0042"
    assert payments["APCREDITPAYMENT"]["CreditNote"]["Type"] == "ACCPAYCREDIT"
    assert payments["APPREPAYMENTPAYMENT"]["Prepayment"]["Type"] == "SPEND-PREPAYMENT"
    assert payments["APOVERPAYMENTPAYMENT"]["Overpayment"]["Type"] == "SPEND-OVERPAYMENT"
    assert all("Invoice" not in p for p in payments.values())
    assert {p["PaymentID"] for p in payments.values()} == {str(p.payment_id) for p in made.values()}


def test_with_the_switch_on_refunds_embed_an_invoice_of_their_documents_type(api, world, settings):
    settings.SANDBOX_XERO_OTHER_DOCUMENT_EMBED = "invoice"
    made = refunds(world)

    payments = {p["PaymentType"]: p for p in api.get("Payments", params={"where": "Amount<=40"}).json()["Payments"]}

    types = {kind: payments[kind]["Invoice"]["Type"] for kind in made}
    assert types == {"APCREDITPAYMENT": "ACCPAYCREDIT", "APPREPAYMENTPAYMENT": "APPREPAYMENT",
                     "APOVERPAYMENTPAYMENT": "APOVERPAYMENT"}  # fmt: skip
    credit = payments["APCREDITPAYMENT"]["Invoice"]
    assert credit["InvoiceNumber"] == "CN-0042" and credit["Contact"]["ContactID"] == str(world.contact.contact_id)
    assert all("CreditNote" not in p and "Prepayment" not in p for p in payments.values())


@pytest.mark.parametrize("embed", ["document", "invoice"])
def test_xero_python_reads_batch_objects_and_every_kind_of_refund(sdk, world, settings, embed):
    settings.SANDBOX_XERO_OTHER_DOCUMENT_EMBED = embed
    api, tenant = sdk
    batch = uuid.uuid4()
    make_payment(invoice=world.bill, amount=Decimal("5.00"), batch_payment_id=batch)
    refunds(world)

    answer = api.get_payments(tenant, page=1, page_size=1000)

    by_type = {text(p.payment_type): p for p in answer.payments}
    assert set(by_type) == {"ACCPAYPAYMENT", "APCREDITPAYMENT", "APPREPAYMENTPAYMENT", "APOVERPAYMENTPAYMENT"}
    batched = next(p for p in answer.payments if p.amount == Decimal("5.00"))
    assert str(batched.batch_payment.batch_payment_id) == str(batch)
    assert text(batched.batch_payment.type) == "PAYBATCH"
    if embed == "document":
        assert by_type["APCREDITPAYMENT"].credit_note.credit_note_number == "CN-0042"
        assert by_type["APPREPAYMENTPAYMENT"].prepayment.prepayment_id
        assert by_type["APOVERPAYMENTPAYMENT"].overpayment.overpayment_id
    else:
        assert text(by_type["APPREPAYMENTPAYMENT"].invoice.type) == "APPREPAYMENT"
        assert by_type["APCREDITPAYMENT"].invoice.invoice_number == "CN-0042"


# --- bills settled by allocations ----------------------------------------------------------------


def test_a_bill_lists_the_credit_notes_prepayments_and_overpayments_allocated_to_it(api, world):
    # The bill: 1100.00, paid 700.50 (two payments); 300.00 credit note and 99.50 prepayment settle the rest.
    make_allocation(bill=world.bill, amount=Decimal("300.00"), number="CN-0042", date=dt.date(2024, 3, 3))
    make_allocation(bill=world.bill, kind=payloads.PREPAYMENT, amount=Decimal("99.50"), date=dt.date(2024, 3, 4))

    [single] = api.get(f"Invoices/{world.bill.invoice_id}").json()["Invoices"]
    [listed] = api.get("Invoices", params={"page": 1}).json()["Invoices"]
    [summary] = api.get("Invoices", params={"summaryOnly": "true"}).json()["Invoices"]

    for bill in (single, listed):
        assert bill["AmountCredited"] == 399.5 and bill["AmountPaid"] == 700.5 and bill["AmountDue"] == 0.0
        assert bill["Status"] == "PAID" and bill["FullyPaidOnDate"] == "/Date(1709510400000+0000)/"  # 4 March
        [credit] = bill["CreditNotes"]
        assert credit["CreditNoteNumber"] == "CN-0042" and credit["AppliedAmount"] == 300.0
        assert credit["Date"] == "/Date(1709424000000+0000)/" and credit["CreditNoteID"]
        [prepayment] = bill["Prepayments"]
        assert prepayment["AppliedAmount"] == 99.5 and prepayment["PrepaymentID"]
        assert bill["Overpayments"] == []
    # summaryOnly leaves out the computed lists, not the amounts.
    assert summary["AmountCredited"] == 399.5 and summary["CreditNotes"] == [] and summary["Prepayments"] == []
    # The allocated documents are not invoices: /Invoices never lists them, nor finds them by id.
    credit_id = single["CreditNotes"][0]["CreditNoteID"]
    assert api.get(f"Invoices/{credit_id}").status_code == 404
    assert api.get("Invoices", params={"IDs": credit_id}).json()["Invoices"] == []


def test_xero_python_reads_a_bills_allocations(sdk, world):
    api, tenant = sdk
    make_allocation(bill=world.bill, amount=Decimal("300.00"), number="CN-0042", date=dt.date(2024, 3, 3))
    make_allocation(bill=world.bill, kind=payloads.OVERPAYMENT, amount=Decimal("99.50"), date=dt.date(2024, 3, 4))

    [bill] = api.get_invoices(tenant, i_ds=[str(world.bill.invoice_id)], page=1).invoices

    assert bill.amount_credited == Decimal("399.50") and text(bill.status) == "PAID"
    assert bill.credit_notes[0].credit_note_number == "CN-0042"
    assert bill.credit_notes[0].applied_amount == Decimal("300.00")
    assert bill.credit_notes[0].date == dt.date(2024, 3, 3)
    assert bill.overpayments[0].applied_amount == Decimal("99.50") and bill.prepayments == []


def test_the_seeded_world_holds_bills_settled_by_allocations(world):
    from syncapp.sandbox.seed import seed_world
    from syncapp.sandbox.xero import models as xr

    summary = seed_world(payments=40, seed=3, reset=True)

    [settled_id] = summary.cases["settled_by_allocation"]
    settled = xr.Invoice.objects.get(invoice_id=settled_id)
    applied = xr.Invoice.objects.filter(reference=settled_id, type__in=payloads.ALLOCATED_DOCUMENT_TYPES)
    assert settled.status == "PAID" and settled.amount_due == 0 and not settled.payments.exists()
    assert sum(doc.amount_paid for doc in applied) == settled.total
    assert {doc.type for doc in applied} == {payloads.CREDIT_NOTE, payloads.OVERPAYMENT}
    for pid in summary.cases["paid_and_credited"]:
        payment = xr.Payment.objects.get(payment_id=pid)
        credited = sum(d.amount_paid for d in xr.Invoice.objects.filter(reference=str(payment.invoice.invoice_id)))
        assert credited > 0 and payment.amount + credited == payment.invoice.total
        assert summary.expected[pid] == "sent"


# --- rate limits ---------------------------------------------------------------------------------


def test_a_concurrent_429_names_the_problem_and_carries_no_retry_after(api, world):
    limits._in_flight[str(world.organisation.tenant_id)] = limits.CONCURRENT_LIMIT  # five calls in flight

    refused = api.get("Organisation")

    assert refused.status_code == 429
    assert refused.headers["X-Rate-Limit-Problem"] == "concurrent"
    assert "Retry-After" not in refused.headers  # Xero sends it for the minute and day limits only
    assert int(refused.headers["X-MinLimit-Remaining"]) > 0


def test_the_minute_limit_is_a_fixed_window_of_the_organisations_own(monkeypatch):
    tenant = str(uuid.uuid4())
    start = 1_800_000_000 // 60 * 60 + limits.window_offset(tenant)  # a window of this tenant starts
    now = {"t": start + 50.0}
    monkeypatch.setattr(limits, "_clock", lambda: now["t"])
    args = {"tenant_id": tenant, "client_id": "app", "minute_limit": 60, "day_limit": 5000}

    allowed = []
    for _ in range(60):
        allowed.append(limits.acquire(**args).allowed)
        limits.release(tenant)
    refused = limits.acquire(**args)
    now["t"] = start + 60.2  # 10 s later, the window has turned: all 60 calls are back at once
    fresh = limits.acquire(**args)

    assert all(allowed)
    assert not refused.allowed and refused.problem == "minute"
    assert refused.headers()["Retry-After"] == "10" and refused.headers()["X-MinLimit-Remaining"] == "0"
    assert fresh.allowed and fresh.min_remaining == 59  # a rolling window would still refuse here


def test_two_organisations_windows_turn_at_different_moments():
    offsets = {limits.window_offset(str(uuid.UUID(int=n))) for n in range(20)}
    assert len(offsets) > 10 and all(0 <= offset < 60 for offset in offsets)


def test_a_minute_429_over_http_says_when_the_organisations_window_turns(api, world, monkeypatch):
    tenant = str(world.organisation.tenant_id)
    start = 1_800_000_000 // 60 * 60 + limits.window_offset(tenant)
    monkeypatch.setattr(limits, "_clock", lambda: start + 42.5)
    Behaviour.set("xero", minute_limit=2)

    answers = [api.get("Organisation") for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].headers["X-Rate-Limit-Problem"] == "minute"
    assert answers[2].headers["Retry-After"] == "18"  # 17.5 s to the window's end, rounded up


# --- only documented properties ------------------------------------------------------------------


@pytest.mark.parametrize("embed", ["document", "invoice"])
def test_every_new_shape_carries_only_properties_the_spec_declares(api, world, settings, embed):
    from tests.specs.documented import xero_undocumented

    settings.SANDBOX_XERO_OTHER_DOCUMENT_EMBED = embed
    make_payment(invoice=world.bill, amount=Decimal("5.00"), batch_payment_id=uuid.uuid4())
    refunds(world)
    make_allocation(bill=world.bill, amount=Decimal("100.00"), number="CN-0042")
    make_allocation(bill=world.bill, kind=payloads.PREPAYMENT, amount=Decimal("50.00"))
    make_allocation(bill=world.bill, kind=payloads.OVERPAYMENT, amount=Decimal("25.00"))

    payments = api.get("Payments", params={"page": 1}).json()
    bills = api.get("Invoices", params={"page": 1}).json()
    single = api.get(f"Invoices/{world.bill.invoice_id}").json()

    assert any("BatchPayment" in p for p in payments["Payments"])
    assert [len(single["Invoices"][0][key]) for key in ("CreditNotes", "Prepayments", "Overpayments")] == [1, 1, 1]
    assert xero_undocumented(payments, "Payments") == []
    assert xero_undocumented(bills, "Invoices") == [] and xero_undocumented(single, "Invoices") == []

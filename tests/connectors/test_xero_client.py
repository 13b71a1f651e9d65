"""XeroClient against the sandbox Xero over real HTTP (through xero-python): typed payments, bills
and contacts, paging, chunked id look-ups, and each row of Xero's error table driven by the
sandbox's switches."""

import datetime as dt
import time
import uuid
from decimal import Decimal

import httpx
import pytest
from django.utils import timezone
from xero_python.accounting import AccountingApi
from xero_python.api_client.deserializer import deserialize

from syncapp.connectors.types import (
    CallCounter,
    DailyLimitReached,
    DataError,
    NeedsReconnect,
    TransientError,
    XeroPayment,
)
from syncapp.connectors.xero import payment_from_sdk
from syncapp.sandbox.models import Behaviour

pytestmark = pytest.mark.django_db(transaction=True)


def switch_off_after_first_call(counter: CallCounter, **switches_off) -> None:
    def on_call():
        if counter.calls == 2:
            Behaviour.set("xero", **switches_off)

    counter.on_call = on_call


# --- reads and conversion ---


def test_payments_come_back_typed_with_decimal_amounts_and_calendar_dates(xero_client, xero_world):
    from syncapp.sandbox.xero.factories import make_payment

    world = xero_world.world
    late = make_payment(invoice=world.bill, amount=Decimal("0.10"), date=dt.date(2018, 11, 29), reference="CHQ 77")

    page = xero_client.payments_page(page=1)
    assert page.has_more is False
    by_id = {p.payment_id: p for p in page.items}
    assert set(by_id) == {str(p.payment_id) for p in [*world.payments, late]}
    payment = by_id[str(late.payment_id)]
    assert isinstance(payment, XeroPayment)
    # /Date(1543449600000+0000)/ is 29 November 2018, whatever the server's timezone.
    assert payment.date == dt.date(2018, 11, 29)
    assert payment.amount == Decimal("0.10") and str(payment.amount) == "0.10"
    assert (payment.payment_type, payment.status, payment.reference) == ("ACCPAYPAYMENT", "AUTHORISED", "CHQ 77")
    assert (payment.invoice_id, payment.invoice_number, payment.invoice_type) == (
        str(world.bill.invoice_id),
        "INV-1001",
        "ACCPAY",
    )
    assert (payment.currency_code, payment.contact_id, payment.contact_name) == (
        "AUD",
        str(world.contact.contact_id),
        "Ace Plumbing Pty Ltd",
    )
    assert payment.updated_at.tzinfo is not None
    first = by_id[str(world.payments[1].payment_id)]
    assert (first.date, first.amount) == (dt.date(2024, 3, 1), Decimal("300.50"))


def test_deleted_payments_are_read_and_only_changes_since_the_watermark_come_back(xero_client, xero_world):
    from syncapp.sandbox.xero.factories import make_payment

    world = xero_world.world
    old = timezone.now() - dt.timedelta(days=3)
    from syncapp.sandbox.xero.models import Payment

    Payment.objects.filter(pk__in=[p.pk for p in world.payments]).update(updated_at=old)
    reversed_payment = make_payment(invoice=world.bill, amount=Decimal("50.00"), status="DELETED")

    page = xero_client.payments_page(page=1, modified_since=timezone.now() - dt.timedelta(days=1))
    assert [(p.payment_id, p.status) for p in page.items] == [(str(reversed_payment.payment_id), "DELETED")]


def test_payments_page_through_with_has_more(xero_world, make_xero_client):
    counter = CallCounter()
    client = make_xero_client(counter=counter, page_size=1)
    first = client.payments_page(page=1)
    second = client.payments_page(page=2)
    assert (len(first.items), first.has_more) == (1, True)
    assert (len(second.items), second.has_more) == (1, False)
    assert first.items[0].payment_id != second.items[0].payment_id
    # Oldest change first, so a watermark can move page by page.
    assert first.items[0].updated_at <= second.items[0].updated_at
    assert counter.calls == 2


def test_bills_are_typed_with_tracking_and_only_supplier_bills_are_listed(xero_client, xero_world):
    from syncapp.sandbox.xero.factories import make_bill

    world = xero_world.world
    make_bill(organisation=world.organisation, contact=world.contact, number="SALE-1", type="ACCREC")

    page = xero_client.bills_page(page=1)
    assert [b.invoice_number for b in page.items] == ["INV-1001"]
    bill = page.items[0]
    assert (bill.type, bill.status, bill.currency_code, bill.reference) == ("ACCPAY", "AUTHORISED", "AUD", "WO-1001")
    assert (bill.total, bill.amount_paid, bill.amount_due) == (Decimal("1100.00"), Decimal("700.50"), Decimal("399.50"))
    assert bill.date == dt.date(2024, 1, 31) and bill.due_date == dt.date(2024, 3, 1)
    assert [(t.category, t.option) for t in bill.tracking] == [("Project", "Project 1001")]
    assert bill.contact_id == str(world.contact.contact_id)


def test_bills_by_ids_asks_for_at_most_fifty_at_a_time(xero_world, make_xero_client):
    from syncapp.sandbox.xero.factories import make_bill

    world = xero_world.world
    bills = [make_bill(organisation=world.organisation, contact=world.contact, number=f"B-{n:03d}") for n in range(59)]
    wanted = [str(b.invoice_id) for b in bills] + [str(world.bill.invoice_id), str(world.bill.invoice_id)]
    counter = CallCounter()
    client = make_xero_client(counter=counter)
    found = client.bills_by_ids(wanted)
    assert sorted(b.invoice_id for b in found) == sorted(set(wanted))
    assert counter.calls == 2  # 60 distinct ids: 50 + 10


def test_contacts_are_typed_and_found_by_id(xero_client, xero_world):
    world = xero_world.world
    (contact,) = xero_client.contacts_by_ids([str(world.contact.contact_id)])
    assert (contact.name, contact.tax_number, contact.contact_number, contact.is_supplier) == (
        "Ace Plumbing Pty Ltd",
        "51 824 753 556",
        "SUP-001",
        True,
    )
    page = xero_client.contacts_page(page=1)
    assert [c.contact_id for c in page.items] == [str(world.contact.contact_id)]


def test_the_organisation_names_its_base_currency(xero_client, xero_world):
    organisation = xero_client.organisation()
    assert (organisation.tenant_id, organisation.name, organisation.base_currency) == (
        xero_world.tenant_id,
        "Demo Builders Pty Ltd",
        "AUD",
    )


def test_incomplete_payments_convert_to_empty_values_instead_of_failing():
    """Decoded by the SDK itself from Xero-shaped JSON, as the client receives it."""
    data = {
        "Payments": [
            {
                "PaymentID": str(uuid.uuid4()),
                "PaymentType": "ACCPAYPAYMENT",
                "Status": "AUTHORISED",
                "Invoice": {"InvoiceID": str(uuid.uuid4()), "Type": "ACCPAY", "Contact": {"Name": "X"}},
            }
        ]
    }
    (raw,) = deserialize("Payments", data, AccountingApi().get_model_finder()).payments
    payment = payment_from_sdk(raw)
    assert (payment.date, payment.amount, payment.bank_amount, payment.updated_at) == (None, None, None, None)
    assert (payment.invoice_number, payment.reference, payment.batch_payment_id, payment.contact_id) == ("", "", "", "")
    assert payment.currency_code == ""


# --- the error table ---


def test_a_401_refreshes_exactly_once_and_the_call_then_succeeds(xero_client, xero_world):
    first = xero_world.tokens.access_token()
    Behaviour.set("xero", expire_tokens=True)  # tokens issued before now count as expired
    assert xero_client.organisation().name == "Demo Builders Pty Ltd"
    assert xero_world.tokens.refreshes == 1
    assert xero_world.tokens.refused_tokens == [first]


def test_a_token_refused_again_after_a_refresh_needs_a_reconnect(xero_client, xero_world):
    from syncapp.sandbox.xero.models import Token

    xero_world.tokens.access_token()
    Token.objects.update(revoked=True)

    def refresh_to_a_revoked_token(failed_token):
        xero_world.tokens.refreshes += 1
        return failed_token

    xero_world.tokens.refresh_after_unauthorized = refresh_to_a_revoked_token
    with pytest.raises(NeedsReconnect):
        xero_client.organisation()
    assert xero_world.tokens.refreshes == 1


def test_an_organisation_the_app_is_not_connected_to_needs_a_reconnect(xero_world, make_xero_client):
    client = make_xero_client(tenant_id=str(uuid.uuid4()))
    with pytest.raises(NeedsReconnect) as dead:
        client.payments_page(page=1)
    assert dead.value.status == 403
    assert "reconnect" in dead.value.message


def test_a_minute_limit_429_is_waited_out_and_the_call_succeeds(xero_world, make_xero_client):
    Behaviour.set("xero", throttle_rate=1.0)  # answers 429 minute, Retry-After: 1
    counter = CallCounter()
    switch_off_after_first_call(counter, throttle_rate=0.0)
    client = make_xero_client(counter=counter)
    started = time.monotonic()
    assert len(client.payments_page(page=1).items) == 2
    assert (counter.calls, counter.throttled) == (2, 1)
    assert counter.waited_seconds >= 0.9  # Retry-After: 1, less the time the answer took to arrive
    assert time.monotonic() - started >= 0.9


def test_the_day_limit_stops_at_once_instead_of_sleeping(xero_world, make_xero_client):
    Behaviour.set("xero", day_limit=1)
    counter = CallCounter()
    client = make_xero_client(counter=counter)
    client.organisation()
    started = time.monotonic()
    with pytest.raises(DailyLimitReached) as stopped:
        client.payments_page(page=1)
    # urllib3's own retry would have slept Retry-After (hours, until UTC midnight) right here.
    assert time.monotonic() - started < 5
    assert stopped.value.retry_after > 1
    assert stopped.value.resume_at > dt.datetime.now(dt.UTC)
    assert (counter.calls, counter.throttled) == (2, 1)


def test_server_errors_are_retried_until_they_pass(xero_world, make_xero_client):
    Behaviour.set("xero", error_rate=1.0)
    counter = CallCounter()
    switch_off_after_first_call(counter, error_rate=0.0)
    client = make_xero_client(counter=counter)
    assert client.organisation().base_currency == "AUD"
    assert counter.calls == 2


def test_server_errors_that_never_stop_end_as_a_transient_error(xero_world, make_xero_client):
    Behaviour.set("xero", error_rate=1.0)
    counter = CallCounter()
    client = make_xero_client(counter=counter, sleep=lambda s: None)
    with pytest.raises(TransientError):
        client.organisation()
    assert counter.calls == 4


def test_a_refused_query_is_a_readable_data_error(xero_client):
    with pytest.raises(DataError) as refused:
        xero_client._request("GET /Payments", xero_client._api.get_payments, where="Amount >>> nonsense")
    assert refused.value.status == 400
    assert refused.value.message.startswith("Xero refused GET /Payments: ")
    assert "Bearer" not in refused.value.message


# --- Xero's real shapes (issue 8): batch objects, refunds, allocations, the concurrent limit ---


def hold_concurrent_slots(xero_world, counter: CallCounter, *, until_call: int | None) -> None:
    """Five calls of this app in flight at the sandbox Xero (its concurrent limit), freed when
    the client makes call number `until_call` (never, with None)."""
    from syncapp.sandbox.xero import limits

    limits._in_flight[xero_world.tenant_id] = limits.CONCURRENT_LIMIT

    def on_call():
        if until_call is not None and counter.calls == until_call:
            limits._in_flight[xero_world.tenant_id] = 0

    counter.on_call = on_call


def test_a_concurrent_429_without_retry_after_is_waited_out_with_short_growing_waits(xero_world, make_xero_client):
    counter = CallCounter()
    hold_concurrent_slots(xero_world, counter, until_call=7)  # six refusals, then room
    sleeps: list[float] = []
    client = make_xero_client(counter=counter, sleep=sleeps.append)

    assert client.organisation().base_currency == "AUD"

    assert (counter.calls, counter.throttled) == (7, 6)
    assert len(sleeps) == 6 and all(0 < s <= 4.0 for s in sleeps)  # short: never Retry-After's hours
    assert sleeps[0] <= 0.5 and sleeps[-1] >= 2.0  # growing: 0.25-0.5 s first, up to 4 s
    assert sum(sleeps) < 20


def test_a_concurrent_limit_that_never_clears_is_a_transient_error_not_the_day_limit(xero_world, make_xero_client):
    counter = CallCounter()
    hold_concurrent_slots(xero_world, counter, until_call=None)
    sleeps: list[float] = []
    client = make_xero_client(counter=counter, sleep=sleeps.append)

    with pytest.raises(TransientError) as busy:
        client.payments_page(page=1)

    assert not isinstance(busy.value, DailyLimitReached)
    assert "too many calls at once" in busy.value.message and busy.value.status == 429
    assert counter.calls == 8 and sum(sleeps) < 30


def test_a_web_request_does_not_wait_for_xero_s_other_calls_to_finish(xero_world, make_xero_client):
    counter = CallCounter()
    hold_concurrent_slots(xero_world, counter, until_call=None)
    sleeps: list[float] = []
    client = make_xero_client(counter=counter, sleep=sleeps.append, max_wait=0)  # as interactive_client builds it

    with pytest.raises(TransientError) as busy:
        client.organisation()

    assert "too many calls at once" in busy.value.message
    assert counter.calls == 1 and sleeps == []


def test_a_batch_id_sent_only_inside_the_batch_payment_object_is_read(xero_world, make_xero_client, settings):
    from syncapp.sandbox.xero.factories import make_payment

    settings.SANDBOX_XERO_BATCH_ID_AT_TOP_LEVEL = "false"
    batch = uuid.uuid4()
    made = make_payment(invoice=xero_world.world.bill, amount=Decimal("1.00"), batch_payment_id=batch)
    raw = httpx.get(
        f"{settings.XERO_API_URL}/Payments/{made.payment_id}",
        headers={"Authorization": f"Bearer {xero_world.tokens.access_token()}", "xero-tenant-id": xero_world.tenant_id},
    ).json()["Payments"][0]

    by_id = {p.payment_id: p for p in make_xero_client().payments_page(page=1).items}

    assert "BatchPaymentID" not in raw and raw["BatchPayment"]["BatchPaymentID"] == str(batch)
    assert by_id[str(made.payment_id)].batch_payment_id == str(batch)


@pytest.mark.parametrize("embed", ["document", "invoice"])
def test_refunds_come_back_typed_as_what_they_are(xero_world, make_xero_client, settings, embed):
    from syncapp.sandbox.xero.factories import make_other_payment

    settings.SANDBOX_XERO_OTHER_DOCUMENT_EMBED = embed
    world = xero_world.world
    made = {
        kind: make_other_payment(organisation=world.organisation, contact=world.contact, payment_type=kind,
                                 amount=Decimal("25.00"))
        for kind in ("APCREDITPAYMENT", "APPREPAYMENTPAYMENT", "APOVERPAYMENTPAYMENT")
    }  # fmt: skip

    by_id = {p.payment_id: p for p in make_xero_client().payments_page(page=1).items}

    for kind, row in made.items():
        payment = by_id[str(row.payment_id)]
        assert payment.payment_type == kind and payment.amount == Decimal("25.00")
    credit = by_id[str(made["APCREDITPAYMENT"].payment_id)]
    if embed == "invoice":  # the refund's document, never a bill
        assert (credit.invoice_type, credit.invoice_number) == ("ACCPAYCREDIT", "CN-0042")
        assert by_id[str(made["APPREPAYMENTPAYMENT"].payment_id)].invoice_type == "APPREPAYMENT"
    else:
        assert (credit.invoice_type, credit.invoice_id) == ("", "")


def test_bills_carry_the_amount_credited_and_each_allocation(xero_world, make_xero_client, settings):
    from syncapp.connectors.types import XeroAllocation
    from syncapp.connectors.xero import bill_from_json
    from syncapp.sandbox.xero import payloads
    from syncapp.sandbox.xero.factories import make_allocation

    bill = xero_world.world.bill
    note = make_allocation(bill=bill, amount=Decimal("300.00"), number="CN-0042", date=dt.date(2024, 3, 3))
    prepaid = make_allocation(bill=bill, kind=payloads.PREPAYMENT, amount=Decimal("99.50"), date=dt.date(2024, 3, 4))
    client = make_xero_client()

    [listed] = client.bills_page(page=1).items
    [by_id] = client.bills_by_ids([str(bill.invoice_id)])
    raw = httpx.get(
        f"{settings.XERO_API_URL}/Invoices/{bill.invoice_id}",
        headers={"Authorization": f"Bearer {xero_world.tokens.access_token()}", "xero-tenant-id": xero_world.tenant_id},
    ).json()["Invoices"][0]

    expected = (
        XeroAllocation("credit note", str(note.invoice_id), "CN-0042", Decimal("300.00"), dt.date(2024, 3, 3)),
        XeroAllocation("prepayment", str(prepaid.invoice_id), "", Decimal("99.50"), dt.date(2024, 3, 4)),
    )
    for read in (listed, by_id, bill_from_json(raw)):  # the SDK's reading and the tolerant one agree
        assert read.amount_credited == Decimal("399.50") and read.amount_due == Decimal("0.00")
        assert read.status == "PAID" and read.allocations == expected

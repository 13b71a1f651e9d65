"""The sandbox Xero Accounting API over real HTTP: auth and tenant checks, filters, ordering,
paging, id lists, If-Modified-Since, rate limits and injected faults."""

import datetime as dt
import time
import uuid
from decimal import Decimal

import httpx
import pytest
from django.utils import timezone

from syncapp.sandbox.models import Behaviour
from syncapp.sandbox.xero import limits
from syncapp.sandbox.xero.factories import connect, make_bill, make_contact, make_organisation, make_payment
from syncapp.sandbox.xero.models import Payment, Token

pytestmark = pytest.mark.django_db(transaction=True)


def ms(value: str) -> int:
    return int(value[len("/Date(") :].split("+")[0].split(")")[0])


def test_a_call_without_a_token_gets_xeros_401(api):
    response = api.get("Payments", headers={"Authorization": ""})

    assert response.status_code == 401
    body = response.json()
    assert body["Title"] == "Unauthorized" and body["Status"] == 401 and body["Detail"] == "AuthenticationUnsuccessful"
    assert body["Type"] is None
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_missing_tenant_header_is_forbidden(api):
    response = api.get("Payments", headers={"xero-tenant-id": ""})

    assert response.status_code == 403
    assert response.json()["Detail"] == "AuthenticationUnsuccessful"


def test_a_tenant_the_app_is_not_connected_to_is_forbidden(api):
    stranger = make_organisation(name="Not Connected Ltd")

    unknown = api.get("Payments", headers={"xero-tenant-id": str(uuid.uuid4())})
    not_connected = api.get("Payments", headers={"xero-tenant-id": str(stranger.tenant_id)})
    garbage = api.get("Payments", headers={"xero-tenant-id": "garbage"})

    for response in (unknown, not_connected, garbage):
        assert response.status_code == 403
        assert response.json()["Detail"] == "AuthorizationUnsuccessful"


def test_a_token_without_the_scope_of_a_resource_is_refused(sandbox, world):
    narrow = connect(client=world.client, organisations=[world.organisation], scope="accounting.contacts.read")
    headers = {"Authorization": f"Bearer {narrow['access_token']}", "xero-tenant-id": str(world.organisation.tenant_id)}
    base = f"{sandbox}/sandbox/xero/api.xro/2.0"

    payments = httpx.get(f"{base}/Payments", headers=headers)
    contacts = httpx.get(f"{base}/Contacts", headers=headers)

    assert payments.status_code == 401 and payments.json()["Detail"] == "AuthorizationUnsuccessful"
    assert contacts.status_code == 200


def test_another_organisations_data_never_shows(api, world):
    other = make_organisation(name="Other Org")
    supplier = make_contact(organisation=other, name="Other Supplier")
    make_payment(invoice=make_bill(organisation=other, contact=supplier), amount=Decimal("5.00"))

    payments = api.get("Payments").json()["Payments"]

    assert {p["PaymentID"] for p in payments} == {str(p.payment_id) for p in world.payments}


def test_payments_carry_xeros_fields_and_the_bill(api, world):
    body = api.get("Payments", params={"page": 1}).json()

    assert body["Status"] == "OK" and body["ProviderName"] == "Procore Payments Sync"
    assert body["DateTimeUTC"].startswith("/Date(")
    first = next(p for p in body["Payments"] if p["Reference"] == "EFT 0001")
    assert first["Amount"] == 400.0 and first["BankAmount"] == 400.0 and first["CurrencyRate"] == 1.0
    assert first["Date"] == "/Date(1707955200000+0000)/"  # 2024-02-15
    assert first["PaymentType"] == "ACCPAYPAYMENT" and first["Status"] == "AUTHORISED"
    assert "BatchPaymentID" not in first
    assert first["Account"]["Code"] == "090"
    invoice = first["Invoice"]
    assert invoice["InvoiceID"] == str(world.bill.invoice_id) and invoice["InvoiceNumber"] == "INV-1001"
    assert invoice["Type"] == "ACCPAY" and invoice["CurrencyCode"] == "AUD"
    assert invoice["Contact"] == {**invoice["Contact"], "ContactID": str(world.contact.contact_id),
                                  "Name": world.contact.name}


def test_a_batch_payment_carries_its_batch_id_and_other_documents_are_embedded(api, world):
    batch = uuid.uuid4()
    make_payment(invoice=world.bill, amount=Decimal("10.00"), batch_payment_id=batch)
    Payment.objects.create(
        organisation=world.organisation,
        payment_type="APCREDITPAYMENT",
        date=dt.date(2024, 3, 3),
        amount=Decimal("20.00"),
        bank_amount=Decimal("20.00"),
        updated_at=timezone.now(),
        other_document={"CreditNote": {"CreditNoteID": str(uuid.uuid4()), "CreditNoteNumber": "CN-1",
                                       "Type": "ACCPAYCREDIT"}},
    )

    payments = api.get("Payments", params={"where": "Amount<=20"}).json()["Payments"]

    by_amount = {p["Amount"]: p for p in payments}
    assert by_amount[10.0]["BatchPaymentID"] == str(batch)
    assert by_amount[20.0]["CreditNote"]["CreditNoteNumber"] == "CN-1" and "Invoice" not in by_amount[20.0]


def test_where_filters_by_type_status_date_invoice_and_reference(api, world):
    deleted = make_payment(invoice=world.bill, amount=Decimal("1.00"), status="DELETED", reference="REV 9")

    def ids(where: str) -> set[str]:
        response = api.get("Payments", params={"where": where})
        assert response.status_code == 200, response.text
        return {p["PaymentID"] for p in response.json()["Payments"]}

    everything = {str(p.payment_id) for p in [*world.payments, deleted]}
    assert ids('PaymentType=="ACCPAYPAYMENT"') == everything
    assert ids('Status=="DELETED"') == {str(deleted.payment_id)}
    assert ids('Status!="DELETED" AND PaymentType=="ACCPAYPAYMENT"') == {str(p.payment_id) for p in world.payments}
    assert ids("Date>=DateTime(2024,03,01)") == {str(world.payments[1].payment_id)}
    assert ids("Date >= DateTime(2024, 02, 16) && Date < DateTime(2024,03,02,00,00,00)") == {
        str(world.payments[1].payment_id)
    }
    assert ids(f'Invoice.InvoiceID==Guid("{world.bill.invoice_id}")') == everything
    assert ids(f'Invoice.InvoiceId=Guid("{uuid.uuid4()}")') == set()
    assert ids('Reference=="EFT 0002" OR (Reference=="REV 9")') == {
        str(world.payments[1].payment_id),
        str(deleted.payment_id),
    }
    assert ids(f'Invoice.Contact.ContactID==Guid("{world.contact.contact_id}") AND Amount>300') == {
        str(world.payments[0].payment_id),
        str(world.payments[1].payment_id),
    }


def test_an_unknown_field_or_bad_syntax_in_where_is_a_400(api):
    unknown = api.get("Payments", params={"where": 'Colour=="red"'})
    broken = api.get("Payments", params={"where": 'Status=="AUTHORISED" AND'})
    injected = api.get("Payments", params={"where": "__import__('os').system('id')"})

    for response in (unknown, broken, injected):
        assert response.status_code == 400
        assert response.json()["Type"] == "QueryParseException"
    assert "Colour" in unknown.json()["Message"]


def test_invoices_and_contacts_filter_by_their_fields(api, world):
    customer = make_contact(organisation=world.organisation, name="A Customer", is_supplier=False, is_customer=True)
    make_bill(organisation=world.organisation, contact=customer, number="S-1", type="ACCREC", status="DRAFT")

    bills = api.get("Invoices", params={"where": 'Type=="ACCPAY" AND Status=="PAID" OR Status=="AUTHORISED"'}).json()
    by_contact = api.get("Invoices", params={"where": f'Contact.ContactID=Guid("{customer.contact_id}")'}).json()
    suppliers = api.get("Contacts", params={"where": "IsSupplier==true"}).json()
    named = api.get("Contacts", params={"where": 'Name.Contains("custom")'}).json()

    assert [i["InvoiceNumber"] for i in bills["Invoices"]] == ["INV-1001"]
    assert [i["InvoiceNumber"] for i in by_contact["Invoices"]] == ["S-1"]
    assert [c["Name"] for c in suppliers["Contacts"]] == [world.contact.name]
    assert [c["Name"] for c in named["Contacts"]] == ["A Customer"]


def test_order_sorts_ascending_and_descending(api, world):
    ascending = api.get("Payments", params={"order": "Date ASC"}).json()["Payments"]
    descending = api.get("Payments", params={"order": "Date DESC"}).json()["Payments"]
    bad = api.get("Payments", params={"order": "Colour DESC"})

    assert [p["Reference"] for p in ascending] == ["EFT 0001", "EFT 0002"]
    assert [p["Reference"] for p in descending] == ["EFT 0002", "EFT 0001"]
    assert bad.status_code == 400


def test_paging_returns_xeros_envelope_and_caps_the_page_size_at_1000(api, world):
    now = timezone.now()
    Payment.objects.bulk_create(
        Payment(
            organisation=world.organisation,
            invoice=world.bill,
            date=dt.date(2024, 4, 1),
            amount=Decimal("1.00"),
            bank_amount=Decimal("1.00"),
            reference=f"P{n:04d}",
            updated_at=now + dt.timedelta(milliseconds=n),
        )
        for n in range(1001)
    )

    default = api.get("Payments", params={"page": 1}).json()
    capped = api.get("Payments", params={"page": 1, "pageSize": 5000}).json()
    second = api.get("Payments", params={"page": 2, "pageSize": 1000}).json()
    beyond = api.get("Payments", params={"page": 9, "pageSize": 1000}).json()
    everything = api.get("Payments").json()

    assert default["pagination"] == {"page": 1, "pageSize": 100, "pageCount": 11, "itemCount": 1003}
    assert len(default["Payments"]) == 100
    assert capped["pagination"] == {"page": 1, "pageSize": 1000, "pageCount": 2, "itemCount": 1003}
    assert len(capped["Payments"]) == 1000
    assert len(second["Payments"]) == 3
    assert beyond["Payments"] == [] and beyond["pagination"]["page"] == 9
    ids = [p["PaymentID"] for p in capped["Payments"] + second["Payments"]]
    assert len(set(ids)) == 1003
    assert "pagination" not in everything and len(everything["Payments"]) == 1003


def test_if_modified_since_returns_records_updated_at_or_after_that_second(api, world):
    cut = timezone.now().replace(microsecond=0) + dt.timedelta(seconds=5)
    Payment.objects.filter(pk=world.payments[0].pk).update(updated_at=cut - dt.timedelta(seconds=1))
    Payment.objects.filter(pk=world.payments[1].pk).update(updated_at=cut + dt.timedelta(milliseconds=300))

    iso = api.get("Payments", headers={"If-Modified-Since": cut.replace(tzinfo=None).isoformat()}).json()
    with_zone = api.get("Payments", headers={"If-Modified-Since": cut.isoformat()}).json()
    http_date = api.get("Payments", headers={"If-Modified-Since": cut.strftime("%a, %d %b %Y %H:%M:%S GMT")}).json()

    for body in (iso, with_zone, http_date):
        assert [p["Reference"] for p in body["Payments"]] == ["EFT 0002"]
        assert ms(body["Payments"][0]["UpdatedDateUTC"]) == int(cut.timestamp() * 1000) + 300


def test_invoices_by_ids_and_statuses(api, world):
    draft = make_bill(organisation=world.organisation, contact=world.contact, number="INV-2", status="DRAFT")
    make_bill(organisation=world.organisation, contact=world.contact, number="INV-3", status="AUTHORISED")

    by_ids = api.get("Invoices", params={"IDs": f"{world.bill.invoice_id},{draft.invoice_id}"}).json()
    by_status = api.get("Invoices", params={"Statuses": "DRAFT,VOIDED"}).json()

    assert sorted(i["InvoiceNumber"] for i in by_ids["Invoices"]) == ["INV-1001", "INV-2"]
    assert sorted(i["InvoiceNumber"] for i in by_status["Invoices"]) == ["INV-2"]


def test_an_invoice_shows_totals_line_items_tracking_and_live_payments(api, world):
    make_payment(invoice=world.bill, amount=Decimal("1.00"), status="DELETED")

    invoice = api.get(f"Invoices/{world.bill.invoice_id}").json()["Invoices"][0]

    assert invoice["Total"] == 1100.0 and invoice["AmountPaid"] == 700.5 and invoice["AmountDue"] == 399.5
    assert invoice["Status"] == "AUTHORISED" and invoice["Date"] == "/Date(1706659200000+0000)/"
    assert invoice["LineItems"][0]["Tracking"][0]["Option"] == "Project 1001"
    assert invoice["LineItems"][0]["LineAmount"] == 1000.0
    assert sorted(p["Amount"] for p in invoice["Payments"]) == [300.5, 400.0]


def test_single_records_by_id_and_404_for_unknown_ones(api, world):
    payment = api.get(f"Payments/{world.payments[0].payment_id}").json()["Payments"]
    contact = api.get(f"Contacts/{world.contact.contact_id}").json()["Contacts"]
    contacts = api.get("Contacts", params={"IDs": str(world.contact.contact_id)}).json()["Contacts"]

    assert payment[0]["PaymentID"] == str(world.payments[0].payment_id)
    assert contact[0]["TaxNumber"] == "51 824 753 556" and contacts[0]["Name"] == world.contact.name
    assert api.get(f"Payments/{uuid.uuid4()}").status_code == 404
    assert api.get("Invoices/not-a-number").status_code == 404


def test_rate_limit_headers_count_down(api):
    first = api.get("Contacts")
    second = api.get("Contacts")

    assert int(first.headers["X-MinLimit-Remaining"]) == 59
    assert int(second.headers["X-MinLimit-Remaining"]) == 58
    assert int(second.headers["X-DayLimit-Remaining"]) == 4998
    assert int(second.headers["X-AppMinLimit-Remaining"]) == 9998


def test_the_minute_limit_answers_429_with_retry_after_and_the_problem(api):
    Behaviour.set("xero", minute_limit=3)

    answers = [api.get("Organisation") for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused.headers["X-Rate-Limit-Problem"] == "minute"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-MinLimit-Remaining"] == "0"


def test_the_day_limit_answers_429_until_tomorrow(api):
    Behaviour.set("xero", day_limit=1)

    api.get("Organisation")
    refused = api.get("Organisation")

    assert refused.status_code == 429
    assert refused.headers["X-Rate-Limit-Problem"] == "day"
    assert int(refused.headers["Retry-After"]) > 0


def test_limits_are_per_organisation_and_reset_clears_them(sandbox, world, api):
    other = make_organisation(name="Second Org")
    tokens = connect(client=world.client, organisations=[other])
    Behaviour.set("xero", minute_limit=1)
    api.get("Organisation")

    elsewhere = httpx.get(
        f"{sandbox}/sandbox/xero/api.xro/2.0/Organisation",
        headers={"Authorization": f"Bearer {tokens['access_token']}", "xero-tenant-id": str(other.tenant_id)},
    )
    blocked = api.get("Organisation")
    limits.reset()
    again = api.get("Organisation")

    assert elsewhere.status_code == 200
    assert blocked.status_code == 429
    assert again.status_code == 200


def test_injected_faults_answer_5xx_or_xeros_429(api):
    Behaviour.set("xero", error_rate=1.0)
    error = api.get("Payments")
    Behaviour.set("xero", error_rate=0.0, throttle_rate=1.0)
    throttled = api.get("Payments")
    Behaviour.set("xero", throttle_rate=0.0, latency_ms=150)
    started = time.monotonic()
    slow = api.get("Organisation")

    assert error.status_code in (500, 502, 503)
    assert throttled.status_code == 429
    assert throttled.headers["X-Rate-Limit-Problem"] == "minute" and throttled.headers["Retry-After"] == "1"
    assert slow.status_code == 200 and time.monotonic() - started >= 0.15


def test_xero_paths_answer_in_lower_case_too(api):
    assert api.get("payments").status_code == 200
    assert api.get("organisation").status_code == 200


def test_writes_are_not_allowed(api):
    assert api.post("Payments", json={}).status_code == 405


def test_the_limits_reset_endpoint_clears_the_counters(sandbox, api):
    Behaviour.set("xero", minute_limit=1)
    api.get("Organisation")
    assert api.get("Organisation").status_code == 429

    reset = httpx.post(f"{sandbox}/sandbox/xero/limits/reset")

    assert reset.status_code == 204
    assert api.get("Organisation").status_code == 200


def test_more_than_five_calls_in_flight_for_one_organisation_are_refused():
    tenant = str(uuid.uuid4())
    args = {"tenant_id": tenant, "client_id": "app", "minute_limit": 60, "day_limit": 5000}

    held = [limits.acquire(**args) for _ in range(5)]
    sixth = limits.acquire(**args)
    limits.release(tenant)
    after_release = limits.acquire(**args)

    assert all(verdict.allowed for verdict in held)
    assert not sixth.allowed and sixth.problem == "concurrent"
    assert after_release.allowed


def test_an_access_token_past_thirty_minutes_is_expired(api, tokens):
    Token.objects.filter(access_token=tokens["access_token"]).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )

    response = api.get("Payments")

    assert response.status_code == 401
    assert response.json()["Detail"].startswith("TokenExpired")


def test_archived_contacts_show_only_when_asked_for(api, world):
    archived = make_contact(organisation=world.organisation, name="Old Supplier", status="ARCHIVED",
                            merged_to_contact_id=world.contact.contact_id)

    default = api.get("Contacts").json()["Contacts"]
    included = api.get("Contacts", params={"includeArchived": "true"}).json()["Contacts"]
    by_id = api.get("Contacts", params={"IDs": str(archived.contact_id)}).json()["Contacts"]

    assert [c["Name"] for c in default] == [world.contact.name]
    assert sorted(c["Name"] for c in included) == sorted([world.contact.name, "Old Supplier"])
    assert by_id[0]["ContactStatus"] == "ARCHIVED"
    assert by_id[0]["MergedToContactID"] == str(world.contact.contact_id)

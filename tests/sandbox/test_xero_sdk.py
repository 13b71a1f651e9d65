"""xero-python, pointed at the sandbox, parses every answer and the values come through typed:
amounts as numbers, dates as dates, enums as the SDK's enums. Also: the SDK's own token refresh
works against the sandbox token endpoint."""

import datetime as dt
import time
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.exceptions import ApiException
from xero_python.identity import IdentityApi

from syncapp.sandbox.models import Behaviour
from syncapp.sandbox.xero import limits
from syncapp.sandbox.xero.factories import connect, make_bill, make_payment
from syncapp.sandbox.xero.models import Payment

pytestmark = pytest.mark.django_db(transaction=True)


def text(value) -> str:
    """The SDK gives referenced enums as Enum members and inline ones as plain strings."""
    return getattr(value, "value", value)


def sdk_client(world, tokens: dict, *, expires_at: float | None = None) -> tuple[ApiClient, dict]:
    store: dict = {}
    # Configuration() hands back a copy of the first instance ever made and ignores its arguments:
    # set the token after construction, as the product's client does.
    configuration = Configuration()
    configuration.oauth2_token = OAuth2Token(client_id=world.client.client_id, client_secret=world.client.client_secret)
    client = ApiClient(
        configuration,
        pool_threads=1,
        oauth2_token_getter=lambda: store.get("token"),
        oauth2_token_saver=lambda token: store.update(token=token),
    )
    client.rest_client.pool_manager.connection_pool_kw["retries"] = False  # no silent sleeps on 429
    client.set_oauth2_token(
        {**tokens, "scope": tokens["scope"].split(), "expires_at": expires_at or time.time() + tokens["expires_in"]}
    )
    return client, store


@pytest.fixture
def sdk(sandbox, world):
    tokens = connect(client=world.client, organisations=[world.organisation])
    client, _ = sdk_client(world, tokens)
    return AccountingApi(client, base_url=f"{sandbox}/sandbox/xero/api.xro/2.0"), str(world.organisation.tenant_id)


def test_get_payments_with_every_option_parses_into_typed_models(sdk, world):
    api, tenant = sdk
    since = timezone.now() - dt.timedelta(minutes=5)

    answer = api.get_payments(
        tenant,
        if_modified_since=since,
        where='Status=="AUTHORISED" AND PaymentType=="ACCPAYPAYMENT"',
        order="Date ASC",
        page=1,
        page_size=1000,
    )

    assert answer.pagination.item_count == 2 and answer.pagination.page_size == 1000
    first = answer.payments[0]
    assert str(first.payment_id) == str(world.payments[0].payment_id)
    assert first.amount == Decimal("400.00") and isinstance(first.amount, Decimal)
    assert first.bank_amount == Decimal("400.00") and first.currency_rate == 1
    assert first.date == dt.date(2024, 2, 15)
    assert first.updated_date_utc.tzinfo is not None
    assert abs(first.updated_date_utc - world.payments[0].updated_at) < dt.timedelta(milliseconds=1)
    assert text(first.payment_type) == "ACCPAYPAYMENT" and text(first.status) == "AUTHORISED"
    assert first.reference == "EFT 0001" and first.is_reconciled is False
    assert first.account.code == "090"
    assert str(first.invoice.invoice_id) == str(world.bill.invoice_id)
    assert first.invoice.invoice_number == "INV-1001" and text(first.invoice.type) == "ACCPAY"
    assert text(first.invoice.currency_code) == "AUD"
    assert first.invoice.contact.name == world.contact.name
    assert answer.payments[1].date == dt.date(2024, 3, 1)


def test_get_payments_sees_deleted_and_batch_payments(sdk, world):
    api, tenant = sdk
    batch = uuid.uuid4()
    make_payment(invoice=world.bill, amount=Decimal("5.00"), status="DELETED", batch_payment_id=batch)

    answer = api.get_payments(tenant, where='Status=="DELETED"')

    assert [text(p.status) for p in answer.payments] == ["DELETED"]
    assert str(answer.payments[0].batch_payment_id) == str(batch)


def test_get_invoices_by_ids_brings_line_items_tracking_and_totals(sdk, world):
    api, tenant = sdk
    other = make_bill(organisation=world.organisation, contact=world.contact, number="INV-2", status="DRAFT")
    make_bill(organisation=world.organisation, contact=world.contact, number="INV-3")

    answer = api.get_invoices(tenant, i_ds=[str(world.bill.invoice_id), str(other.invoice_id)], page=1)

    bills = {invoice.invoice_number: invoice for invoice in answer.invoices}
    assert set(bills) == {"INV-1001", "INV-2"}
    bill = bills["INV-1001"]
    assert bill.total == 1100.0 and bill.amount_paid == 700.5 and bill.amount_due == 399.5
    assert text(bill.status) == "AUTHORISED" and text(bills["INV-2"].status) == "DRAFT"
    assert bill.date == dt.date(2024, 1, 31) and bill.due_date == dt.date(2024, 3, 1)
    assert bill.line_items[0].tracking[0].option == "Project 1001"
    assert bill.line_items[0].tracking[0].name == "Project"
    assert text(bill.line_amount_types) == "Exclusive"
    assert sorted(p.amount for p in bill.payments) == [300.5, 400.0]


def test_get_invoices_with_statuses_and_where(sdk, world):
    api, tenant = sdk
    make_bill(organisation=world.organisation, contact=world.contact, number="INV-V", status="VOIDED")

    voided = api.get_invoices(tenant, statuses=["VOIDED"])
    bills = api.get_invoices(tenant, where='Type=="ACCPAY" AND Status=="AUTHORISED"', order="InvoiceNumber ASC")

    assert [i.invoice_number for i in voided.invoices] == ["INV-V"]
    assert [i.invoice_number for i in bills.invoices] == ["INV-1001"]


def test_get_contacts_and_get_organisations(sdk, world):
    api, tenant = sdk

    contacts = api.get_contacts(tenant, i_ds=[str(world.contact.contact_id)], page=1)
    organisations = api.get_organisations(tenant)

    contact = contacts.contacts[0]
    assert contact.name == world.contact.name and contact.is_supplier is True
    assert contact.tax_number == "51 824 753 556" and text(contact.contact_status) == "ACTIVE"
    assert contact.updated_date_utc.tzinfo is not None
    organisation = organisations.organisations[0]
    assert str(organisation.organisation_id) == str(world.organisation.tenant_id)
    assert text(organisation.base_currency) == "AUD" and text(organisation.country_code) == "AU"


def test_get_connections_through_the_identity_api(sandbox, world):
    tokens = connect(client=world.client, organisations=[world.organisation])
    client, _ = sdk_client(world, tokens)

    connections = IdentityApi(client, base_url=f"{sandbox}/sandbox/xero").get_connections()

    assert [str(c.tenant_id) for c in connections] == [str(world.organisation.tenant_id)]
    assert connections[0].tenant_type == "ORGANISATION"
    assert connections[0].created_date_utc.year == dt.date.today().year


def test_sdk_errors_carry_xeros_status_and_headers(sandbox, world):
    tokens = connect(client=world.client, organisations=[world.organisation])
    client, _ = sdk_client(world, tokens)
    api = AccountingApi(client, base_url=f"{sandbox}/sandbox/xero/api.xro/2.0")
    Behaviour.set("xero", minute_limit=1)

    _, status, headers = api.get_organisations(str(world.organisation.tenant_id), _return_http_data_only=False)
    with pytest.raises(ApiException) as refused:
        api.get_organisations(str(world.organisation.tenant_id))
    with pytest.raises(ApiException) as bad_where:
        limits.reset()
        api.get_payments(str(world.organisation.tenant_id), where='Nope=="x"')

    assert status == 200 and headers["X-MinLimit-Remaining"] == "0"
    assert refused.value.status == 429
    assert refused.value.headers["X-Rate-Limit-Problem"] == "minute"
    assert bad_where.value.status == 400


def test_the_sdk_refreshes_an_expired_token_at_the_sandbox(sandbox, world, monkeypatch):
    monkeypatch.setattr(TokenApi, "refresh_token_url", f"{sandbox}/sandbox/xero/identity/connect/token")
    tokens = connect(client=world.client, organisations=[world.organisation])
    client, store = sdk_client(world, tokens, expires_at=time.time() - 10)
    api = AccountingApi(client, base_url=f"{sandbox}/sandbox/xero/api.xro/2.0")

    answer = api.get_payments(str(world.organisation.tenant_id), page=1)

    assert answer.pagination.item_count == 2
    assert store["token"]["refresh_token"] != tokens["refresh_token"]
    assert store["token"]["access_token"] != tokens["access_token"]


def test_a_thousand_payments_come_through_the_sdk_in_one_page(sdk, world):
    api, tenant = sdk
    now = timezone.now()
    Payment.objects.bulk_create(
        Payment(organisation=world.organisation, invoice=world.bill, date=dt.date(2024, 4, 1),
                amount=Decimal("0.01"), bank_amount=Decimal("0.01"), updated_at=now)
        for _ in range(998)
    )

    answer = api.get_payments(tenant, page=1, page_size=1000)

    assert len(answer.payments) == 1000 and answer.pagination.page_count == 1

"""Every sandbox Xero answer validates against Xero's own OpenAPI specs (tests/specs/xero: a
mismatch fails), and uses no field the spec does not define (besides the allowlist of
tests/specs/documented.py: the envelope fields Xero really sends)."""

import datetime as dt
import functools
import uuid
from decimal import Decimal

import httpx
import pytest
from django.utils import timezone
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from syncapp.sandbox.seed import register_oauth_clients, seed_world
from syncapp.sandbox.xero.factories import connect, make_bill, make_contact, make_payment, make_world
from syncapp.sandbox.xero.models import Payment
from tests.specs import xero_document
from tests.specs.documented import xero_undocumented

pytestmark = pytest.mark.django_db(transaction=True)

ACCOUNTING = "urn:xero:accounting"
IDENTITY = "urn:xero:identity"


def _openapi_to_jsonschema(node):
    """OpenAPI 3.0 `nullable: true` means "or null" in JSON Schema; nothing else needs changing
    for validation (formats other than uuid are not checked)."""
    if isinstance(node, dict):
        node = {key: _openapi_to_jsonschema(value) for key, value in node.items()}
        if node.pop("nullable", False) and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        return node
    if isinstance(node, list):
        return [_openapi_to_jsonschema(item) for item in node]
    return node


@functools.cache
def _spec(name: str) -> dict:
    return _openapi_to_jsonschema(xero_document(name))


@functools.cache
def _registry() -> Registry:
    return Registry().with_resources(
        [
            (ACCOUNTING, Resource(contents=_spec("xero_accounting.yaml"), specification=DRAFT202012)),
            (IDENTITY, Resource(contents=_spec("xero-identity.yaml"), specification=DRAFT202012)),
        ]
    )


def validate(instance, *, document: str, schema: str | dict) -> None:
    """Raise on the first mismatch, with every error listed."""
    target = schema if isinstance(schema, dict) else {"$ref": f"{document}#/components/schemas/{schema}"}
    validator = Draft202012Validator(target, registry=_registry(), format_checker=FormatChecker(formats=["uuid"]))
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:20])


@pytest.fixture
def world():
    world = make_world()
    # Every kind of row the sandbox can hold: deleted and batch payments, a paid bill, a credit
    # note refund, an archived and a merged contact, a bill without a due date.
    make_payment(invoice=world.bill, amount=Decimal("1.00"), status="DELETED")
    make_payment(invoice=world.bill, amount=Decimal("10.00"), batch_payment_id=uuid.uuid4(), is_reconciled=True)
    other = make_contact(organisation=world.organisation, name="Merged Supplier", status="ARCHIVED",
                         merged_to_contact_id=world.contact.contact_id, email="ap@merged.example")
    paid = make_bill(organisation=world.organisation, contact=other, number="INV-PAID", total=Decimal("50.00"),
                     due_date=None)
    make_payment(invoice=paid, amount=Decimal("50.00"))
    Payment.objects.create(
        organisation=world.organisation,
        payment_type="APCREDITPAYMENT",
        date=dt.date(2024, 3, 3),
        amount=Decimal("20.00"),
        bank_amount=Decimal("20.00"),
        updated_at=timezone.now(),
        other_document={
            "CreditNote": {
                "CreditNoteID": str(uuid.uuid4()),
                "CreditNoteNumber": "CN-0001",
                "Type": "ACCPAYCREDIT",
                "Contact": {"ContactID": str(world.contact.contact_id), "Name": world.contact.name},
                "CurrencyCode": "AUD",
            }
        },
    )
    return world


@pytest.fixture
def api(sandbox, world):
    tokens = connect(client=world.client, organisations=[world.organisation])
    headers = {"Authorization": f"Bearer {tokens['access_token']}", "xero-tenant-id": str(world.organisation.tenant_id)}
    with httpx.Client(base_url=f"{sandbox}/sandbox/xero/", headers=headers, timeout=30) as client:
        yield client


ENDPOINTS = [
    ("api.xro/2.0/Payments", {"page": 1}, "Payments"),
    ("api.xro/2.0/Payments", {}, "Payments"),
    ("api.xro/2.0/Invoices", {"page": 1}, "Invoices"),
    ("api.xro/2.0/Invoices", {"summaryOnly": "true"}, "Invoices"),
    ("api.xro/2.0/Contacts", {"page": 1, "includeArchived": "true"}, "Contacts"),
    ("api.xro/2.0/Organisation", {}, "Organisations"),
]


@pytest.mark.parametrize(("path", "params", "schema"), ENDPOINTS)
def test_list_answers_validate_against_the_accounting_spec(api, path, params, schema):
    response = api.get(path, params=params)

    assert response.status_code == 200
    body = response.json()
    assert body[schema], "the test needs rows to validate"
    validate(body, document=ACCOUNTING, schema=schema)
    assert xero_undocumented(body, schema) == []


def test_single_record_answers_validate_against_the_accounting_spec(api, world):
    for path, schema in (
        (f"api.xro/2.0/Payments/{world.payments[0].payment_id}", "Payments"),
        (f"api.xro/2.0/Invoices/{world.bill.invoice_id}", "Invoices"),
        (f"api.xro/2.0/Contacts/{world.contact.contact_id}", "Contacts"),
    ):
        body = api.get(path).json()
        validate(body, document=ACCOUNTING, schema=schema)
        assert xero_undocumented(body, schema) == []


def test_the_connections_answer_validates_against_the_identity_spec(api):
    body = api.get("connections").json()

    assert body
    validate(
        body,
        document=IDENTITY,
        schema={"type": "array", "items": {"$ref": f"{IDENTITY}#/components/schemas/Connection"}},
    )
    connections = {"type": "array", "items": {"$ref": "#/components/schemas/Connection"}}
    assert xero_undocumented(body, connections, document="xero-identity.yaml") == []


def test_a_wrong_enum_value_would_fail_validation(api, world):
    # Guards the guard: the validator really checks the spec's enums.
    Payment.objects.filter(pk=world.payments[0].pk).update(payment_type="BILLPAYMENT")
    body = api.get("api.xro/2.0/Payments").json()

    with pytest.raises(AssertionError, match="BILLPAYMENT"):
        validate(body, document=ACCOUNTING, schema="Payments")


def test_the_seeded_world_validates_against_the_spec(sandbox, settings):
    # The seeder (another module) fills the sandbox for the demo and the product's tests: its
    # rows must come out inside the spec too, or xero-python would refuse whole pages.
    seed_world(payments=60, seed=3)
    register_oauth_clients(site_url=sandbox)
    granted = httpx.post(
        f"{sandbox}/sandbox/xero/identity/connect/token",
        data={"grant_type": "client_credentials"},
        auth=(settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET),
    )
    assert granted.status_code == 200, granted.text
    bearer = {"Authorization": f"Bearer {granted.json()['access_token']}"}
    tenant = httpx.get(f"{sandbox}/sandbox/xero/connections", headers=bearer).json()[0]["tenantId"]

    with httpx.Client(base_url=f"{sandbox}/sandbox/xero/api.xro/2.0/", headers={**bearer, "xero-tenant-id": tenant},
                      timeout=30) as api:
        for path, schema in (("Payments", "Payments"), ("Invoices", "Invoices"), ("Contacts", "Contacts")):
            body = api.get(path, params={"page": 1, "pageSize": 1000, "includeArchived": "true"}).json()
            assert body[schema]
            validate(body, document=ACCOUNTING, schema=schema)
            assert xero_undocumented(body, schema) == []
        assert len(api.get("Payments", params={"page": 1, "pageSize": 1000}).json()["Payments"]) >= 60

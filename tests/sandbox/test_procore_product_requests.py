"""What the product really sends to Procore, checked against Procore's request schemas
(tests/specs/procore) and played against the simulated Procore: the connector's requests are
captured on the wire, so a change in the connector that breaks the published contract fails
here. A request may carry only attributes the request schema documents: Procore drops the rest
without a word."""

import datetime as dt
import json
from decimal import Decimal

import pytest

from syncapp.connectors.procore import ProcoreClient
from syncapp.connectors.types import NewContractPayment
from tests.sandbox import test_procore_api
from tests.sandbox.test_procore_api import assert_matches_request
from tests.specs import procore_operation, undeclared_properties

pytestmark = pytest.mark.django_db(transaction=True)
procore_world = test_procore_api.procore_world  # the shared fixture


def undocumented_in_request(operation: str, body: dict) -> list[str]:
    return undeclared_properties(body, procore_operation(operation)["requestBody"]["schema"])


class FixedToken:
    """A TokenSource holding one valid token (refresh is the connections app's business)."""

    def __init__(self, token: str):
        self.token = token

    def access_token(self) -> str:
        return self.token

    def refresh_after_unauthorized(self, failed_token: str) -> str:
        raise AssertionError("the sandbox token should not need a refresh here")


@pytest.fixture
def product_client(procore_world):
    """The product's Procore client, pointed at the sandbox, recording every request it sends."""
    sent: list[tuple[str, str, dict | None]] = []
    client = ProcoreClient(tokens=FixedToken(procore_world.token), company_id=procore_world.company.pk)

    def record(request):
        body = json.loads(request.content) if request.content else None
        sent.append((request.method, request.url.path, body))

    client._http.event_hooks["request"].append(record)
    client.sent = sent
    yield client
    client.close()


def test_the_products_payment_create_fits_the_spec_and_is_accepted(procore_world, product_client):
    w = procore_world
    created = product_client.create_contract_payment(
        NewContractPayment(
            project_id=w.project.pk,
            commitment_id=w.subcontract.pk,
            date=dt.date(2026, 11, 21),
            amount=Decimal("999.5"),
            origin_id="xero-payment-77",
            invoice_number="INV-1001",
            invoice_date=dt.date(2026, 10, 31),
            check_number="EFT 1",
            requisition_id=w.requisition.pk,
            extra={"payment_number": 3},
        )
    )
    method, path, body = product_client.sent[-1]
    assert (method, path.rsplit("/api", 1)[-1]) == ("POST", "/rest/v1.0/contract_payments")
    assert_matches_request("RestV10ContractPaymentsPost", body)
    assert undocumented_in_request("RestV10ContractPaymentsPost", body) == []
    assert created.amount == Decimal("999.50") and created.origin_id == "xero-payment-77"

    _, issued = product_client.commitment(w.subcontract.pk, project_id=w.project.pk)
    assert "xero-payment-77" in {p.origin_id for p in issued}


def test_the_products_vendor_create_fits_the_spec_and_is_accepted(procore_world, product_client):
    vendor = product_client.create_vendor(name="Delta Scaffolds", origin_id="xero-contact-42")
    method, _, body = product_client.sent[-1]
    assert method == "POST"
    assert_matches_request("RestV10VendorsPost", body)
    assert vendor.origin_id == "xero-contact-42" and vendor.id > 2**32


def test_the_products_vendor_create_sends_only_documented_attributes(procore_world, product_client):
    product_client.create_vendor(name="Delta Scaffolds", origin_id="xero-contact-42", notes="tax number 123")
    _, _, body = product_client.sent[-1]
    assert undocumented_in_request("RestV10VendorsPost", body) == []
    assert body["vendor"]["notes"] == "tax number 123"


def test_the_products_reads_parse_the_sandbox_answers(procore_world, product_client):
    w = procore_world
    assert [p.id for p in product_client.projects()] == [w.project.pk]
    assert {c.id for c in product_client.commitments(w.project.pk)} == {w.subcontract.pk, w.purchase_order.pk}
    (req,) = product_client.requisitions(project_id=w.project.pk, origin_id="xero-bill-1")
    assert req.id == w.requisition.pk
    (payment,) = product_client.contract_payments(project_id=w.project.pk, commitment_id=w.subcontract.pk)
    assert payment.amount == Decimal("2500.50") and payment.requisition_id == w.requisition.pk

"""The sandbox says only what the real APIs say: every answer to a call the product makes (list and
show, Xero and Procore) carries only properties the operation's published response schema
declares, recursively — a list answer the list schema's, a show answer the show schema's. An
undocumented property fails, not only a wrong type. The short, sourced allowlist of what the
specs omit but the services send is in tests/specs/documented.py.

The calls walked are the product's (syncapp/connectors/procore.py and xero.py,
syncapp/connectors/directory.py, syncapp/reconcile/), plus the show endpoints of what it lists.
"""

import uuid
from dataclasses import dataclass, field

import httpx
import pytest
from django.conf import settings

from syncapp.sandbox.models import Behaviour
from syncapp.sandbox.procore import payloads
from syncapp.sandbox.procore.models import Commitment, Company, ContractPayment, Requisition
from syncapp.sandbox.procore.ratelimit import reset_rate_limits
from syncapp.sandbox.xero.factories import connect
from tests.sandbox import test_procore_api, test_xero_schema
from tests.specs import undeclared_properties
from tests.specs.documented import procore_documented, procore_undocumented, xero_undocumented

pytestmark = pytest.mark.django_db(transaction=True)
procore_world = test_procore_api.procore_world  # shared fixtures
world = test_xero_schema.world

# Every operation the walk must have checked at least once: the walk cannot shrink unnoticed.
PROCORE_OPERATIONS = {
    "RestV10MeGet",
    "RestV10CompaniesGet",
    "RestV10ProjectsGet",
    "RestV10ProjectsIdGet",
    "RestV10VendorsGet",
    "RestV10VendorsIdGet",
    "RestV10VendorsPost",
    "RestV10WorkOrderContractsGet",
    "RestV10WorkOrderContractsIdGet",
    "RestV10PurchaseOrderContractsGet",
    "RestV10PurchaseOrderContractsIdGet",
    "RestV10CommitmentsGet",
    "RestV10CommitmentsIdGet",
    "RestV11RequisitionsGet",
    "RestV11RequisitionsIdGet",
    "RestV10ContractPaymentsGet",
    "RestV10ContractPaymentsPost",
    "RestV10ContractPaymentsIdGet",
    "RestV10ContractPaymentsIdPatch",
}


@dataclass
class Walk:
    """What a walk saw: per operation, how many answers were checked and what was undocumented."""

    checked: dict[str, int] = field(default_factory=dict)
    undocumented: list[str] = field(default_factory=list)

    def check(self, operation: str, response: httpx.Response, status: int = 200, *, refusable: bool = False):
        if refusable and response.status_code == 403:
            return []  # a project or tool refused to this user: a documented refusal, no body to walk
        assert response.status_code == status, f"{operation}: {response.status_code} {response.text[:300]}"
        body = response.json()
        self.checked[operation] = self.checked.get(operation, 0) + 1
        self.undocumented += [f"{operation} {path}" for path in procore_undocumented(body, operation, status)]
        return body


# --- Procore --------------------------------------------------------------------------------------


def walk_procore(client: httpx.Client, company_id: int) -> Walk:
    """Every Procore read the product makes, every show behind it, and its writes."""
    walk = Walk()
    walk.check("RestV10MeGet", client.get("/rest/v1.0/me"))
    walk.check("RestV10CompaniesGet", client.get("/rest/v1.0/companies"))
    company = {"company_id": company_id}
    for vendor in walk.check("RestV10VendorsGet", client.get("/rest/v1.0/vendors", params=company)):
        walk.check("RestV10VendorsIdGet", client.get(f"/rest/v1.0/vendors/{vendor['id']}", params=company))
    created = {"company_id": company_id, "vendor": {"name": f"Conformance {uuid.uuid4().hex[:8]}", "origin_id": "x-1"}}
    walk.check("RestV10VendorsPost", client.post("/rest/v1.0/vendors", json=created), 201)
    for project in walk.check("RestV10ProjectsGet", client.get("/rest/v1.0/projects", params=company)):
        walk.check("RestV10ProjectsIdGet", client.get(f"/rest/v1.0/projects/{project['id']}", params=company))
        _walk_project(client, walk, project["id"])
    return walk


def _walk_project(client: httpx.Client, walk: Walk, project_id: int) -> None:
    scope = {"project_id": project_id}
    for path, list_op, show_op in (
        ("work_order_contracts", "RestV10WorkOrderContractsGet", "RestV10WorkOrderContractsIdGet"),
        ("purchase_order_contracts", "RestV10PurchaseOrderContractsGet", "RestV10PurchaseOrderContractsIdGet"),
        ("commitments", "RestV10CommitmentsGet", "RestV10CommitmentsIdGet"),
    ):
        for row in walk.check(list_op, client.get(f"/rest/v1.0/{path}", params=scope), refusable=True):
            walk.check(show_op, client.get(f"/rest/v1.0/{path}/{row['id']}", params=scope))
    invoices = client.get("/rest/v1.1/requisitions", params=scope)
    for row in walk.check("RestV11RequisitionsGet", invoices, refusable=True):
        walk.check("RestV11RequisitionsIdGet", client.get(f"/rest/v1.1/requisitions/{row['id']}", params=scope))
    for commitment in Commitment.objects.filter(project_id=project_id, deleted_at__isnull=True):
        _walk_payments(client, walk, project_id, commitment)


def _walk_payments(client: httpx.Client, walk: Walk, project_id: int, commitment: Commitment) -> None:
    scope = {"project_id": project_id, "contract_id": commitment.pk}
    listed = client.get("/rest/v1.0/contract_payments", params=scope)
    if listed.status_code == 403:
        return
    for row in walk.check("RestV10ContractPaymentsGet", listed):
        shown = client.get(f"/rest/v1.0/contract_payments/{row['id']}", params=scope)
        walk.check("RestV10ContractPaymentsIdGet", shown)
    if commitment.status not in ("Approved", "Complete") or walk.checked.get("RestV10ContractPaymentsPost"):
        return  # one create and one update show their answers' shape; more would only cost time
    # A create shaped as the product's (connectors.procore.contract_payment_body), then the one
    # edit Procore allows on a synced payment.
    origin = f"xero-payment-{uuid.uuid4()}"
    body = {
        **scope,
        "contract_payment": {
            "date": "2026-11-20",
            "amount": "12.34",
            "origin_id": origin,
            "payment_method": "electronic",
            "invoice_number": "INV-1",
            "invoice_date": "2026-10-31",
            "check_number": "EFT 1",
            "notes": "conformance",
            "origin_data": "{}",
        },
    }
    created = walk.check("RestV10ContractPaymentsPost", client.post("/rest/v1.0/contract_payments", json=body), 201)
    patch = {**scope, "contract_payment": {"origin_data": '{"v": 2}'}}
    path = f"/rest/v1.0/contract_payments/{created['id']}"
    walk.check("RestV10ContractPaymentsIdPatch", client.patch(path, json=patch))


def _procore_client(base: str, token: str, company_id: int) -> httpx.Client:
    """A plain client; the spike window is widened because a walk makes more than 25 calls."""
    reset_rate_limits()
    Behaviour.set("procore", spike_limit=10_000, hourly_limit=100_000)
    headers = {"Authorization": f"Bearer {token}", "Procore-Company-Id": str(company_id)}
    return httpx.Client(base_url=base, headers=headers, timeout=30)


def _fill_every_field(w) -> None:
    """Give the small world's rows a value in every field the sandbox can render."""
    ContractPayment.objects.filter(pk=w.payment.pk).update(
        payment_method="electronic", invoice_date=w.requisition.billing_date, check_number="EFT 9",
        notes="paid", payment_number=1, draw_request_number=1, origin_data="{}",
    )
    Requisition.objects.filter(pk=w.requisition.pk).update(status="approved")


@pytest.mark.parametrize("uses_currencies", [False, True], ids=["single-currency", "multiple-currencies"])
def test_every_procore_answer_the_product_reads_is_documented(procore_world, uses_currencies):
    w = procore_world
    Company.objects.filter(pk=w.company.pk).update(uses_currencies=uses_currencies)
    _fill_every_field(w)

    with _procore_client(w.base, w.token, w.company.pk) as client:
        walk = walk_procore(client, w.company.pk)

    assert set(walk.checked) == PROCORE_OPERATIONS
    assert walk.undocumented == []


def test_the_seeded_procore_company_answers_only_documented_properties(seeded_world, settings):
    granted = httpx.post(
        f"{settings.PROCORE_LOGIN_URL}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(settings.PROCORE_CLIENT_ID, settings.PROCORE_CLIENT_SECRET),
    )
    assert granted.status_code == 200, granted.text

    with _procore_client(settings.PROCORE_API_URL, granted.json()["access_token"], seeded_world.company_id) as client:
        walk = walk_procore(client, seeded_world.company_id)

    assert set(walk.checked) == PROCORE_OPERATIONS
    assert walk.undocumented == []


def test_a_multiple_currency_company_states_the_commitments_currency_and_a_single_one_none(procore_world):
    w = procore_world
    scope = {"project_id": w.project.pk}
    with _procore_client(w.base, w.token, w.company.pk) as client:
        def currencies() -> list:
            rows = client.get("/rest/v1.0/work_order_contracts", params=scope).json()
            show = client.get(f"/rest/v1.0/work_order_contracts/{w.subcontract.pk}", params=scope).json()
            invoices = client.get("/rest/v1.1/requisitions", params=scope).json()
            return [r.get("currency_configuration") for r in (*rows, show, *invoices)]

        assert currencies() == [None, None, None]
        Company.objects.filter(pk=w.company.pk).update(uses_currencies=True)
        assert currencies() == [{"currency_iso_code": "AUD"}] * 3
        project = client.get(f"/rest/v1.0/projects/{w.project.pk}", params={"company_id": w.company.pk}).json()
    assert "currency_configuration" not in project


def test_list_rows_carry_no_show_only_fields(procore_world):
    w = procore_world
    scope = {"project_id": w.project.pk}
    with _procore_client(w.base, w.token, w.company.pk) as client:
        (row, *_) = client.get("/rest/v1.0/work_order_contracts", params=scope).json()
        show = client.get(f"/rest/v1.0/work_order_contracts/{w.subcontract.pk}", params=scope).json()
    assert "payments_issued" in show
    assert {"payments_issued", "type", "line_items"}.isdisjoint(row)


# --- The walker can fail --------------------------------------------------------------------------


def test_the_walk_reports_a_property_injected_deep_in_an_answer(procore_world, monkeypatch):
    w = procore_world
    original = payloads.commitment_json

    def leaky(commitment, **options):
        data = original(commitment, **options)
        if data.get("vendor"):
            data["vendor"] = {**data["vendor"], "bank_account": "123"}
        return data

    monkeypatch.setattr(payloads, "commitment_json", leaky)
    with _procore_client(w.base, w.token, w.company.pk) as client:
        walk = walk_procore(client, w.company.pk)

    assert "RestV10WorkOrderContractsGet $[0].vendor.bank_account" in walk.undocumented


def test_a_show_only_field_in_a_list_row_is_reported():
    listed = [{"id": 1, "number": "SC-1", "payments_issued": [], "vendor": {"id": 2, "company": "Acme"}}]

    assert procore_undocumented(listed, "RestV10WorkOrderContractsGet") == ["$[0].payments_issued"]


def test_an_object_the_spec_leaves_bare_declares_nothing():
    # RestV10CommitmentsIdGet declares `vendor` as {}: nothing inside it is documented.
    shown = {"id": 1, "vendor": {"id": 2}, "payments_issued": [{"id": 3, "requisition_id": 4}]}

    assert procore_undocumented(shown, "RestV10CommitmentsIdGet") == [
        "$.vendor.id",
        "$.payments_issued[0].requisition_id",
    ]


def test_the_walker_refuses_a_schema_it_cannot_read():
    with pytest.raises(ValueError, match="oneOf"):
        undeclared_properties({"a": 1}, {"oneOf": [{"type": "object"}]})


def test_the_allowlist_only_amends_bare_objects_and_keeps_the_rest_of_the_schema():
    documented = procore_documented("RestV10WorkOrderContractsIdGet")
    currency = documented["properties"]["currency_configuration"]["properties"]

    assert set(currency) == {"currency_iso_code", "currency_exchange_rate", "base_currency_iso_code"}
    assert "type" not in documented["properties"]  # the work-order show has no `type`


# --- Xero -----------------------------------------------------------------------------------------


def walk_xero(client: httpx.Client, connections_url: str) -> dict[str, list[str]]:
    """Every Xero read the product makes (xero-python's calls in connectors/xero.py, the
    providers' /Organisation and /connections), and the single-record shows."""
    found: dict[str, list[str]] = {}

    def check(name: str, response: httpx.Response, schema, document: str = "xero_accounting.yaml"):
        assert response.status_code == 200, f"{name}: {response.status_code} {response.text[:300]}"
        body = response.json()
        found[name] = xero_undocumented(body, schema, document=document)
        return body

    check("GET /Payments", client.get("Payments", params={"order": "UpdatedDateUTC ASC", "page": 1}), "Payments")
    bills = check(
        "GET /Invoices", client.get("Invoices", params={"where": 'Type=="ACCPAY"', "page": 1}), "Invoices"
    )["Invoices"]
    ids = ",".join(b["InvoiceID"] for b in bills[:5])
    check("GET /Invoices?IDs", client.get("Invoices", params={"IDs": ids}), "Invoices")
    check("GET /Invoices/{id}", client.get(f"Invoices/{bills[0]['InvoiceID']}"), "Invoices")
    contacts = check("GET /Contacts", client.get("Contacts", params={"page": 1}), "Contacts")["Contacts"]
    ids = ",".join(c["ContactID"] for c in contacts[:5])
    check("GET /Contacts?IDs", client.get("Contacts", params={"IDs": ids, "includeArchived": "true"}), "Contacts")
    check("GET /Organisation", client.get("Organisation"), "Organisations")
    connections = {"type": "array", "items": {"$ref": "#/components/schemas/Connection"}}
    check("GET /connections", client.get(connections_url), connections, "xero-identity.yaml")
    return found


@pytest.fixture
def xero_api(sandbox, world):
    """The small world of test_xero_schema (deleted, batch and credit-note payments, an archived
    and a merged contact), reached at the API root as the SDK reaches it."""
    tokens = connect(client=world.client, organisations=[world.organisation])
    headers = {"Authorization": f"Bearer {tokens['access_token']}", "xero-tenant-id": str(world.organisation.tenant_id)}
    with httpx.Client(base_url=f"{settings.XERO_API_URL}/", headers=headers, timeout=30) as client:
        yield client


def test_every_xero_answer_the_product_reads_is_documented(xero_api):
    found = walk_xero(xero_api, settings.XERO_CONNECTIONS_URL)

    assert {name: paths for name, paths in found.items() if paths} == {}
    assert len(found) == 8


def test_the_seeded_xero_organisation_answers_only_documented_properties(seeded_world, settings):
    granted = httpx.post(
        settings.XERO_TOKEN_URL,
        data={"grant_type": "client_credentials"},
        auth=(settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET),
    )
    assert granted.status_code == 200, granted.text
    headers = {"Authorization": f"Bearer {granted.json()['access_token']}", "xero-tenant-id": seeded_world.tenant_id}

    with httpx.Client(base_url=f"{settings.XERO_API_URL}/", headers=headers, timeout=30) as client:
        found = walk_xero(client, settings.XERO_CONNECTIONS_URL)

    assert {name: paths for name, paths in found.items() if paths} == {}


def test_an_undocumented_xero_property_is_reported(xero_api):
    body = xero_api.get("Payments").json()
    body["Payments"][0]["Invoice"]["Secret"] = "x"

    assert xero_undocumented(body, "Payments") == ["$.Payments[0].Invoice.Secret"]

"""Fidelity of the simulated Procore REST API, over real HTTP: every answer validates against the
response schema Procore publishes (tests/specs/procore), the requests the product sends
validate against the request schemas, and the rules that matter for exactly-once delivery hold.

`procore_world` (a fixture the other test_procore_* modules import) builds a minimal company with
the ORM; the seeder is tested elsewhere.
"""

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from decimal import Decimal

import httpx
import jsonschema
import pytest
from django.conf import settings
from django.utils import timezone

from syncapp.sandbox.models import Behaviour
from syncapp.sandbox.procore.models import (
    Commitment,
    Company,
    ContractPayment,
    OAuthClient,
    Project,
    Requisition,
    Token,
    User,
    Vendor,
)
from syncapp.sandbox.procore.ratelimit import reset_rate_limits
from tests.specs import procore_operation

pytestmark = pytest.mark.django_db(transaction=True)


# --- Spec validation ----------------------------------------------------------------------------


def _nullable(schema):
    """Procore's published schemas never say `nullable`, yet the service answers null for unset
    values (requisition_id, origin_id, ...). Allow null beside each declared type; nothing else."""
    if isinstance(schema, list):
        return [_nullable(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _nullable(value) for key, value in schema.items()}
    if isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


_formats = jsonschema.FormatChecker(formats=())


@_formats.checks("date", raises=ValueError)
def _is_date(value) -> bool:
    return not isinstance(value, str) or dt.date.fromisoformat(value).isoformat() == value


@_formats.checks("date-time", raises=ValueError)
def _is_datetime(value) -> bool:
    if isinstance(value, str):
        dt.datetime.fromisoformat(value)
    return True


def spec(operation: str) -> dict:
    return procore_operation(operation)


def assert_matches_response(operation: str, status: int, body) -> None:
    schema = spec(operation)["responses"][str(status)].get("schema")
    assert schema, f"{operation} has no {status} response schema"
    jsonschema.validate(body, _nullable(schema), format_checker=_formats)


def assert_matches_request(operation: str, body: dict) -> None:
    """Requests are checked strictly: what the product sends must fit the schema as published."""
    jsonschema.validate(body, spec(operation)["requestBody"]["schema"], format_checker=_formats)


def test_the_validator_rejects_a_wrong_type_so_these_tests_can_fail():
    with pytest.raises(jsonschema.ValidationError):
        assert_matches_response("RestV10ContractPaymentsPost", 201, {"id": 1, "amount": 12.5})
    with pytest.raises(jsonschema.ValidationError):
        assert_matches_response("RestV10ContractPaymentsPost", 201, {"id": 1, "date": "28/11/2026"})
    with pytest.raises(jsonschema.ValidationError):
        assert_matches_request(
            "RestV10ContractPaymentsPost",
            {"project_id": 1, "contract_id": 2, "contract_payment": {"payment_number": "7"}},
        )


# --- The world ------------------------------------------------------------------------------------


@dataclass
class World:
    base: str  # PROCORE_API_URL
    company: Company
    other_company: Company  # the user belongs to it, the app is not installed there
    user: User
    client: OAuthClient
    token: str
    project: Project
    vendor: Vendor
    subcontract: Commitment
    purchase_order: Commitment
    requisition: Requisition
    payment: ContractPayment

    def headers(self, company: Company | None = None, token: str | None = None) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {token or self.token}",
            "Procore-Company-Id": str((company or self.company).pk),
        }

    def get(self, path: str, *, params=None, company=None, token=None) -> httpx.Response:
        return httpx.get(f"{self.base}{path}", params=params, headers=self.headers(company, token), timeout=10)

    def send(self, method: str, path: str, body=None, *, params=None, timeout: float = 10) -> httpx.Response:
        return httpx.request(
            method, f"{self.base}{path}", json=body, params=params, headers=self.headers(), timeout=timeout
        )


def make_token(client: OAuthClient, user: User, **fields) -> str:
    token = Token.objects.create(
        client=client,
        user=user,
        access_token=secrets.token_urlsafe(24),
        refresh_token=secrets.token_urlsafe(24),
        expires_at=fields.pop("expires_at", timezone.now() + dt.timedelta(seconds=5400)),
        **fields,
    )
    return token.access_token


@pytest.fixture
def procore_world(sandbox) -> World:
    reset_rate_limits()
    Behaviour.reset("procore")
    company = Company.objects.create(name="Harbour Build Co")
    other = Company.objects.create(name="Other Build Co")
    user = User.objects.create(login="pat@harbour.example", name="Pat Manager")
    user.companies.add(company, other)
    client = OAuthClient.objects.create(
        client_id="sandbox-app", client_secret="s3cret", name="Payment Sync", redirect_uris=["http://app.test/cb"]
    )
    client.installed_in.add(company)
    project = Project.objects.create(company=company, name="Pier 9 Fitout", project_number="P-009")
    vendor = Vendor.objects.create(
        company=company, name="Acme Electrical Pty Ltd", origin_id="xero-contact-1", business_id="51824753556"
    )
    subcontract = Commitment.objects.create(
        project=project, number="SC-001", title="Electrical", vendor=vendor, grand_total=Decimal("100000.00")
    )
    purchase_order = Commitment.objects.create(
        project=project, kind=Commitment.PURCHASE_ORDER, number="PO-001", vendor=vendor, grand_total=Decimal("5000")
    )
    requisition = Requisition.objects.create(
        project=project,
        commitment=subcontract,
        number=1,
        invoice_number="INV-1001",
        origin_id="xero-bill-1",
        billing_date=dt.date(2026, 10, 31),
        total_amount=Decimal("11000.00"),
        retainage_amount=Decimal("1000.00"),
    )
    payment = ContractPayment.objects.create(
        project=project,
        commitment=subcontract,
        requisition=requisition,
        date=dt.date(2026, 11, 3),
        amount=Decimal("2500.50"),
        invoice_number="INV-1001",
        origin_id="xero-payment-0",
    )
    return World(
        base=f"{settings.PROCORE_API_URL}",
        company=company,
        other_company=other,
        user=user,
        client=client,
        token=make_token(client, user),
        project=project,
        vendor=vendor,
        subcontract=subcontract,
        purchase_order=purchase_order,
        requisition=requisition,
        payment=payment,
    )


def payment_body(world: World, **fields) -> dict:
    """A create request shaped as the product sends it (see connectors' NewContractPayment)."""
    contract_payment = {
        "date": "2026-11-20",
        "amount": "1234.56",
        "invoice_number": "INV-1001",
        "invoice_date": "2026-10-31",
        "check_number": "EFT 778812",
        "payment_method": "electronic",
        "notes": "Xero payment 6f1c… (batch none)",
        "origin_id": "xero-payment-1",
        "origin_data": json.dumps({"PaymentID": "xero-payment-1", "UpdatedDateUTC": "2026-11-20T01:02:03Z"}),
        "requisition_id": world.requisition.pk,
        "payment_number": 2,
    }
    contract_payment.update(fields)
    return {"project_id": world.project.pk, "contract_id": world.subcontract.pk, "contract_payment": contract_payment}


# --- Every read endpoint answers in Procore's published shape -------------------------------------


def test_me_and_companies_match_the_spec_and_need_no_company_header(procore_world):
    w = procore_world
    auth = {"Authorization": f"Bearer {w.token}"}
    me = httpx.get(f"{w.base}/rest/v1.0/me", headers=auth)
    assert me.status_code == 200
    assert_matches_response("RestV10MeGet", 200, me.json())
    assert me.json()["id"] == w.user.pk and w.user.pk > 2**32

    companies = httpx.get(f"{w.base}/rest/v1.0/companies", headers=auth)
    assert companies.status_code == 200
    assert_matches_response("RestV10CompaniesGet", 200, companies.json())
    assert {c["id"] for c in companies.json()} == {w.company.pk, w.other_company.pk}


def test_projects_match_the_spec(procore_world):
    w = procore_world
    listing = w.get("/rest/v1.0/projects", params={"company_id": w.company.pk})
    assert listing.status_code == 200
    assert_matches_response("RestV10ProjectsGet", 200, listing.json())
    assert [p["id"] for p in listing.json()] == [w.project.pk]
    detail = w.get(f"/rest/v1.0/projects/{w.project.pk}", params={"company_id": w.company.pk})
    assert_matches_response("RestV10ProjectsIdGet", 200, detail.json())
    assert detail.json()["project_number"] == "P-009"


def test_vendors_filter_by_origin_id_and_search_name_and_business_id(procore_world):
    w = procore_world
    Vendor.objects.create(company=w.company, name="Bolt Plumbing", origin_code="BOLT", business_id="11 222 333 444")
    every = w.get("/rest/v1.0/vendors", params={"company_id": w.company.pk})
    assert_matches_response("RestV10VendorsGet", 200, every.json())
    assert len(every.json()) == 2

    def names(**filters) -> list[str]:
        params = {"company_id": w.company.pk, **{f"filters[{k}]": v for k, v in filters.items()}}
        return [v["name"] for v in w.get("/rest/v1.0/vendors", params=params).json()]

    assert names(origin_id="xero-contact-1") == ["Acme Electrical Pty Ltd"]
    assert names(search="acme") == ["Acme Electrical Pty Ltd"]
    assert names(search="BOLT") == ["Bolt Plumbing"]
    assert names(search="51824753556") == ["Acme Electrical Pty Ltd"]
    assert names(search="11 222") == ["Bolt Plumbing"]
    assert names(origin_id="nobody") == []


def test_creating_a_vendor_answers_201_and_a_missing_name_422(procore_world):
    w = procore_world
    body = {
        "company_id": w.company.pk,
        "vendor": {"name": "Coastal Concrete Pty Ltd", "origin_id": "xero-contact-9", "abbreviated_name": "Coastal"},
    }
    assert_matches_request("RestV10VendorsPost", body)
    created = w.send("POST", "/rest/v1.0/vendors", body)
    assert created.status_code == 201, created.text
    assert_matches_response("RestV10VendorsPost", 201, created.json())
    assert Vendor.objects.get(pk=created.json()["id"]).origin_id == "xero-contact-9"

    refused = w.send("POST", "/rest/v1.0/vendors", {"company_id": w.company.pk, "vendor": {"origin_id": "x"}})
    assert refused.status_code == 422
    assert refused.json()["errors"]["name"] == ["can't be blank"]


def test_a_vendor_attribute_the_create_does_not_document_is_ignored(procore_world):
    # RestV10VendorsPost's request body has no ABN/EIN field: the sandbox keeps none from it.
    w = procore_world
    body = {"company_id": w.company.pk, "vendor": {"name": "Delta Scaffolds", "business_id": "12 345 678 901"}}
    created = w.send("POST", "/rest/v1.0/vendors", body)
    assert created.status_code == 201
    assert Vendor.objects.get(pk=created.json()["id"]).business_id == ""


@pytest.mark.parametrize(
    ("path", "list_op", "show_op", "kind"),
    [
        ("work_order_contracts", "RestV10WorkOrderContractsGet", "RestV10WorkOrderContractsIdGet", "subcontract"),
        ("purchase_order_contracts", "RestV10PurchaseOrderContractsGet", "RestV10PurchaseOrderContractsIdGet", "po"),
        ("commitments", "RestV10CommitmentsGet", "RestV10CommitmentsIdGet", "subcontract"),
    ],
)
def test_commitments_list_and_show_match_the_spec_with_payments_issued(procore_world, path, list_op, show_op, kind):
    w = procore_world
    listing = w.get(f"/rest/v1.0/{path}", params={"project_id": w.project.pk})
    assert listing.status_code == 200
    assert_matches_response(list_op, 200, listing.json())
    commitment = w.subcontract if kind == "subcontract" else w.purchase_order
    assert commitment.pk in {c["id"] for c in listing.json()}

    show = w.get(f"/rest/v1.0/{path}/{commitment.pk}", params={"project_id": w.project.pk})
    assert show.status_code == 200
    assert_matches_response(show_op, 200, show.json())
    if kind == "subcontract":
        assert show.json()["total_payments"] == "2500.50"
        (issued,) = show.json()["payments_issued"]
        assert issued["origin_id"] == "xero-payment-0" and issued["amount"] == "2500.50"


def test_a_purchase_order_is_not_found_as_a_subcontract(procore_world):
    w = procore_world
    answer = w.get(f"/rest/v1.0/work_order_contracts/{w.purchase_order.pk}", params={"project_id": w.project.pk})
    assert answer.status_code == 404


def test_requisitions_match_the_spec_and_filter(procore_world):
    w = procore_world
    Requisition.objects.create(
        project=w.project, commitment=w.subcontract, number=2, invoice_number="INV-1002", status="draft"
    )
    listing = w.get("/rest/v1.1/requisitions", params={"project_id": w.project.pk})
    assert listing.status_code == 200
    assert_matches_response("RestV11RequisitionsGet", 200, listing.json())
    assert len(listing.json()) == 2

    def numbers(**filters) -> list[str]:
        params = {"project_id": w.project.pk, **{f"filters[{k}]": v for k, v in filters.items()}}
        return [r["invoice_number"] for r in w.get("/rest/v1.1/requisitions", params=params).json()]

    assert numbers(status="approved") == ["INV-1001"]
    assert numbers(origin_id="xero-bill-1") == ["INV-1001"]
    assert sorted(numbers(commitment_id=w.subcontract.pk)) == ["INV-1001", "INV-1002"]
    assert numbers(commitment_id=w.purchase_order.pk) == []

    show = w.get(f"/rest/v1.1/requisitions/{w.requisition.pk}", params={"project_id": w.project.pk})
    assert_matches_response("RestV11RequisitionsIdGet", 200, show.json())
    assert show.json()["summary"]["current_payment_due"] == "10000.00"


# --- Contract payments ----------------------------------------------------------------------------


def test_a_payment_is_created_as_sent_and_matches_the_spec(procore_world):
    w = procore_world
    body = payment_body(w)
    assert_matches_request("RestV10ContractPaymentsPost", body)
    created = w.send("POST", "/rest/v1.0/contract_payments", body)
    assert created.status_code == 201, created.text
    assert_matches_response("RestV10ContractPaymentsPost", 201, created.json())
    data = created.json()
    assert data["amount"] == "1234.56" and data["date"] == "2026-11-20" and data["payment_number"] == 2
    assert data["contract_id"] == w.subcontract.pk and data["requisition_id"] == w.requisition.pk
    stored = ContractPayment.objects.get(pk=data["id"])
    assert stored.amount == Decimal("1234.56") and stored.origin_id == "xero-payment-1"

    show = w.get(
        f"/rest/v1.0/contract_payments/{data['id']}",
        params={"project_id": w.project.pk, "contract_id": w.subcontract.pk},
    )
    assert_matches_response("RestV10ContractPaymentsIdGet", 200, show.json())
    assert show.json() == data


def test_listing_payments_needs_project_and_contract_and_ignores_an_origin_filter(procore_world):
    w = procore_world
    listing = w.get(
        "/rest/v1.0/contract_payments",
        params={"project_id": w.project.pk, "contract_id": w.subcontract.pk, "filters[origin_id]": "nothing-like-it"},
    )
    assert listing.status_code == 200
    assert_matches_response("RestV10ContractPaymentsGet", 200, listing.json())
    assert [p["origin_id"] for p in listing.json()] == ["xero-payment-0"]  # the filter does not exist

    for params in ({"project_id": w.project.pk}, {"contract_id": w.subcontract.pk}):
        missing = w.get("/rest/v1.0/contract_payments", params=params)
        assert missing.status_code == 400


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"date": None}, "date"),
        ({"date": "20/11/2026"}, "date"),
        ({"date": "2026-02-30"}, "date"),
        ({"amount": "12.345"}, "amount"),
        ({"amount": "-5.00"}, "amount"),
        ({"amount": "0.00"}, "amount"),
        ({"amount": 12.5}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"payment_method": "cash"}, "payment_method"),
        ({"payment_number": "7"}, "payment_number"),
        ({"payment_number": 7.5}, "payment_number"),
        ({"requisition_id": 999}, "requisition_id"),
        ({"check_number": "x" * 256}, "check_number"),
    ],
)
def test_bad_payment_input_is_refused_with_a_readable_422(procore_world, fields, field):
    w = procore_world
    answer = w.send("POST", "/rest/v1.0/contract_payments", payment_body(w, **fields))
    assert answer.status_code == 422, answer.text
    messages = answer.json()["errors"][field]
    assert messages and all(isinstance(m, str) and len(m) > 5 for m in messages)
    assert ContractPayment.objects.count() == 1  # only the one the world started with


def test_a_requisition_of_another_commitment_is_refused(procore_world):
    w = procore_world
    other = Commitment.objects.create(project=w.project, number="SC-002", vendor=w.vendor)
    body = payment_body(w)
    body["contract_id"] = other.pk
    answer = w.send("POST", "/rest/v1.0/contract_payments", body)
    assert answer.status_code == 422
    assert "another commitment" in answer.json()["errors"]["requisition_id"][0]


def test_a_contract_outside_the_project_is_refused(procore_world):
    w = procore_world
    elsewhere = Project.objects.create(company=w.company, name="Elsewhere")
    foreign = Commitment.objects.create(project=elsewhere, number="SC-900")
    body = payment_body(w, requisition_id=None)
    body["contract_id"] = foreign.pk
    answer = w.send("POST", "/rest/v1.0/contract_payments", body)
    assert answer.status_code == 422
    assert "contract_id" in answer.json()["errors"]


def test_a_second_payment_with_a_taken_origin_id_is_accepted_by_default(procore_world):
    # Whether Procore refuses it is unverified: the default is the stricter reading for the product.
    w = procore_world
    answer = w.send("POST", "/rest/v1.0/contract_payments", payment_body(w, origin_id="xero-payment-0"))
    assert answer.status_code == 201, answer.text
    assert ContractPayment.objects.filter(origin_id="xero-payment-0").count() == 2


def test_an_origin_id_already_owned_is_refused_with_409_where_the_company_enforces_it(procore_world):
    w = procore_world
    Company.objects.filter(pk=w.company.pk).update(unique_payment_origin=True)
    answer = w.send("POST", "/rest/v1.0/contract_payments", payment_body(w, origin_id="xero-payment-0"))
    assert answer.status_code == 409
    assert answer.json()["errors"]["origin_id"] == ["has already been taken"]
    assert ContractPayment.objects.filter(origin_id="xero-payment-0").count() == 1


def test_a_synced_payment_is_locked_except_origin_fields(procore_world):
    w = procore_world
    path = f"/rest/v1.0/contract_payments/{w.payment.pk}"
    ids = {"project_id": w.project.pk, "contract_id": w.subcontract.pk}
    refused = w.send("PATCH", path, {**ids, "contract_payment": {"amount": "1.00", "origin_data": "x"}})
    assert refused.status_code == 422
    assert "locked" in refused.json()["errors"]["amount"][0]
    w.payment.refresh_from_db()
    assert w.payment.amount == Decimal("2500.50")

    allowed = w.send("PATCH", path, {**ids, "contract_payment": {"origin_data": '{"v": 2}'}})
    assert allowed.status_code == 200, allowed.text
    assert_matches_response("RestV10ContractPaymentsIdPatch", 200, allowed.json())
    assert allowed.json()["origin_data"] == '{"v": 2}'


def test_an_unsynced_payment_can_be_edited(procore_world):
    w = procore_world
    manual = ContractPayment.objects.create(
        project=w.project, commitment=w.subcontract, date=dt.date(2026, 11, 1), amount=Decimal("10.00")
    )
    body = {"project_id": w.project.pk, "contract_id": w.subcontract.pk, "contract_payment": {"amount": "12.00"}}
    assert_matches_request("RestV10ContractPaymentsIdPatch", body)
    answer = w.send("PATCH", f"/rest/v1.0/contract_payments/{manual.pk}", body)
    assert answer.status_code == 200
    assert answer.json()["amount"] == "12.00"


def test_delete_removes_a_payment_unless_the_company_refuses_synced_deletes(procore_world):
    w = procore_world
    path = f"/rest/v1.0/contract_payments/{w.payment.pk}"
    params = {"project_id": w.project.pk, "contract_id": w.subcontract.pk}
    Company.objects.filter(pk=w.company.pk).update(refuse_delete_with_origin=True)
    refused = w.send("DELETE", path, params=params)
    assert refused.status_code == 422
    assert refused.json()["errors"]["base"]
    assert ContractPayment.objects.filter(pk=w.payment.pk).exists()

    Company.objects.filter(pk=w.company.pk).update(refuse_delete_with_origin=False)
    deleted = w.send("DELETE", path, params=params)
    assert deleted.status_code == 204
    assert not ContractPayment.objects.filter(pk=w.payment.pk).exists()
    assert w.send("DELETE", path, params=params).status_code == 404


def test_a_payment_of_another_company_is_not_found(procore_world):
    w = procore_world
    elsewhere = Project.objects.create(company=w.other_company, name="Not ours")
    answer = w.get(
        f"/rest/v1.0/contract_payments/{w.payment.pk}", params={"project_id": elsewhere.pk}
    )  # the header still names our company
    assert answer.status_code == 404


# --- Paging ---------------------------------------------------------------------------------------


def test_lists_page_with_total_per_page_and_link_headers(procore_world):
    w = procore_world
    for n in range(4):
        ContractPayment.objects.create(
            project=w.project, commitment=w.subcontract, date=dt.date(2026, 11, 10 + n), amount=Decimal(n + 1)
        )
    params = {"project_id": w.project.pk, "contract_id": w.subcontract.pk, "per_page": 2}
    first = w.get("/rest/v1.0/contract_payments", params=params)
    assert first.headers["Total"] == "5" and first.headers["Per-Page"] == "2"
    assert len(first.json()) == 2
    links = httpx.Response(200, headers={"Link": first.headers["Link"]}).links
    assert set(links) == {"first", "next", "last"}
    assert "page=3" in links["last"]["url"]

    seen = [p["id"] for p in first.json()]
    url = links["next"]["url"]
    while url:
        page = httpx.get(url, headers=w.headers())
        seen += [p["id"] for p in page.json()]
        url = page.links.get("next", {}).get("url")
    assert len(seen) == 5 == len(set(seen))
    assert "prev" in page.links

    huge = w.get("/rest/v1.0/contract_payments", params={**params, "per_page": 5000})
    assert huge.headers["Per-Page"] == "1000"

"""Property-based tests (Hypothesis) of every parser that turns a Xero or Procore answer into the
product's typed objects (issue 8, section 4: bad and missing data from the APIs).

Rows are generated from the documented shapes in tests/specs (the fields each parser reads, with
the spec's types, enums and formats), then any field may be absent, null, of another type
(number <-> text, an object, a list, a bool) or an unknown enum value, and amounts come as
"1250.5", 1250.5, 1250, "1,250.00", "abc", huge or negative.

The contract: a parser returns its typed object with safe empty values, or raises the one
documented error, DataError, when the row has no usable id (or is no object at all); never a
TypeError, KeyError, InvalidOperation or AttributeError. List readers skip such a row with a log
line and keep the others.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import types
import typing
import uuid
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from xero_python.accounting import AccountingApi
from xero_python.api_client.deserializer import deserialize

from syncapp.connectors import procore, values, xero
from syncapp.connectors.types import (
    DataError,
    ProcoreCommitment,
    ProcoreCompany,
    ProcorePayment,
    ProcoreProject,
    ProcoreRequisition,
    ProcoreUser,
    ProcoreVendor,
    TransientError,
    XeroBill,
    XeroContact,
    XeroOrganisation,
    XeroPayment,
)
from tests.connectors.mock_procore import StaticTokens

SPECS = Path(__file__).resolve().parents[1] / "specs"
# Pure functions: many examples are cheap. derandomize: every run tries the same examples (a
# stable CI); no example database is written into the checkout.
PROPERTIES = settings(
    max_examples=150, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)

# --- values that are wrong in every way an answer can be wrong ------------------------------------

AMOUNTS = ["1250.5", 1250.5, 1250, "1,250.00", "abc", "", " 12.30 ", "1e30", 10**20, -5, "-0.01", "NaN", "Infinity"]
ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from([*AMOUNTS, "NEW_ENUM_VALUE", "2024-13-45", "/Date(abc)/", "/Date(99999999999999999999)/", "0"]),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.lists(st.integers(), max_size=2),
)
ABSENT = object()  # a field left out of the row


def _maybe_odd(valid: st.SearchStrategy) -> st.SearchStrategy:
    """A field as documented, or wrong in any way (null, another type, an unknown value)."""
    return st.one_of(valid, valid, ODD)


def _row(fields: dict[str, st.SearchStrategy]) -> st.SearchStrategy:
    """An object whose every field may also be absent, plus a field no spec names (ignored)."""
    optional = {name: _maybe_odd(strategy) for name, strategy in fields.items()}
    optional["a_field_added_later"] = ODD
    return st.fixed_dictionaries({}, optional=optional)


# --- Procore: shapes from the specs (tests/specs/procore, one JSON per operation) -------------------


@functools.cache
def _procore_item(operation: str) -> dict:
    """The documented object of an operation's 2xx answer (the item of a list answer)."""
    spec = json.loads((SPECS / "procore" / f"{operation}.json").read_text())
    schema = next(v for k, v in spec["responses"].items() if k.startswith("2"))["schema"]
    return schema.get("items", schema) if schema.get("type") == "array" else schema


def _from_procore_schema(schema: dict) -> st.SearchStrategy:
    kind = schema.get("type")
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if kind == "integer":
        return st.one_of(
            st.integers(min_value=1, max_value=2**62), st.integers(min_value=1, max_value=2**62).map(str)
        )
    if kind == "number":
        return st.integers(min_value=1, max_value=2**52)
    if kind == "boolean":
        return st.booleans()
    if kind == "string" and schema.get("format") == "date":
        return st.dates().map(dt.date.isoformat)
    if kind == "string":
        return st.text(max_size=20)
    if kind == "object" and schema.get("properties"):
        return _row({name: _from_procore_schema(prop) for name, prop in schema["properties"].items()})
    if kind == "array":
        return st.lists(_from_procore_schema(schema.get("items", {})), max_size=2)
    return st.just({})


def procore_rows(operation: str, read: list[str], *, money: tuple[str, ...] = ()) -> st.SearchStrategy:
    """Rows of `operation` with the fields the parser reads; `money` fields are Procore's amount
    strings (documented as strings) in every spelling."""
    properties = _procore_item(operation).get("properties", {})
    fields = {}
    for name in read:
        strategy = _from_procore_schema(properties.get(name, {"type": "string"}))
        if name in money:
            strategy = st.one_of(
                st.decimals(places=2, min_value=-(10**9), max_value=10**9).map(str), st.sampled_from(AMOUNTS)
            )
        fields[name] = strategy
    return _row(fields)


# Vendors: the spec copies of RestV10VendorsGet/IdGet/Post document no properties at all, so the
# fields are those the parser reads, typed as Procore's vendor docs list them.
VENDOR_ROWS = _row(
    {
        "id": st.integers(min_value=1, max_value=2**62),
        "name": st.text(max_size=20),
        "origin_id": st.text(max_size=10),
        "origin_code": st.text(max_size=10),
        "business_id": st.text(max_size=11),
        "is_active": st.booleans(),
    }
)
PROJECT_ROWS = procore_rows("RestV10ProjectsGet", ["id", "name", "project_number", "origin_id"])
COMMITMENT_ROWS = procore_rows(
    "RestV10WorkOrderContractsIdGet",
    ["id", "number", "title", "status", "vendor", "project", "grand_total", "currency_configuration", "type"],
    money=("grand_total",),
)
REQUISITION_ROWS = procore_rows(
    "RestV11RequisitionsGet",
    [
        "id",
        "project_id",
        "commitment_id",
        "number",
        "invoice_number",
        "status",
        "origin_id",
        "total_claimed_amount",
        "summary",
        "currency_configuration",
    ],
    money=("total_claimed_amount",),
)
PAYMENT_ROWS = procore_rows(
    "RestV10ContractPaymentsGet",
    ["id", "contract_id", "amount", "date", "invoice_number", "check_number", "origin_id", "requisition_id"],
    money=("amount",),
)
COMPANY_ROWS = procore_rows("RestV10CompaniesGet", ["id", "name", "is_active"])
USER_ROWS = procore_rows("RestV10MeGet", ["id", "login", "name"])


# --- the contract, checked on every parsed object --------------------------------------------------


def _usable_id(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        return value.strip().isascii() and value.strip().isdigit() and 0 < int(value.strip()) < 2**63
    if isinstance(value, int | float | Decimal):
        try:
            return value == value and value % 1 == 0 and 0 < value < 2**63
        except ArithmeticError:
            return False
    return False


def _fits(value, annotation) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, arg) for arg in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if origin is tuple:
        return isinstance(value, tuple)
    if origin is dict or annotation is dict:
        return isinstance(value, dict)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63
    if annotation is Decimal:
        # Two places and within our columns, never NaN or infinite: safe to compare and store.
        return isinstance(value, Decimal) and value.is_finite() and abs(value) < 10**14
    if annotation is dt.datetime:
        return isinstance(value, dt.datetime) and value.tzinfo is not None
    if annotation is dt.date:
        return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    return isinstance(value, annotation)


def assert_typed(parsed, cls) -> None:
    """Every field of the dataclass holds a value of its declared type (ids positive 64-bit,
    money finite Decimals, datetimes aware)."""
    assert type(parsed) is cls
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        value = getattr(parsed, field.name)
        assert _fits(value, hints[field.name]), f"{cls.__name__}.{field.name} = {value!r}"
        if isinstance(value, Decimal) and field.name not in ("currency_rate",):
            assert value.as_tuple().exponent == -2, f"{field.name} = {value!r} is not money to two places"


def parse_or_refuse(parse, row, cls):
    """The parser's answer, or None when it refused the row with DataError (the only way)."""
    try:
        parsed = parse(row)
    except DataError as refusal:
        assert refusal.message
        return None
    assert_typed(parsed, cls)
    return parsed


# --- Procore parsers ---------------------------------------------------------------------------------

PARSERS = [
    ("project", PROJECT_ROWS, procore.project_from_json, ProcoreProject),
    ("vendor", VENDOR_ROWS, procore.vendor_from_json, ProcoreVendor),
    ("company", COMPANY_ROWS, procore.company_from_json, ProcoreCompany),
    ("user", USER_ROWS, procore.user_from_json, ProcoreUser),
    ("payment", PAYMENT_ROWS, functools.partial(procore.payment_from_json, commitment_id=7), ProcorePayment),
    (
        "commitment",
        COMMITMENT_ROWS,
        functools.partial(procore.commitment_from_json, project_id=11, kind="WorkOrderContract"),
        ProcoreCommitment,
    ),
    (
        "requisition",
        REQUISITION_ROWS,
        functools.partial(procore.requisition_from_json, project_id=11),
        ProcoreRequisition,
    ),
]


@pytest.mark.parametrize(("what", "rows", "parse", "cls"), PARSERS, ids=[p[0] for p in PARSERS])
def test_a_procore_row_becomes_a_typed_object_or_one_documented_refusal(what, rows, parse, cls):
    @PROPERTIES
    @given(row=st.one_of(rows, rows, rows, ODD))
    def check(row):
        parsed = parse_or_refuse(parse, row, cls)
        usable = isinstance(row, dict) and _usable_id(row.get("id"))
        if what == "requisition" and isinstance(row, dict):
            usable = usable and _usable_id(row.get("commitment_id"))
        # Refused exactly when the row cannot be used at all; otherwise its id survives as an int.
        assert (parsed is not None) == usable, row
        if parsed is not None:
            assert parsed.id == Decimal(str(row["id"]).strip())

    check()


@PROPERTIES
@given(row=COMMITMENT_ROWS)
def test_a_commitment_without_a_readable_project_or_vendor_keeps_the_project_asked_for(row):
    parsed = parse_or_refuse(
        functools.partial(procore.commitment_from_json, project_id=11, kind=""), row, ProcoreCommitment
    )
    if parsed is None:
        return
    project = row.get("project")
    named = project.get("id") if isinstance(project, dict) else None
    assert parsed.project_id == (int(named) if _usable_id(named) else 11)
    vendor = row.get("vendor")
    if not (isinstance(vendor, dict) and _usable_id(vendor.get("id"))):
        assert parsed.vendor_id is None


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("1250.5", Decimal("1250.50")),
        (1250.5, Decimal("1250.50")),
        (1250, Decimal("1250.00")),
        ("1,250.00", Decimal("1250.00")),
        (" 12.30 ", Decimal("12.30")),
        ("0.005", Decimal("0.01")),
        ("-5", Decimal("-5.00")),
        ("abc", None),
        ("1,25", None),
        ("", None),
        (None, None),
        (True, None),
        ("NaN", None),
        (float("inf"), None),
        ("1e30", None),
        (10**20, None),
        ({"value": 1}, None),
    ],
)
def test_amounts_are_read_as_two_place_decimals_whatever_their_spelling(amount, expected):
    assert values.money(amount) == expected
    payment = procore.payment_from_json({"id": 1, "amount": amount})
    assert payment.amount == (expected if expected is not None else Decimal("0.00"))
    requisition = procore.requisition_from_json(
        {"id": 1, "commitment_id": 2, "total_claimed_amount": amount}, project_id=3
    )
    assert requisition.total_amount == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12, 12),
        ("12", 12),
        (" 12 ", 12),
        (12.0, 12),
        (2**62, 2**62),
        ("0012", 12),
        (12.5, None),
        ("12a", None),
        (True, None),
        (0, None),
        (-3, None),
        (2**64, None),
        ("", None),
        (None, None),
        ([12], None),
        ({"id": 12}, None),
        (float("nan"), None),
        (float("inf"), None),
        ("١٢", None),
    ],
)
def test_ids_are_positive_64_bit_integers_from_numbers_or_digit_strings(value, expected):
    assert values.integer_id(value) == expected


# --- Procore list readers: one bad row never stops the list ------------------------------------------


def procore_answering(rows_by_path: dict[str, object], *, status: int = 200) -> procore.ProcoreClient:
    """A ProcoreClient whose every GET of a path answers the given JSON (one page)."""

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.dumps(as_sent(rows_by_path.get(request.url.path, [])))
        status_code = status if request.method == "POST" else 200
        return httpx.Response(status_code, content=body, headers={"Content-Type": "application/json"})

    client = procore.ProcoreClient(tokens=StaticTokens(), company_id=1, sleep=lambda s: None)
    client.close()
    client._http = httpx.Client(base_url="https://procore.test", transport=httpx.MockTransport(handler))
    return client


def as_sent(body):
    """What a body looks like after travelling as JSON (a Decimal goes as text)."""
    return json.loads(json.dumps(body, default=str))


def _ids(rows) -> list[int]:
    rows = as_sent(rows)
    return [values.integer_id(r["id"]) for r in rows if isinstance(r, dict) and _usable_id(r.get("id"))]


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(
    rows=st.lists(st.one_of(PROJECT_ROWS, ODD), max_size=6), vendors=st.lists(st.one_of(VENDOR_ROWS, ODD), max_size=6)
)
def test_list_readers_keep_every_usable_row_and_skip_the_rest(rows, vendors):
    client = procore_answering({"/rest/v1.0/projects": rows, "/rest/v1.0/vendors": vendors})
    assert [p.id for p in client.projects()] == _ids(rows)
    assert [v.id for v in client.vendors()] == _ids(vendors)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(
    work=st.lists(st.one_of(COMMITMENT_ROWS, ODD), max_size=4),
    invoices=st.lists(st.one_of(REQUISITION_ROWS, ODD), max_size=4),
)
def test_commitment_and_invoice_lists_skip_rows_without_an_id_or_a_commitment(work, invoices):
    client = procore_answering(
        {
            "/rest/v1.0/work_order_contracts": work,
            "/rest/v1.0/purchase_order_contracts": [],
            "/rest/v1.1/requisitions": invoices,
        }
    )
    assert [c.id for c in client.commitments(11)] == _ids(work)
    usable = [r for r in as_sent(invoices) if isinstance(r, dict) and _usable_id(r.get("commitment_id"))]
    assert [r.id for r in client.requisitions(project_id=11)] == _ids(usable)
    assert all(r.project_id for r in client.requisitions(project_id=11))


def test_a_skipped_row_leaves_a_log_line(caplog):
    client = procore_answering({"/rest/v1.0/projects": [{"name": "no id"}, {"id": "12", "name": "Harbour"}]})
    assert [(p.id, p.name) for p in client.projects()] == [(12, "Harbour")]
    assert "Skipped a row Procore sent: Procore sent a project without a usable id" in caplog.text


def test_a_payment_row_without_an_id_but_with_an_origin_id_refuses_the_list_instead_of_hiding_it():
    # Leaving it out could make exactly-once post that Xero payment a second time.
    rows = [{"id": 5, "amount": "10.00", "origin_id": ""}, {"id": None, "amount": "1.00", "origin_id": "xero-pay-1"}]
    client = procore_answering({"/rest/v1.0/contract_payments": rows})
    with pytest.raises(DataError, match="xero-pay-1"):
        client.contract_payments(project_id=1, commitment_id=2)
    hand_entered = procore_answering({"/rest/v1.0/contract_payments": [rows[0], {"id": "x", "origin_id": None}]})
    assert [p.id for p in hand_entered.contract_payments(project_id=1, commitment_id=2)] == [5]


def test_an_unreadable_answer_to_a_created_payment_is_ambiguous_so_the_commitment_is_read_again():
    from syncapp.connectors.types import NewContractPayment

    client = procore_answering({"/rest/v1.0/contract_payments": {"created": True}}, status=201)
    body = NewContractPayment(
        project_id=1, commitment_id=2, date=dt.date(2024, 3, 1), amount=Decimal("5"), origin_id="p"
    )
    with pytest.raises(TransientError) as unsure:
        client.create_contract_payment(body)
    assert unsure.value.ambiguous is True


# --- Xero: shapes from the OpenAPI spec (tests/specs/xero/xero_accounting.yaml) ----------------------


@functools.cache
def _xero_schemas() -> dict:
    return yaml.safe_load((SPECS / "xero" / "xero_accounting.yaml").read_text())["components"]["schemas"]


def _ms(moment: dt.datetime) -> str:
    return f"/Date({int(moment.timestamp() * 1000)}+0000)/"


# The fields each parser reads, per schema (nested objects by their own schema name).
XERO_READS = {
    "Payment": [
        "PaymentID",
        "PaymentType",
        "Status",
        "Date",
        "Amount",
        "BankAmount",
        "CurrencyRate",
        "Reference",
        "IsReconciled",
        "BatchPaymentID",
        "UpdatedDateUTC",
        "Invoice",
        "InvoiceNumber",
    ],
    "Invoice": [
        "InvoiceID",
        "Type",
        "InvoiceNumber",
        "Reference",
        "Status",
        "Contact",
        "CurrencyCode",
        "Date",
        "DueDate",
        "Total",
        "AmountPaid",
        "AmountDue",
        "LineItems",
        "UpdatedDateUTC",
        "AmountCredited",
        "CreditNotes",
        "Prepayments",
        "Overpayments",
    ],
    "CreditNote": ["CreditNoteID", "CreditNoteNumber", "AppliedAmount", "Date"],
    "Prepayment": ["PrepaymentID", "AppliedAmount", "Date"],
    "Overpayment": ["OverpaymentID", "AppliedAmount", "Date"],
    "Contact": [
        "ContactID",
        "Name",
        "TaxNumber",
        "AccountNumber",
        "ContactNumber",
        "IsSupplier",
        "ContactStatus",
        "MergedToContactID",
        "UpdatedDateUTC",
    ],
    "LineItem": ["Tracking"],
    "LineItemTracking": ["Name", "Option"],
    "Organisation": ["OrganisationID", "Name", "BaseCurrency", "ShortCode"],
}
MOMENTS = st.datetimes(
    min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
)


def _xero_value(schema: dict, depth: int, *, odd: bool) -> st.SearchStrategy:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        target = _xero_schemas()[name]
        if name in XERO_READS:
            return xero_rows(name, depth + 1, odd=odd) if depth < 3 else st.just({})
        return _xero_value(target, depth, odd=odd)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if schema.get("format") == "uuid":
        return st.uuids().map(str)
    if schema.get("x-is-msdate"):
        return st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 1, 1)).map(
            lambda d: _ms(dt.datetime.combine(d, dt.time.min, tzinfo=dt.UTC))
        )
    if schema.get("x-is-msdate-time"):
        return MOMENTS.map(_ms)
    kind = schema.get("type")
    if kind == "number":
        # json.loads(..., parse_float=Decimal) as the client decodes answers
        return st.decimals(places=2, min_value=-(10**9), max_value=10**9)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(_xero_value(schema["items"], depth, odd=odd), max_size=2)
    return st.text(max_size=20)


def xero_rows(name: str, depth: int = 0, *, odd: bool = True) -> st.SearchStrategy:
    """Rows of Xero schema `name` with the fields the parsers read; `odd=False`: as documented."""
    properties = _xero_schemas()[name]["properties"]
    fields = {field: _xero_value(properties[field], depth, odd=odd) for field in XERO_READS[name]}
    if not odd:
        return st.fixed_dictionaries({}, optional=fields)
    return _row(fields)


XERO_PARSERS = [
    ("Payment", xero.payment_from_sdk, xero.payment_from_json, XeroPayment, "PaymentID"),
    ("Invoice", xero.bill_from_sdk, xero.bill_from_json, XeroBill, "InvoiceID"),
    ("Contact", xero.contact_from_sdk, xero.contact_from_json, XeroContact, "ContactID"),
    ("Organisation", xero.organisation_from_sdk, xero.organisation_from_json, XeroOrganisation, None),
]
FINDER = AccountingApi().get_model_finder()


def _is_uuid(value) -> bool:
    try:
        return isinstance(value, str) and bool(uuid.UUID(value.strip()))
    except ValueError:
        return False


@pytest.mark.parametrize(
    ("model", "from_sdk", "from_json", "cls", "key"), XERO_PARSERS, ids=[p[0] for p in XERO_PARSERS]
)
def test_a_xero_row_becomes_a_typed_object_or_one_documented_refusal(model, from_sdk, from_json, cls, key):
    @PROPERTIES
    @given(row=st.one_of(xero_rows(model), xero_rows(model), ODD))
    def check(row):
        parsed = parse_or_refuse(lambda r: xero._read_row(r, model, FINDER, from_sdk, from_json), row, cls)
        usable = isinstance(row, dict) and (key is None or _is_uuid(row.get(key)))
        assert (parsed is not None) == usable, row

    check()


@pytest.mark.parametrize(
    ("model", "from_sdk", "from_json", "cls", "key"), XERO_PARSERS, ids=[p[0] for p in XERO_PARSERS]
)
def test_a_documented_xero_row_reads_the_same_through_the_sdk_and_from_its_json(model, from_sdk, from_json, cls, key):
    """The tolerant reading (for rows the SDK refuses) is faithful: on every row inside the spec
    it gives exactly what xero-python's own decoding gives."""

    @PROPERTIES
    @given(row=xero_rows(model, odd=False))
    def check(row):
        if key is not None:
            row = {**row, key: str(uuid.uuid4())}
        assert from_json(row) == from_sdk(deserialize(model, row, FINDER))

    check()


@PROPERTIES
@given(
    row=xero_rows("Payment", odd=False),
    field=st.sampled_from(
        ["PaymentType", "Status", "Invoice.Type", "Invoice.CurrencyCode", "Invoice.Contact.ContactStatus"]
    ),
    value=st.sampled_from(["BILLPAYMENT", "VOIDED", "XBT", "ACCPAYBATCHPAYMENT", "new value"]),
)
def test_an_unknown_enum_value_is_kept_as_text_and_the_rest_of_the_row_is_read(row, field, value):
    row = {**row, "PaymentID": str(uuid.uuid4())}
    expected = xero.payment_from_json(row)
    target = row
    *parents, last = field.split(".")
    for parent in parents:
        target[parent] = dict(target.get(parent) or {})
        target = target[parent]
    target[last] = value
    with pytest.raises(ValueError):  # what xero-python does to the whole page today
        deserialize("Payments", {"Payments": [row]}, FINDER)

    parsed = xero._read_row(row, "Payment", FINDER, xero.payment_from_sdk, xero.payment_from_json)

    shown = {
        "PaymentType": parsed.payment_type,
        "Status": parsed.status,
        "Invoice.Type": parsed.invoice_type,
        "Invoice.CurrencyCode": parsed.currency_code,
    }
    if field in shown:
        assert shown[field] == value
    unchanged = ("payment_id", "date", "amount", "invoice_id", "invoice_number", "contact_id", "updated_at")
    assert [getattr(parsed, f) for f in unchanged] == [getattr(expected, f) for f in unchanged]


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("1250.5"), Decimal("1250.50")),
        (1250, Decimal("1250.00")),
        ("1250.5", Decimal("1250.50")),
        ("1,250.00", Decimal("1250.00")),
        ("abc", None),
        (Decimal("1E+20"), None),
        (-5, Decimal("-5.00")),
        (None, None),
        (float("nan"), None),
        (True, None),
        ({"Value": 1}, None),
    ],
)
def test_a_xero_amount_as_a_number_or_a_string_is_a_two_place_decimal_or_nothing(amount, expected):
    row = {"PaymentID": str(uuid.uuid4()), "PaymentType": "ACCPAYPAYMENT", "Status": "AUTHORISED", "Amount": amount}
    parsed = xero._read_row(row, "Payment", FINDER, xero.payment_from_sdk, xero.payment_from_json)
    assert parsed.amount == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/Date(1543449600000+0000)/", dt.date(2018, 11, 29)),
        ("/Date(1543449600000)/", dt.date(2018, 11, 29)),
        ("2018-11-29T00:00:00", dt.date(2018, 11, 29)),
        ("2018-11-29", dt.date(2018, 11, 29)),
        ("/Date(abc)/", None),
        ("/Date(99999999999999999999)/", None),
        ("2018-13-45", None),
        (1543449600000, None),
        (None, None),
        ("", None),
    ],
)
def test_a_xero_date_in_any_spelling_is_a_calendar_date_or_nothing(value, expected):
    row = {"PaymentID": str(uuid.uuid4()), "Date": value}
    parsed = xero._read_row(row, "Payment", FINDER, xero.payment_from_sdk, xero.payment_from_json)
    assert parsed.date == expected

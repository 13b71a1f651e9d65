"""The `where`/`order` parser of the sandbox Xero: what it accepts, what it refuses, and that it
never evaluates anything. Pure functions, checked against real rows where the meaning matters."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from syncapp.sandbox.xero.factories import make_world
from syncapp.sandbox.xero.models import Payment
from syncapp.sandbox.xero.where import (
    CONTACT_FIELDS,
    INVOICE_FIELDS,
    PAYMENT_FIELDS,
    Field,
    QueryError,
    coerce,
    parse_order,
    parse_where,
)


def payments_where(text: str):
    return parse_where(text, fields=PAYMENT_FIELDS, type_name="Payment")


@pytest.mark.parametrize(
    "text",
    [
        'Status=="AUTHORISED"',
        'Status == "AUTHORISED" AND PaymentType == "ACCPAYPAYMENT"',
        'status=="AUTHORISED" and paymenttype=="ACCPAYPAYMENT"',
        "Date >= DateTime(2024, 01, 31) && Date < DateTime(2024,02,01,00,00,00)",
        'Invoice.InvoiceID == Guid("0f8fad5b-d9cb-469f-a165-70867728950e")',
        'Invoice.InvoiceId=="0f8fad5b-d9cb-469f-a165-70867728950e"',
        '(Reference=="a" OR Reference=="b") AND NOT IsReconciled==true',
        "Amount > 100.50 || Amount <= 0",
        "BatchPaymentID != null",
        'Reference.Contains("EFT") AND Reference.StartsWith("E")',
        'Reference=="say \\"hi\\""',
    ],
)
def test_the_subset_the_product_needs_parses(text):
    assert payments_where(text) is not None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('Colour=="red"', "No property or field 'Colour' exists in type 'Payment'"),
        ("Status==", "Expression expected"),
        ("Status==AND", "Value expected"),
        ('Status=="A" AND', "Expression expected"),
        ('(Status=="A"', "'\\)' expected"),
        ('Status=="A")', "unexpected"),
        ('Date>="2024-01-31"', "incompatible"),
        ("Date>=DateTime(2024,13,1)", "Invalid DateTime"),
        ('Invoice.InvoiceID==Guid("nope")', "not a valid Guid"),
        ("__import__('os').system('id')", "Syntax error"),
        ("__import__(1)", "No property or field '__import__'"),
        ("Status.Length > 3", "No property or field"),
        ('Status=="A"; DROP TABLE x', "Syntax error"),
        ('Amount>"x"', "incompatible"),
    ],
)
def test_anything_else_is_refused_with_a_reason(text, message):
    with pytest.raises(QueryError, match=message):
        payments_where(text)


def test_each_resource_has_its_own_fields():
    parse_where('Contact.ContactID==Guid("0f8fad5b-d9cb-469f-a165-70867728950e")', fields=INVOICE_FIELDS,
                type_name="Invoice")
    parse_where("IsSupplier==true", fields=CONTACT_FIELDS, type_name="Contact")

    with pytest.raises(QueryError, match="type 'Contact'"):
        parse_where('PaymentType=="ACCPAYPAYMENT"', fields=CONTACT_FIELDS, type_name="Contact")


def test_order_accepts_xeros_form_and_refuses_unknown_fields():
    assert parse_order("UpdatedDateUTC ASC, Date DESC", fields=PAYMENT_FIELDS, type_name="Payment") == [
        "updated_at",
        "-date",
    ]
    assert parse_order("date", fields=PAYMENT_FIELDS, type_name="Payment") == ["date"]
    with pytest.raises(QueryError):
        parse_order("Date SIDEWAYS", fields=PAYMENT_FIELDS, type_name="Payment")
    with pytest.raises(QueryError):
        parse_order("Colour", fields=PAYMENT_FIELDS, type_name="Payment")


@pytest.mark.django_db
def test_and_binds_tighter_than_or_and_text_compares_ignoring_case():
    world = make_world()
    Payment.objects.create(
        organisation=world.organisation, invoice=world.bill, date=dt.date(2024, 5, 1), amount=Decimal("9.00"),
        bank_amount=Decimal("9.00"), reference="Late", status="DELETED", updated_at=world.bill.updated_at,
        batch_payment_id=uuid.uuid4(),
    )
    rows = Payment.objects.all()

    def refs(text: str) -> list[str]:
        return sorted(rows.filter(payments_where(text)).values_list("reference", flat=True))

    assert refs('Status=="DELETED" OR Reference=="eft 0001" AND Amount>1000') == ["Late"]
    assert refs('(Status=="DELETED" OR Reference=="eft 0001") AND Amount<1000') == ["EFT 0001", "Late"]
    assert refs("BatchPaymentID!=null") == ["Late"]
    assert refs('NOT Status=="DELETED"') == ["EFT 0001", "EFT 0002"]
    assert refs("Date>=DateTime(2024,03,01) AND Date<=DateTime(2024,05,01)") == ["EFT 0002", "Late"]
    assert refs(f'Invoice.Contact.ContactID==Guid("{world.contact.contact_id}") AND Amount==9') == ["Late"]


GUID = uuid.UUID("0f8fad5b-d9cb-469f-a165-70867728950e")
MIDNIGHT = dt.datetime(2024, 1, 31, tzinfo=dt.UTC)
LITERALS = {"null": None, "string": "x", "guid": GUID, "bool": True, "number": Decimal("1.5"), "datetime": MIDNIGHT}
# Per field kind: the literals it accepts and what each becomes; every other literal is refused.
ACCEPTED = {
    "uuid": {"null": None, "guid": GUID},
    "str": {"null": None, "string": "x"},
    "text": {"null": None, "string": "x"},
    "bool": {"null": None, "bool": True},
    "number": {"null": None, "number": Decimal("1.5")},
    "date": {"null": None, "datetime": MIDNIGHT.date()},
    "datetime": {"null": None, "datetime": MIDNIGHT},
    "unknown": {"null": None},
}


@pytest.mark.parametrize("kind", list(ACCEPTED))
@pytest.mark.parametrize("literal", list(LITERALS))
def test_a_literal_is_checked_against_the_field_kind(kind, literal):
    field = Field("column", kind)
    if literal in ACCEPTED[kind]:
        assert coerce(field, LITERALS[literal], "Name") == ACCEPTED[kind][literal]
    else:
        with pytest.raises(QueryError) as refused:
            coerce(field, LITERALS[literal], "Name")
        incompatible = f"Operator is incompatible with operand types of 'Name' and {type(LITERALS[literal]).__name__}"
        not_a_guid = "'x' is not a valid Guid for 'Name'"  # a quoted value is read as a Guid
        assert str(refused.value) == (not_a_guid if (kind, literal) == ("uuid", "string") else incompatible)


def test_a_quoted_guid_is_converted_for_a_guid_field_and_a_bad_one_refused():
    assert coerce(Field("column", "uuid"), str(GUID), "InvoiceID") == GUID
    with pytest.raises(QueryError) as refused:
        coerce(Field("column", "uuid"), "nope", "InvoiceID")
    assert str(refused.value) == "'nope' is not a valid Guid for 'InvoiceID'"

"""The sandbox's check of a `contract_payment` object (create and update), called directly: each
refusal gives its field one Rails-style message, and each accepted value becomes the model value.
The HTTP answers around it (422 with `{"errors": ...}`) are tested in test_procore_api.py."""

import datetime as dt
from decimal import Decimal

import pytest

from syncapp.sandbox.procore.api import clean_payment_fields
from syncapp.sandbox.procore.models import Commitment, Company, Project, Requisition

pytestmark = pytest.mark.django_db

VALID = {"date": "2026-11-20", "amount": "1234.56"}


@pytest.fixture
def target():
    company = Company.objects.create(name="Harbour Build Co")
    project = Project.objects.create(company=company, name="Pier 9 Fitout")
    commitment = Commitment.objects.create(project=project, number="SC-001")
    return project, commitment


def requisition(project, commitment, number=1):
    return Requisition.objects.create(project=project, commitment=commitment, number=number)


def clean(target, fields, *, creating=True):
    project, commitment = target
    return clean_payment_fields(fields, project=project, commitment=commitment, creating=creating)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"date": None}, "date", "can't be blank"),
        ({"date": ""}, "date", "can't be blank"),
        ({"date": "20/11/2026"}, "date", "must be a valid date (YYYY-MM-DD)"),
        ({"date": "2026-02-30"}, "date", "must be a valid date (YYYY-MM-DD)"),
        ({"date": 20261120}, "date", "must be a valid date (YYYY-MM-DD)"),
        ({"amount": None}, "amount", "can't be blank"),
        ({"amount": ""}, "amount", "can't be blank"),
        ({"amount": 12.5}, "amount", 'must be sent as a string, e.g. "1250.00"'),
        ({"amount": "12.345"}, "amount", "must be a positive number with at most two decimal places"),
        ({"amount": "-5.00"}, "amount", "must be a positive number with at most two decimal places"),
        ({"amount": "abc"}, "amount", "must be a positive number with at most two decimal places"),
        ({"amount": "0.00"}, "amount", "must be greater than 0"),
        ({"invoice_date": "31/10/2026"}, "invoice_date", "must be a valid date (YYYY-MM-DD)"),
        ({"payment_method": "cash"}, "payment_method", "is not included in the list (check, credit_card, electronic)"),
        ({"payment_number": "7"}, "payment_number", "must be an integer"),
        ({"payment_number": 7.5}, "payment_number", "must be an integer"),
        ({"payment_number": True}, "payment_number", "must be an integer"),
        ({"payment_number": 2**31}, "payment_number", "is out of range"),
        ({"draw_request_number": -(2**31) - 1}, "draw_request_number", "is out of range"),
        ({"draw_request_number": ""}, "draw_request_number", "must be an integer"),
        ({"invoice_number": 1001}, "invoice_number", "must be a string"),
        ({"check_number": "x" * 256}, "check_number", "is too long (maximum is 255 characters)"),
        ({"origin_id": "x" * 256}, "origin_id", "is too long (maximum is 255 characters)"),
        ({"notes": "x" * 10_001}, "notes", "is too long (maximum is 10000 characters)"),
        ({"origin_data": {"v": 1}}, "origin_data", "must be a string"),
        ({"requisition_id": 999}, "requisition_id", "does not match a subcontractor invoice on this project"),
        ({"requisition_id": "1"}, "requisition_id", "does not match a subcontractor invoice on this project"),
        ({"requisition_id": True}, "requisition_id", "does not match a subcontractor invoice on this project"),
    ],
)
def test_each_bad_value_is_refused_with_one_message_on_its_field(target, fields, field, message):
    values, errors = clean(target, {**VALID, **fields})
    assert errors == {field: [message]}
    assert field not in values


def test_a_requisition_of_another_project_does_not_match(target):
    project, _ = target
    elsewhere = Project.objects.create(company=project.company, name="Elsewhere")
    foreign = requisition(elsewhere, Commitment.objects.create(project=elsewhere, number="SC-9"))
    _, errors = clean(target, {**VALID, "requisition_id": foreign.pk})
    assert errors == {"requisition_id": ["does not match a subcontractor invoice on this project"]}


def test_a_requisition_of_another_commitment_is_refused(target):
    project, _ = target
    other = requisition(project, Commitment.objects.create(project=project, number="SC-002"))
    _, errors = clean(target, {**VALID, "requisition_id": other.pk})
    assert errors == {"requisition_id": ["belongs to another commitment than contract_id"]}


def test_a_create_without_date_or_amount_is_refused_but_an_update_leaves_them(target):
    assert clean(target, {}) == ({}, {"date": ["can't be blank"], "amount": ["can't be blank"]})
    assert clean(target, {}, creating=False) == ({}, {})


def test_every_refusal_is_reported_at_once_in_field_order(target):
    fields = {
        "requisition_id": 999,
        "notes": 1,
        "payment_method": "cash",
        "payment_number": "2",
        "invoice_date": "x",
        "amount": 1,
        "date": "x",
    }
    values, errors = clean(target, fields)
    assert values == {}
    assert list(errors) == [
        "date",
        "amount",
        "invoice_date",
        "payment_method",
        "payment_number",
        "notes",
        "requisition_id",
    ]


def test_good_values_become_model_values(target):
    project, commitment = target
    invoice = requisition(project, commitment)
    fields = {
        "date": "2026-11-20",
        "amount": " 1234.5 ",
        "invoice_date": "2026-10-31",
        "payment_method": "electronic",
        "payment_number": 2,
        "draw_request_number": -(2**31),
        "invoice_number": "INV-1001",
        "check_number": "x" * 255,
        "origin_id": "xero-payment-1",
        "notes": "",
        "origin_data": "{}",
        "requisition_id": invoice.pk,
        "not_a_field": "ignored",
    }
    values, errors = clean(target, fields)
    assert errors == {}
    assert values == {
        "date": dt.date(2026, 11, 20),
        "amount": Decimal("1234.5"),
        "invoice_date": dt.date(2026, 10, 31),
        "payment_method": "electronic",
        "payment_number": 2,
        "draw_request_number": -(2**31),
        "invoice_number": "INV-1001",
        "check_number": "x" * 255,
        "origin_id": "xero-payment-1",
        "notes": "",
        "origin_data": "{}",
        "requisition": invoice,
    }


def test_null_or_empty_clears_the_optional_fields(target):
    fields = {
        "invoice_date": "",
        "payment_method": None,
        "payment_number": None,
        "draw_request_number": None,
        "invoice_number": None,
        "check_number": None,
        "origin_id": None,
        "notes": None,
        "origin_data": None,
        "requisition_id": "",
    }
    values, errors = clean(target, fields, creating=False)
    assert errors == {}
    assert values == {
        "invoice_date": None,
        "payment_method": "",
        "payment_number": None,
        "draw_request_number": None,
        "invoice_number": "",
        "check_number": "",
        "origin_id": "",
        "notes": "",
        "origin_data": "",
        "requisition": None,
    }
    assert clean(target, {"invoice_date": None, "payment_method": "", "requisition_id": None}, creating=False) == (
        {"invoice_date": None, "payment_method": "", "requisition": None},
        {},
    )


# --- SANDBOX_PROCORE_PAYMENT_CHECKS=documented: only the spec's rules and what the record stores ---


@pytest.fixture
def documented(settings):
    settings.SANDBOX_PROCORE_PAYMENT_CHECKS = "documented"


def test_the_documented_reading_takes_what_only_the_stricter_one_refuses(target, documented):
    project, commitment = target
    elsewhere = Commitment.objects.create(project=project, number="SC-002")
    other = requisition(project, elsewhere)
    values, errors = clean(
        target, {**VALID, "amount": "-12.345", "notes": "x" * 10_001, "requisition_id": other.pk}
    )
    assert errors == {}
    assert values["amount"] == Decimal("-12.35") and len(values["notes"]) == 10_001
    assert values["requisition"] == other


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"amount": None}, "amount", "can't be blank"),
        ({"amount": 12.5}, "amount", 'must be sent as a string, e.g. "1250.00"'),
        ({"amount": "abc"}, "amount", "is not a number"),
        ({"amount": "1e20"}, "amount", "is not a number"),
        ({"date": "20/11/2026"}, "date", "must be a valid date (YYYY-MM-DD)"),
        ({"payment_method": "cash"}, "payment_method", "is not included in the list (check, credit_card, electronic)"),
        ({"payment_number": 2**31}, "payment_number", "is out of range"),
        ({"check_number": "x" * 256}, "check_number", "is too long (maximum is 255 characters)"),
        ({"requisition_id": 999}, "requisition_id", "does not match a subcontractor invoice on this project"),
    ],
)
def test_the_documented_reading_still_refuses_types_formats_enums_and_what_cannot_be_stored(
    target, documented, fields, field, message
):
    values, errors = clean(target, {**VALID, **fields})
    assert errors == {field: [message]}

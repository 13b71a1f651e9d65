"""Sandbox rows -> the JSON the real Xero Accounting API returns.

Shapes follow xero_accounting.yaml and Xero's published examples: MS-JSON dates
(`/Date(1543449600000+0000)/`), money as JSON numbers, PascalCase keys, empty arrays where Xero
sends them. Every enum value written here is inside the spec, because xero-python rejects a whole
response on one unknown enum value.

Payments are built from `.values()` rows (no model instances), so a 1000-row page is one query
and a loop of dict literals.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from syncapp.sandbox.xero.models import Contact, Invoice, Organisation

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


# --- Dates and numbers ------------------------------------------------------------------------


def ms_date(value: dt.date | None) -> str | None:
    """A calendar date as Xero writes it: midnight UTC in milliseconds, `+0000` suffix."""
    if value is None:
        return None
    millis = (value - dt.date(1970, 1, 1)).days * 86_400_000
    return f"/Date({millis}+0000)/"


def ms_datetime(value: dt.datetime | None, *, offset: bool = True) -> str | None:
    """An instant as Xero writes UpdatedDateUTC: milliseconds since the epoch (truncated)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    delta = value - _EPOCH
    millis = delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000
    return f"/Date({millis}+0000)/" if offset else f"/Date({millis})/"


def iso_date_string(value: dt.date | None) -> str | None:
    """Xero's `DateString` companion fields: local midnight without a zone."""
    return None if value is None else f"{value.isoformat()}T00:00:00"


def money(value: Decimal | int | float | str | None) -> float:
    """Xero sends money as JSON numbers. Two-place decimals survive the float round trip."""
    return float(value or 0)


def envelope(*, provider_name: str, key: str, items: list[dict], pagination: dict | None = None) -> dict:
    """The top-level object every Accounting API answer has."""
    body: dict[str, Any] = {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": provider_name,
        "DateTimeUTC": ms_datetime(dt.datetime.now(dt.UTC), offset=False),
    }
    if pagination is not None:
        body["pagination"] = pagination
    body[key] = items
    return body


def pagination(*, page: int, page_size: int, item_count: int) -> dict:
    page_count = (item_count + page_size - 1) // page_size if item_count else 0
    return {"page": page, "pageSize": page_size, "pageCount": page_count, "itemCount": item_count}


# --- Organisation -----------------------------------------------------------------------------

# Country -> (Version, Timezone), all inside the spec's enums.
_COUNTRY = {
    "AU": ("AU", "AUSEASTERNSTANDARDTIME"),
    "NZ": ("NZ", "NEWZEALANDSTANDARDTIME"),
    "GB": ("UK", "GMTSTANDARDTIME"),
    "US": ("US", "EASTERNSTANDARDTIME"),
}


def organisation_json(org: Organisation) -> dict:
    version, timezone = _COUNTRY.get(org.country_code, ("GLOBAL", "UTC"))
    return {
        "OrganisationID": str(org.tenant_id),
        "APIKey": "",
        "Name": org.name,
        "LegalName": org.name,
        "PaysTax": True,
        "Version": version,
        "OrganisationType": "COMPANY",
        "BaseCurrency": org.base_currency,
        "CountryCode": org.country_code,
        "IsDemoCompany": False,
        "OrganisationStatus": "ACTIVE",
        "FinancialYearEndDay": 30,
        "FinancialYearEndMonth": 6,
        "SalesTaxBasis": "ACCRUALS",
        "SalesTaxPeriod": "QUARTERLY1",
        "DefaultSalesTax": "Tax Exclusive",
        "DefaultPurchasesTax": "Tax Exclusive",
        "CreatedDateUTC": ms_datetime(org.created_at),
        "OrganisationEntityType": "COMPANY",
        "Timezone": timezone,
        "ShortCode": org.short_code or "",
        "Edition": "BUSINESS",
        "Class": "PREMIUM",
        "Addresses": [],
        "Phones": [],
        "ExternalLinks": [],
        "PaymentTerms": {},
    }


# --- Contacts ---------------------------------------------------------------------------------


def contact_json(contact: Contact) -> dict:
    body: dict[str, Any] = {
        "ContactID": str(contact.contact_id),
        "ContactStatus": contact.status,
        "Name": contact.name,
    }
    # Xero leaves out text fields that were never filled in.
    for key, value in (
        ("ContactNumber", contact.contact_number),
        ("AccountNumber", contact.account_number),
        ("TaxNumber", contact.tax_number),
        ("EmailAddress", contact.email),
    ):
        if value:
            body[key] = value
    if contact.merged_to_contact_id:
        body["MergedToContactID"] = str(contact.merged_to_contact_id)
    body.update(
        {
            "BankAccountDetails": "",
            "Addresses": [],
            "Phones": [],
            "UpdatedDateUTC": ms_datetime(contact.updated_at),
            "ContactGroups": [],
            "IsSupplier": contact.is_supplier,
            "IsCustomer": contact.is_customer,
            "ContactPersons": [],
            "HasAttachments": False,
            "HasValidationErrors": False,
        }
    )
    return body


def embedded_contact(*, contact_id: uuid.UUID, name: str) -> dict:
    """The short contact Xero nests inside payments and invoices."""
    return {
        "ContactID": str(contact_id),
        "Name": name,
        "Addresses": [],
        "Phones": [],
        "ContactGroups": [],
        "ContactPersons": [],
        "HasValidationErrors": False,
    }


# --- Invoices ---------------------------------------------------------------------------------

_LINE_NUMBERS = ("Quantity", "UnitAmount", "LineAmount", "TaxAmount", "DiscountRate", "DiscountAmount")


def line_items_json(invoice_id: uuid.UUID, line_items: list[dict]) -> list[dict]:
    """Stored line items as Xero sends them: numbers as numbers and a stable LineItemID."""
    lines = []
    for index, stored in enumerate(line_items or []):
        line = dict(stored)
        line.setdefault("LineItemID", str(uuid.uuid5(invoice_id, f"line-{index}")))
        for key in _LINE_NUMBERS:
            if key in line and line[key] is not None:
                line[key] = money(line[key])
        line["Tracking"] = [dict(option) for option in line.get("Tracking") or []]
        lines.append(line)
    return lines


def invoice_payment_json(row: dict) -> dict:
    """A payment as listed inside an invoice (short form)."""
    return {
        "PaymentID": str(row["payment_id"]),
        "Date": ms_date(row["date"]),
        "Amount": money(row["amount"]),
        "Reference": row["reference"],
        "CurrencyRate": money(row["currency_rate"]),
        "HasAccount": False,
        "HasValidationErrors": False,
    }


def invoice_json(invoice: Invoice, *, payment_rows: list[dict], summary_only: bool = False) -> dict:
    """A full invoice. `invoice.contact` must be loaded (select_related); `payment_rows` are its
    live (not deleted) payments as `.values()` rows with payment_id, date, amount, reference and
    currency_rate."""
    payments = [invoice_payment_json(row) for row in payment_rows]
    body: dict[str, Any] = {
        "Type": invoice.type,
        "InvoiceID": str(invoice.invoice_id),
        "InvoiceNumber": invoice.invoice_number,
        "Reference": invoice.reference,
        "Payments": [] if summary_only else payments,
        "CreditNotes": [],
        "Prepayments": [],
        "Overpayments": [],
        "AmountDue": money(invoice.amount_due),
        "AmountPaid": money(invoice.amount_paid),
        "AmountCredited": 0.0,
        "CurrencyRate": money(invoice.currency_rate),
        "IsDiscounted": False,
        "HasAttachments": False,
        "HasErrors": False,
        "Contact": embedded_contact(contact_id=invoice.contact.contact_id, name=invoice.contact.name),
        "DateString": iso_date_string(invoice.date),
        "Date": ms_date(invoice.date),
        "Status": invoice.status,
        "LineAmountTypes": invoice.line_amount_types,
        "LineItems": [] if summary_only else line_items_json(invoice.invoice_id, invoice.line_items),
        "SubTotal": money(invoice.sub_total),
        "TotalTax": money(invoice.total_tax),
        "Total": money(invoice.total),
        "UpdatedDateUTC": ms_datetime(invoice.updated_at),
        "CurrencyCode": invoice.currency_code,
    }
    if invoice.due_date:
        body["DueDateString"] = iso_date_string(invoice.due_date)
        body["DueDate"] = ms_date(invoice.due_date)
    if invoice.status == "PAID" and payment_rows:
        body["FullyPaidOnDate"] = ms_date(max(row["date"] for row in payment_rows))
    return body


# --- Payments ---------------------------------------------------------------------------------

# The columns one payment needs, for `.values(*PAYMENT_COLUMNS)`: one query, joins included.
PAYMENT_COLUMNS = (
    "payment_id",
    "date",
    "amount",
    "bank_amount",
    "currency_rate",
    "reference",
    "payment_type",
    "status",
    "updated_at",
    "is_reconciled",
    "batch_payment_id",
    "account_id",
    "account_code",
    "other_document",
    "invoice__invoice_id",
    "invoice__invoice_number",
    "invoice__type",
    "invoice__currency_code",
    "invoice__contact__contact_id",
    "invoice__contact__name",
)


def payment_json(row: dict) -> dict:
    """One payment from a `.values(*PAYMENT_COLUMNS)` row, as GET /Payments returns it."""
    body: dict[str, Any] = {"PaymentID": str(row["payment_id"])}
    if row["batch_payment_id"]:
        body["BatchPaymentID"] = str(row["batch_payment_id"])
    body.update(
        {
            "Date": ms_date(row["date"]),
            "BankAmount": money(row["bank_amount"]),
            "Amount": money(row["amount"]),
            "Reference": row["reference"],
            "CurrencyRate": money(row["currency_rate"]),
            "PaymentType": row["payment_type"],
            "Status": row["status"],
            "UpdatedDateUTC": ms_datetime(row["updated_at"]),
            "HasAccount": True,
            "IsReconciled": row["is_reconciled"],
            "Account": {"AccountID": str(row["account_id"]), "Code": row["account_code"]},
        }
    )
    if row["invoice__invoice_id"]:
        body["Invoice"] = {
            "Type": row["invoice__type"],
            "InvoiceID": str(row["invoice__invoice_id"]),
            "InvoiceNumber": row["invoice__invoice_number"],
            "Payments": [],
            "CreditNotes": [],
            "Prepayments": [],
            "Overpayments": [],
            "HasErrors": False,
            "IsDiscounted": False,
            "Contact": embedded_contact(
                contact_id=row["invoice__contact__contact_id"], name=row["invoice__contact__name"]
            ),
            "LineItems": [],
            "CurrencyCode": row["invoice__currency_code"],
        }
    elif row["other_document"]:
        # Credit-note refunds, prepayments and overpayments embed that document instead.
        body.update(row["other_document"])
    body["HasValidationErrors"] = False
    return body

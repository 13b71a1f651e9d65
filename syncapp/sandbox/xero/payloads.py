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

from syncapp.sandbox.conf import SandboxConf
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


# --- Allocations: credit notes, prepayments and overpayments applied to a bill -----------------
#
# Xero settles part or all of a bill without a Payment by allocating a supplier credit note,
# prepayment or overpayment to it. The bill's own answer then carries `AmountCredited` ("Sum of all
# credit notes, over-payments and pre-payments applied to invoice") and one entry per allocated
# document in `CreditNotes`, `Prepayments` or `Overpayments` (schema Invoice in
# xero_accounting.yaml; entries are the CreditNote, Prepayment and Overpayment schemas).
#
# Storage (no model of its own, so no migration): the allocated document is an Invoice row whose
# `type` is one of the sandbox-only codes below (Xero's own names, ACCPAYCREDIT etc., do not fit the
# 10-character column; these codes never reach an answer). Such rows are never listed by
# GET /Invoices (Xero lists credit notes etc. on their own endpoints). For such a row: `reference`
# holds the InvoiceID of the bill it is allocated to, `amount_paid` the amount applied to that bill
# (AppliedAmount), `date` the document's date, `total` its total, `invoice_number` a credit note's
# CreditNoteNumber.

CREDIT_NOTE, PREPAYMENT, OVERPAYMENT = "APCREDIT", "APPREPAY", "APOVERPAY"
ALLOCATED_DOCUMENT_TYPES = (CREDIT_NOTE, PREPAYMENT, OVERPAYMENT)
# Invoice.Type of the document -> (the bill's array, the entry's id key)
_ALLOCATION_ARRAYS = {
    CREDIT_NOTE: ("CreditNotes", "CreditNoteID"),
    PREPAYMENT: ("Prepayments", "PrepaymentID"),
    OVERPAYMENT: ("Overpayments", "OverpaymentID"),
}

# Columns of an allocated document row, for `.values(*ALLOCATION_COLUMNS)`.
ALLOCATION_COLUMNS = ("type", "invoice_id", "invoice_number", "reference", "date", "total", "amount_paid")


def allocation_entry_json(row: dict) -> dict:
    """One allocated document as listed inside the bill. Members are the spec's CreditNote /
    Prepayment / Overpayment properties only (CreditNoteID, CreditNoteNumber, PrepaymentID,
    OverpaymentID, AppliedAmount, Date, Total, LineItems)."""
    _, id_key = _ALLOCATION_ARRAYS[row["type"]]
    entry: dict[str, Any] = {id_key: str(row["invoice_id"])}
    if row["type"] == CREDIT_NOTE:
        entry["CreditNoteNumber"] = row["invoice_number"]
    entry.update(
        {
            "AppliedAmount": money(row["amount_paid"]),
            "Date": ms_date(row["date"]),
            "LineItems": [],
            "Total": money(row["total"]),
        }
    )
    return entry


def allocation_arrays(rows: list[dict]) -> dict[str, list[dict]]:
    """{"CreditNotes": [...], "Prepayments": [...], "Overpayments": [...]} for one bill."""
    arrays: dict[str, list[dict]] = {"CreditNotes": [], "Prepayments": [], "Overpayments": []}
    for row in sorted(rows, key=lambda r: (r["date"], str(r["invoice_id"]))):
        arrays[_ALLOCATION_ARRAYS[row["type"]][0]].append(allocation_entry_json(row))
    return arrays


def invoice_json(
    invoice: Invoice, *, payment_rows: list[dict], summary_only: bool = False, allocation_rows: list[dict] | None = None
) -> dict:
    """A full invoice. `invoice.contact` must be loaded (select_related); `payment_rows` are its
    live (not deleted) payments as `.values()` rows with payment_id, date, amount, reference and
    currency_rate; `allocation_rows` the documents allocated to it (ALLOCATION_COLUMNS).
    `summaryOnly=true` leaves out the computed lists (Payments and the allocation arrays): the spec
    says it returns "only lightweight fields, excluding computation-heavy fields"."""
    payments = [invoice_payment_json(row) for row in payment_rows]
    allocation_rows = allocation_rows or []
    arrays = allocation_arrays([] if summary_only else allocation_rows)
    body: dict[str, Any] = {
        "Type": invoice.type,
        "InvoiceID": str(invoice.invoice_id),
        "InvoiceNumber": invoice.invoice_number,
        "Reference": invoice.reference,
        "Payments": [] if summary_only else payments,
        **arrays,
        "AmountDue": money(invoice.amount_due),
        "AmountPaid": money(invoice.amount_paid),
        "AmountCredited": money(sum((row["amount_paid"] for row in allocation_rows), Decimal(0))),
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
    settled_on = [row["date"] for row in payment_rows] + [row["date"] for row in allocation_rows]
    if invoice.status == "PAID" and settled_on:
        body["FullyPaidOnDate"] = ms_date(max(settled_on))
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


# Switches for what the docs leave open (sandbox.conf reads them per answer, from a Django setting
# of the same name, else the environment). Defaults: the spec's own getPayments example.
#
# SANDBOX_XERO_BATCH_ID_AT_TOP_LEVEL (default true): the example carries a batch payment's id twice,
# as `BatchPaymentID` and inside the `BatchPayment` object; "false" sends only the object (the
# schema's "Present if the payment was created as part of a batch" promises no more), so the
# product is proven to read the nested one.
# SANDBOX_XERO_OTHER_DOCUMENT_EMBED (default "document"): a refund of a credit note, prepayment or
# overpayment embeds that document (the Payment schema's `CreditNote`, `Prepayment`, `Overpayment`
# members). The same example shows an ARCREDITPAYMENT embedding an `Invoice` of Type ACCRECCREDIT
# instead, which Invoice.Type's enum (ACCPAYCREDIT, APPREPAYMENT, APOVERPAYMENT, ...) allows for
# every kind: "invoice" sends that shape, so the product is proven not to take it for a bill.


def batch_id_at_top_level() -> bool:
    return SandboxConf.SANDBOX_XERO_BATCH_ID_AT_TOP_LEVEL.lower() not in ("0", "false", "off", "no")


def other_document_embed() -> str:
    return "invoice" if SandboxConf.SANDBOX_XERO_OTHER_DOCUMENT_EMBED.lower() == "invoice" else "document"


# Embedded document key -> Invoice.Type when embedded as an Invoice (supplier side, customer side).
_DOCUMENT_AS_INVOICE_TYPE = {
    "CreditNote": {"ACCPAYCREDIT": "ACCPAYCREDIT", "ACCRECCREDIT": "ACCRECCREDIT"},
    "Prepayment": {"SPEND-PREPAYMENT": "APPREPAYMENT", "APPREPAYMENT": "APPREPAYMENT",
                   "RECEIVE-PREPAYMENT": "ARPREPAYMENT", "ARPREPAYMENT": "ARPREPAYMENT"},
    "Overpayment": {"SPEND-OVERPAYMENT": "APOVERPAYMENT", "RECEIVE-OVERPAYMENT": "AROVERPAYMENT",
                    "AROVERPAYMENT": "AROVERPAYMENT"},
}


def batch_payment_json(row: dict, batch: dict) -> dict:
    """The `BatchPayment` object a payment of a batch carries (schema BatchPayment; members as in
    the spec's getPayments example: Account, BatchPaymentID, Date, Type, Status, TotalAmount,
    UpdatedDateUTC, IsReconciled). `batch` holds the batch's total and newest change."""
    return {
        "Account": {"AccountID": str(row["account_id"])},
        "BatchPaymentID": str(row["batch_payment_id"]),
        "Date": ms_date(row["date"]),
        # PAYBATCH for bill payments, RECBATCH for sales invoice payments (BatchPayment.Type).
        "Type": "RECBATCH" if row["payment_type"] == "ACCRECPAYMENT" else "PAYBATCH",
        "Status": "AUTHORISED",
        "TotalAmount": money(batch.get("total", row["amount"])),
        "UpdatedDateUTC": ms_datetime(batch.get("updated_at", row["updated_at"])),
        "IsReconciled": row["is_reconciled"],
    }


def document_as_invoice(document: dict) -> dict:
    """{"CreditNote": {...}} -> the `Invoice` member the same payment may carry instead."""
    (key, inner), *_ = document.items()
    id_key = {"CreditNote": "CreditNoteID", "Prepayment": "PrepaymentID", "Overpayment": "OverpaymentID"}[key]
    contact = inner.get("Contact") or {}
    return {
        "Type": _DOCUMENT_AS_INVOICE_TYPE[key].get(inner.get("Type", ""), "ACCPAYCREDIT"),
        "InvoiceID": inner.get(id_key, ""),
        "InvoiceNumber": inner.get("CreditNoteNumber", ""),
        "Payments": [],
        "CreditNotes": [],
        "Prepayments": [],
        "Overpayments": [],
        "HasErrors": False,
        "IsDiscounted": False,
        "Contact": embedded_contact(contact_id=contact.get("ContactID", ""), name=contact.get("Name", "")),
        "LineItems": [],
        "CurrencyCode": inner.get("CurrencyCode", ""),
    }


def payment_json(row: dict, *, batches: dict | None = None) -> dict:
    """One payment from a `.values(*PAYMENT_COLUMNS)` row, as GET /Payments returns it.
    `batches`: BatchPaymentID -> {"total", "updated_at"} for the batches on this page."""
    body: dict[str, Any] = {"PaymentID": str(row["payment_id"])}
    if row["batch_payment_id"]:
        if batch_id_at_top_level():
            body["BatchPaymentID"] = str(row["batch_payment_id"])
        body["BatchPayment"] = batch_payment_json(row, (batches or {}).get(row["batch_payment_id"], {}))
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
        if other_document_embed() == "invoice":
            body["Invoice"] = document_as_invoice(row["other_document"])
        else:
            body.update(row["other_document"])
    body["HasValidationErrors"] = False
    return body

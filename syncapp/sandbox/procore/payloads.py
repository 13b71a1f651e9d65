"""How the simulated Procore renders its records as JSON, in the shapes of Procore's published
response schemas (tests/specs/procore, one file per operation id). An answer carries only the
properties its operation's schema declares — a list the list schema's, a show the show schema's —
which tests/sandbox/test_conformance.py checks over HTTP; the few places where a schema is a bare
`object` are held to a sourced stand-in listed in tests/specs/documented.py.

As the real service does, unset values are `null` (not ""), ids are integers (64-bit), money is a
string with two decimals, dates are ISO `YYYY-MM-DD` and times ISO-8601 UTC.
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from syncapp.sandbox.procore.models import (
    Commitment,
    Company,
    ContractPayment,
    Project,
    Requisition,
    User,
    Vendor,
)

# Procore's purchase orders use their own status list; map the subcontract ones onto it.
_PO_STATUS = {"Out For Bid": "Draft", "Out For Signature": "Submitted", "Complete": "Closed", "Terminated": "Closed"}
_PO_STATUS_VALUES = {"Draft", "Processing", "Submitted", "Partially Received", "Received", "Approved", "Closed"}


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{Decimal(value):.2f}"


def day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def moment(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def text(value: str) -> str | None:
    return value or None


def user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "login": user.login, "name": user.name}


def company_json(company: Company, *, mine: bool) -> dict[str, Any]:
    return {
        "id": company.id,
        "name": company.name,
        "is_active": company.is_active,
        "logo_url": None,
        "pcn_business_experience": False,
        "my_company": mine,
    }


def project_json(project: Project) -> dict[str, Any]:
    """RestV10ProjectsGet items and RestV10ProjectsIdGet: neither documents a currency."""
    return {
        "id": project.id,
        "name": project.name,
        "display_name": f"{project.project_number} - {project.name}" if project.project_number else project.name,
        "project_number": text(project.project_number),
        "is_demo": False,
        "active": project.active,
        "origin_id": text(project.origin_id),
        "origin_data": None,
        "origin_code": None,
        "created_at": moment(project.created_at),
        "updated_at": moment(project.updated_at),
        "company": {"id": project.company_id, "name": project.company.name},
    }


def vendor_json(vendor: Vendor) -> dict[str, Any]:
    """RestV10VendorsGet/IdGet/Post declare a vendor without members. Held to the attributes
    RestV10VendorsPost's request body documents, plus `id` and the read-only `business_id`,
    `company`, `created_at`, `updated_at` of Procore's Vendor Extended View (as generated from
    Procore's OpenAPI in procore_python_sdk, RestV10VendorsGet200ResponseInner)."""
    return {
        "id": vendor.id,
        "name": vendor.name,
        "abbreviated_name": text(vendor.abbreviated_name),
        "business_id": text(vendor.business_id),
        "email_address": text(vendor.email_address),
        "is_active": vendor.is_active,
        "origin_id": text(vendor.origin_id),
        "origin_code": text(vendor.origin_code),
        "origin_data": text(vendor.origin_data),
        "company": vendor.company.name,
        "created_at": moment(vendor.created_at),
        "updated_at": moment(vendor.updated_at),
    }


def payment_json(payment: ContractPayment) -> dict[str, Any]:
    """A contract payment as /rest/v1.0/contract_payments answers it (list, show, create, update:
    RestV10ContractPayments{Get,IdGet,Post,IdPatch} declare the same object). They do not declare
    `payment_method` nor `invoice_date`: Procore takes both on create but does not answer them."""
    return {
        "id": payment.id,
        "amount": money(payment.amount),
        "check_number": text(payment.check_number),
        "contract_id": payment.commitment_id,
        "project_id": payment.project_id,
        "requisition_id": payment.requisition_id,
        "date": day(payment.date),
        "invoice_number": text(payment.invoice_number),
        "payment_number": payment.payment_number,
        "draw_request_number": payment.draw_request_number,
        "notes": text(payment.notes),
        "origin_id": text(payment.origin_id),
        "origin_code": None,
        "origin_data": text(payment.origin_data),
        "date_payment_settled": None,
        "date_payment_initiated": None,
        "external_payment_id": None,
        "status": None,
        "attachments": [],
        "created_at": moment(payment.created_at),
        "updated_at": moment(payment.updated_at),
    }


def payment_issued_json(payment: ContractPayment) -> dict[str, Any]:
    """A payment as listed inside a commitment's show (`payments_issued[]` of the WO, PO and
    commitment show schemas: no `requisition_id`, no `contract_id`)."""
    return {
        "id": payment.id,
        "amount": money(payment.amount),
        "check_number": text(payment.check_number),
        "created_at": moment(payment.created_at),
        "date": day(payment.date),
        "draw_request_number": payment.draw_request_number,
        "invoice_number": text(payment.invoice_number),
        "notes": text(payment.notes),
        "payment_number": payment.payment_number,
        "attachments": [],
        "origin_id": text(payment.origin_id),
        "origin_data": text(payment.origin_data),
    }


def commitment_status(commitment: Commitment) -> str:
    if commitment.kind != Commitment.PURCHASE_ORDER:
        return commitment.status
    status = _PO_STATUS.get(commitment.status, commitment.status)
    return status if status in _PO_STATUS_VALUES else "Closed"


def currency_configuration(project: Project) -> dict[str, str] | None:
    """What a commitment or subcontractor invoice states about its currency. Procore documents
    `currency_configuration` on work order / purchase order contracts and v1.1 requisitions; a
    company without Procore's multiple-currency setting (`Company.uses_currencies` off, the common
    case) states no currency anywhere, so the key is left out. The project's `currency_iso_code`
    stands for the currency set on the commitment (Procore's projects themselves carry none)."""
    if not project.company.uses_currencies:
        return None
    return {"currency_iso_code": project.currency_iso_code}


def _with_currency(data: dict[str, Any], project: Project) -> dict[str, Any]:
    currency = currency_configuration(project)
    if currency is not None:
        data["currency_configuration"] = currency
    return data


def commitment_json(commitment: Commitment, *, detail: bool = False, generic: bool = False) -> dict[str, Any]:
    """A commitment as a list (or, with `detail`, a show) answers it: the work order and purchase
    order endpoints by default, `/rest/v1.0/commitments` with `generic`. Each renders only what
    its own schema declares."""
    if generic:
        return _generic_show(commitment) if detail else _generic_row(commitment)
    return _contract_show(commitment) if detail else _contract_row(commitment)


def _contract_row(commitment: Commitment) -> dict[str, Any]:
    """RestV10PurchaseOrderContractsGet items; RestV10WorkOrderContractsGet declares its items only
    as `object`, so the work-order list answers its documented sibling's fields. Totals and
    payments issued are show fields here."""
    vendor = commitment.vendor
    data: dict[str, Any] = {
        "id": commitment.id,
        "number": commitment.number,
        "title": text(commitment.title),
        "status": commitment_status(commitment),
        "executed": commitment.executed,
        "private": False,
        "grand_total": money(commitment.grand_total),
        "revised_contract": money(commitment.grand_total),
        "origin_id": text(commitment.origin_id),
        "origin_data": None,
        "origin_code": None,
        "project": {"id": commitment.project_id, "name": commitment.project.name},
        # The list's vendor is {id, company}: `company` is the vendor's company name.
        "vendor": {"id": vendor.id, "company": vendor.name} if vendor else None,
        "created_at": moment(commitment.created_at),
        "updated_at": moment(commitment.updated_at),
        "deleted_at": moment(commitment.deleted_at),
    }
    return _with_currency(data, commitment.project)


def _totals(commitment: Commitment) -> dict[str, Any]:
    """The money a show answer adds, from the payments issued and the invoices."""
    payments = list(commitment.payments.order_by("date", "created_at"))
    paid = sum((p.amount for p in payments), Decimal("0"))
    invoiced = commitment.requisitions.aggregate(total=Sum("total_amount"))["total"] or Decimal("0")
    total = Decimal(commitment.grand_total)
    return {
        "payments_issued": [payment_issued_json(p) for p in payments],
        "total_payments": money(paid),
        "total_draw_requests_amount": money(invoiced),
        "remaining_balance_outstanding": money(total - paid),
        "percentage_paid": f"{(paid / total * 100) if total else Decimal('0'):.2f}",
        "approved_change_orders": "0.00",
        "pending_change_orders": "0.00",
        "pending_revised_contract": money(total),
        "retainage_percent": "0.00",
        "accounting_method": "amount",
        "line_items": [],
        "change_order_packages": [],
        "potential_change_orders": [],
        "change_order_requests": [],
    }


def _contract_show(commitment: Commitment) -> dict[str, Any]:
    """RestV10WorkOrderContractsIdGet / RestV10PurchaseOrderContractsIdGet (neither has `type`)."""
    data = _contract_row(commitment)
    vendor = commitment.vendor
    data.update(_totals(commitment))
    data.update(
        vendor=(
            {"id": vendor.id, "company": vendor.name, "origin_id": text(vendor.origin_id), "origin_data": None}
            if vendor
            else None
        ),
        total_requisitions_amount=data["total_draw_requests_amount"],
        draft_change_orders_amount="0.00",
        requisitions_are_enabled=True,
    )
    if commitment.kind != Commitment.PURCHASE_ORDER:
        # The purchase-order schema declares `attachments` an object, not a list: leave it out
        # there rather than send a shape one of the two schemas refuses.
        data["attachments"] = []
    return data


def _generic_row(commitment: Commitment) -> dict[str, Any]:
    """RestV10CommitmentsGet items: a short row whose vendor is {id, name}."""
    vendor = commitment.vendor
    return {
        "id": commitment.id,
        "number": commitment.number,
        "title": text(commitment.title),
        "status": commitment_status(commitment),
        "executed": commitment.executed,
        "private": False,
        "created_at": moment(commitment.created_at),
        "vendor": {"id": vendor.id, "name": vendor.name} if vendor else None,
    }


def _generic_show(commitment: Commitment) -> dict[str, Any]:
    """RestV10CommitmentsIdGet: `type`, totals and payments issued; no origin fields, project or
    currency. Its `vendor` is declared without members, so it is left out."""
    data = _generic_row(commitment)
    del data["vendor"]
    data.update(
        _totals(commitment),
        type=commitment.kind,
        grand_total=money(commitment.grand_total),
        revised_contract=money(commitment.grand_total),
        updated_at=moment(commitment.updated_at),
        deleted_at=moment(commitment.deleted_at),
        attachments=[],
    )
    return data


def requisition_json(requisition: Requisition) -> dict[str, Any]:
    """RestV11RequisitionsGet items and RestV11RequisitionsIdGet declare the same object."""
    commitment = requisition.commitment
    vendor = commitment.vendor
    net = requisition.total_amount - requisition.retainage_amount
    data: dict[str, Any] = {
        "id": requisition.id,
        "project_id": requisition.project_id,
        "commitment_id": commitment.id,
        "commitment_type": commitment.kind,
        "contract_name": commitment.title or commitment.number,
        "vendor_id": vendor.id if vendor else None,
        "vendor_name": vendor.name if vendor else None,
        "number": requisition.number,
        "invoice_number": text(requisition.invoice_number),
        "status": requisition.status,
        "erp_status": None,
        "origin_id": text(requisition.origin_id),
        "origin_data": None,
        "billing_date": day(requisition.billing_date),
        "requisition_start": day(requisition.period_start),
        "requisition_end": day(requisition.period_end),
        "payment_date": None,
        "period_id": None,
        "previous_requisition_id": None,
        "final": False,
        "deletable": False,
        "total_claimed_amount": money(requisition.total_amount),
        "percent_complete": None,
        "created_at": moment(requisition.created_at),
        "updated_at": moment(requisition.updated_at),
        "summary": {
            "total_completed_and_stored_to_date": money(requisition.total_amount),
            "total_retainage": money(requisition.retainage_amount),
            "completed_work_retainage_amount": money(requisition.retainage_amount),
            "total_earned_less_retainage": money(net),
            "current_payment_due": money(net),
            "original_contract_sum": money(commitment.grand_total),
            "contract_sum_to_date": money(commitment.grand_total),
        },
        "attachments": [],
    }
    return _with_currency(data, requisition.project)

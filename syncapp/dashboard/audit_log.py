"""The audit log as people read it: filtered by date range, user and action; each entry with its
action's label and the thing it is about named by bill, commitment and vendor rather than by ids.

Entries written before the services named things (e.g. "Retried Xero payment <uuid>") are named
here from the rows their details point at: a handful of queries per page, whatever its size.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone

from syncapp.core.audit import action_label
from syncapp.core.models import AuditEntry
from syncapp.sync.models import Payment, XeroBillRecord

SYSTEM = "(system)"  # the "who" of entries no person made; not a valid username, so no clash
PROVIDERS = {"xero": "Xero", "procore": "Procore"}
DOWNLOADS = {
    "payments.downloaded": "Payments list",
    "failures.downloaded": "Failure queue",
    "audit.downloaded": "Audit log",
}


@dataclass
class AuditFilters:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    user: str = ""  # a username, or SYSTEM
    action: str = ""


def entries(*, filters: AuditFilters) -> QuerySet[AuditEntry]:
    """Newest first. Days are the site's days (TIME_ZONE), both ends included."""
    qs = AuditEntry.objects.select_related("actor", "integration")
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.user == SYSTEM:
        qs = qs.filter(actor__isnull=True)
    elif filters.user:
        qs = qs.filter(actor__username=filters.user)
    if filters.date_from:
        qs = qs.filter(at__gte=_day_start(filters.date_from))
    if filters.date_to:
        qs = qs.filter(at__lt=_day_start(filters.date_to + dt.timedelta(days=1)))
    return qs.order_by("-at", "-id")


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def action_choices() -> list[tuple[str, str]]:
    """(code, label) of every action recorded so far, by label."""
    codes = AuditEntry.objects.order_by().values_list("action", flat=True).distinct()
    return sorted(((code, action_label(code)) for code in codes), key=lambda choice: choice[1].lower())


def user_choices() -> list[tuple[str, str]]:
    """(value, label) of everyone who has an entry, and "System" for what no person did."""
    acted = AuditEntry.objects.filter(actor__isnull=False).values("actor")
    names = get_user_model().objects.filter(pk__in=acted).order_by("username").values_list("username", flat=True)
    return [(name, name) for name in names] + [(SYSTEM, "System")]


def describe(page: list[AuditEntry]) -> list[AuditEntry]:
    """Give each entry `label` (its action's words), `about` (what it concerns, by name), `text`
    (its summary with any raw id it carries replaced by that name) and `payment_id` (for a link to a
    payment that is still there)."""
    payments = _payments(page)
    bills = _bills(page)
    commitments = _commitments(page)
    for entry in page:
        details = entry.details if isinstance(entry.details, dict) else {}
        names: dict[str, str] = {}  # raw id as the summary may say it -> the name to say instead
        entry.label = action_label(entry.action)
        entry.payment_id = None  # set when the payment is still there, for a link to it
        if details.get("payment_id") is not None:
            payment = payments.get(details["payment_id"])
            entry.payment_id = payment.pk if payment is not None else None
            entry.about = _payment_name(details, payment)
            names = _payment_names(payment)
        elif entry.action.startswith("bill."):
            entry.about, names = _bill_about(entry, details, bills, commitments)
        else:
            entry.about = _other_about(entry.action, details)
        entry.text = _renamed(entry.summary, names)
    return page


def _payment_names(payment: Payment | None) -> dict[str, str]:
    if payment is None:
        return {}
    return {f"Xero payment {payment.xero_payment_id}": f"the payment on bill {_bill_of(payment)}"}


def _bill_about(
    entry: AuditEntry,
    details: dict,
    bills: dict[tuple[int, str], XeroBillRecord],
    commitments: dict[int, str],
) -> tuple[str, dict[str, str]]:
    """ "Bill INV-0042 → commitment SC-001", and the names to put in place of the ids the summary says."""
    invoice_id = details.get("xero_invoice_id", "")
    bill = bills.get((entry.integration_id, invoice_id))
    number = details.get("invoice_number") or (bill.invoice_number if bill else "")
    commitment_id = details.get("procore_commitment_id")
    commitment = details.get("commitment_label") or commitments.get(commitment_id, "")
    about = f"Bill {number or invoice_id}" + (f" → commitment {commitment}" if commitment else "")
    names = {}
    if number:
        names[f"Xero bill {invoice_id}"] = f"bill {number}"
    if commitment and commitment_id is not None:
        names[f"Procore commitment #{commitment_id}"] = f"Procore commitment {commitment}"
    return about, names


def _other_about(action: str, details: dict) -> str:
    """What an entry about neither a payment nor a bill concerns: a download, a report, a connection."""
    if action in DOWNLOADS:
        rows = details.get("rows")
        counted = f", {rows:,} row{'s' if rows != 1 else ''}" if isinstance(rows, int) else ""
        return f"{DOWNLOADS[action]} ({str(details.get('format', '')).upper()}{counted})"
    if action.startswith("reconciliation.") and details.get("report_id"):
        return f"Reconciliation #{details['report_id']}"
    if details.get("provider") in PROVIDERS:
        return PROVIDERS[details["provider"]]
    return ""


def _renamed(summary: str, names: dict[str, str]) -> str:
    for raw, name in names.items():
        summary = summary.replace(raw, name)
    return summary


def _payments(page: list[AuditEntry]) -> dict[int, Payment]:
    ids = {e.details.get("payment_id") for e in page if isinstance(e.details, dict)} - {None}
    found = Payment.objects.filter(pk__in=[i for i in ids if isinstance(i, int)])
    fields = ("xero_payment_id", "invoice_number", "vendor_name", "amount", "currency_code")
    return {p.pk: p for p in found.only(*fields)}


def _bills(page: list[AuditEntry]) -> dict[tuple[int, str], XeroBillRecord]:
    wanted = [
        Q(integration_id=e.integration_id, invoice_id=e.details["xero_invoice_id"])
        for e in page
        if e.action.startswith("bill.") and isinstance(e.details, dict) and e.details.get("xero_invoice_id")
    ]
    if not wanted:
        return {}
    query = Q()
    for one in wanted:
        query |= one
    found = XeroBillRecord.objects.filter(query).only("integration_id", "invoice_id", "invoice_number")
    return {(b.integration_id, b.invoice_id): b for b in found}


def _commitments(page: list[AuditEntry]) -> dict[int, str]:
    """Procore commitment id -> its number, as the payments sent to it recorded it."""
    ids = {
        e.details.get("procore_commitment_id")
        for e in page
        if e.action.startswith("bill.") and isinstance(e.details, dict) and not e.details.get("commitment_label")
    } - {None}
    rows = (
        Payment.objects.filter(procore_commitment_id__in=[i for i in ids if isinstance(i, int)])
        .exclude(commitment_number="")
        .values_list("procore_commitment_id", "commitment_number")
        .distinct()
    )
    return dict(rows)


def _bill_of(payment: Payment) -> str:
    return payment.invoice_number or payment.xero_payment_id


def _payment_name(details: dict, payment: Payment | None) -> str:
    """ "Bill INV-0042 · Acme Pty Ltd · 1,200.00 AUD" from the entry, else from the payment row."""
    number = details.get("invoice_number") or (payment.invoice_number if payment else "")
    vendor = details.get("vendor_name") or (payment.vendor_name if payment else "")
    parts = [f"Bill {number}" if number else f"Payment #{details.get('payment_id')}", vendor]
    if payment is not None and payment.amount is not None:
        parts.append(f"{payment.amount:,.2f} {payment.currency_code}".strip())
    return " · ".join(part for part in parts if part)

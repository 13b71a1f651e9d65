"""Xero -> local rows, incrementally: payments, then the bills and contacts they need.

Each kind is read page by page (1,000 a page, oldest change first) from a durable watermark
minus an overlap window (not every change bumps UpdatedDateUTC to the second). A page is
upserted and the watermark moved in one transaction, so a crash or a day-limit pause keeps
everything fetched so far and the next run goes on from there. Deleted payments are read
too: they are reversals. Bills and contacts that the pages did not bring ("stragglers") are
fetched by id, at most 50 per call.

Paging by page number over a list ordered by UpdatedDateUTC loses rows when the list changes
while it is read (an edited row moves to the end and the rows behind it shift one place forward,
so one is never seen). So after each page the read starts again at page 1 from the newest change
seen so far (minus a second: If-Modified-Since has whole seconds): every row not read yet changed
at or after that moment, edited ones too. Page numbers move on only when a whole page changed
within the same second. Rows read twice are upserted twice, which changes nothing.

Xero is called outside any transaction: a token refresh during a call saves the rotated refresh
token for good, and SQLite's write lock is never held across an HTTP call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from django.db import transaction
from django.utils import timezone

from syncapp.connectors.protocols import XeroApi
from syncapp.connectors.types import Page, XeroBill, XeroContact, XeroPayment
from syncapp.core.text import fit, fitted
from syncapp.sync.company_currency import remember_base_currency
from syncapp.sync.conf import SyncConf
from syncapp.sync.models import (
    Payment,
    PaymentEvent,
    PaymentState,
    SyncCursor,
    SyncSettings,
    XeroBillRecord,
    XeroContactRecord,
)
from syncapp.sync.progress import RunContext
from syncapp.sync.resolve import BILL_PAYMENT

BY_IDS_CHUNK = 50  # Xero's Invoices?IDs= breaks above about 50 ids
OPEN_STATES = (PaymentState.NEW, PaymentState.BLOCKED, PaymentState.READY)
UNREADABLE_LOG_LINES = 20


def _overlap() -> dt.timedelta:
    return dt.timedelta(seconds=SyncConf.SYNC_OVERLAP_SECONDS)


def fetch_all(*, ctx: RunContext, xero: XeroApi) -> None:
    if ctx.run.bill_ids:
        return fetch_bills(ctx=ctx, xero=xero)
    integration = ctx.run.integration
    cursor, _ = SyncCursor.objects.get_or_create(integration=integration)
    ctx.phase("fetch")
    start = _payments_start(ctx, cursor)
    fetched = _paged(
        lambda page, since: xero.payments_page(page=page, modified_since=since),
        since=start,
        store=lambda items: _store_payments(ctx, items),
        cursor=cursor,
        field="payments_since",
        key=lambda item: item.payment_id,
        on_new=ctx.add_fetched,
    )
    ctx.log(
        f"Fetched {fetched} changed payments from Xero" + (f" (changed since {start:%Y-%m-%d %H:%M})" if start else "")
    )
    bills = _paged(
        lambda page, since: xero.bills_page(page=page, modified_since=since),
        since=_minus_overlap(cursor.bills_since),
        store=lambda items: _store_bills(integration, items),
        cursor=cursor,
        field="bills_since",
        key=lambda item: item.invoice_id,
    )
    contacts = _paged(
        lambda page, since: xero.contacts_page(page=page, modified_since=since),
        since=_minus_overlap(cursor.contacts_since),
        store=lambda items: _store_contacts(integration, items),
        cursor=cursor,
        field="contacts_since",
        key=lambda item: item.contact_id,
    )
    extra_bills, extra_contacts = _fetch_stragglers(ctx, xero)
    # Last, so a day limit that stops the run stops it after the payments, not before them.
    remember_base_currency(integration, xero)
    _log_unreadable(ctx, xero)
    ctx.log(
        f"Fetched {bills} changed bills and {contacts} changed contacts"
        + (f", plus {extra_bills} bills and {extra_contacts} contacts by id" if extra_bills or extra_contacts else "")
    )


def fetch_bills(*, ctx: RunContext, xero: XeroApi) -> None:
    """A targeted run (a Xero webhook named these bills): read the bills by id, and the payments
    of those that are supplier bills, DELETED ones included. The watermarks stay where they are:
    the next incremental run reads everything changed since them, these payments too."""
    integration = ctx.run.integration
    ctx.phase("fetch")
    bill_ids = list(ctx.run.bill_ids)
    bills: list[XeroBill] = []
    for chunk in _chunks(bill_ids, BY_IDS_CHUNK):
        bills.extend(xero.bills_by_ids(chunk))  # outside the transaction: see the module's docstring
    # A webhook says only "this invoice changed": whether it is a supplier bill is read here.
    supplier_bills = [bill for bill in bills if bill.type in ("ACCPAY", "")]
    payments = xero.payments_of_bills([bill.invoice_id for bill in supplier_bills]) if supplier_bills else []
    with transaction.atomic():
        _store_bills(integration, supplier_bills)
        if payments:
            _store_payments(ctx, payments)
    if payments:
        ctx.add_fetched(len({p.payment_id for p in payments}))
    extra_bills, extra_contacts = _fetch_stragglers(ctx, xero)
    remember_base_currency(integration, xero)
    _log_unreadable(ctx, xero)
    others = len(bill_ids) - len(supplier_bills)
    ctx.log(
        f"Fetched {len(payments)} payments of {len(supplier_bills)} supplier bills named by Xero webhooks"
        + (f" ({others} other invoices or unknown ids left out)" if others else "")
        + (f", plus {extra_bills} bills and {extra_contacts} contacts by id" if extra_bills or extra_contacts else "")
    )


def _log_unreadable(ctx: RunContext, xero: XeroApi) -> None:
    """Rows Xero sent without a usable id cannot become payments; the run's log says so, so a
    person sees that something was left out and why."""
    unreadable = getattr(xero, "unreadable", None) or []
    for line in unreadable[:UNREADABLE_LOG_LINES]:
        ctx.log(line, level="warning")
    if len(unreadable) > UNREADABLE_LOG_LINES:
        ctx.log(f"... and {len(unreadable) - UNREADABLE_LOG_LINES} more rows Xero sent without a usable id.")


def _payments_start(ctx: RunContext, cursor: SyncCursor) -> dt.datetime | None:
    if ctx.run.since:  # a backfill reads from the given day, whatever the watermark says
        return dt.datetime.combine(ctx.run.since, dt.time.min, tzinfo=dt.UTC)
    if cursor.payments_since:
        return _minus_overlap(cursor.payments_since)
    start_date = (
        SyncSettings.objects.filter(integration=ctx.run.integration).values_list("start_date", flat=True).first()
    )
    if start_date:
        return dt.datetime.combine(start_date, dt.time.min, tzinfo=dt.UTC)
    return None


def _minus_overlap(when: dt.datetime | None) -> dt.datetime | None:
    return when - _overlap() if when else None


def _paged(
    read: Callable[[int, dt.datetime | None], Page],
    *,
    since: dt.datetime | None,
    store: Callable[[list], None],
    cursor: SyncCursor,
    field: str,
    key: Callable[[object], str],
    on_new: Callable[[int], None] | None = None,
) -> int:
    """Read every row changed since `since`; store each page and move the watermark with it.
    Returns how many different rows were read."""
    seen: set[str] = set()
    page_number = 1
    while True:
        page = read(page_number, since)
        newest = max((item.updated_at for item in page.items if item.updated_at), default=None)
        if page.items:
            _store_page(page.items, store=store, cursor=cursor, field=field, newest=newest)
            fresh = {key(item) for item in page.items} - seen
            seen |= fresh
            if on_new is not None and fresh:
                on_new(len(fresh))
        if not page.has_more or not page.items:
            return len(seen)
        since, page_number = _next_read(since, page_number, newest)


def _store_page(
    items: list, *, store: Callable[[list], None], cursor: SyncCursor, field: str, newest: dt.datetime | None
) -> None:
    """The page's rows and the watermark they move, in one transaction (see the module's docstring)."""
    with transaction.atomic():
        store(items)
        current = getattr(cursor, field)
        # A backfill reads old pages: the watermark never moves back.
        if newest is not None and (current is None or newest > current):
            setattr(cursor, field, newest)
            SyncCursor.objects.filter(pk=cursor.pk).update(**{field: newest})


def _next_read(
    since: dt.datetime | None, page_number: int, newest: dt.datetime | None
) -> tuple[dt.datetime | None, int]:
    """Where the next read starts (since, page number) after a page whose newest change is `newest`."""
    restart = _restart_from(newest)
    if restart is not None and (since is None or restart > since):
        return restart, 1
    return since, page_number + 1  # the whole page changed within one second: only page numbers move on


def _restart_from(newest: dt.datetime | None) -> dt.datetime | None:
    """Where to read on from after a page whose newest change is `newest`: a second earlier, on
    a whole second (If-Modified-Since is to the second, and Xero's >= or > is not documented)."""
    if newest is None:
        return None
    return newest.replace(microsecond=0) - dt.timedelta(seconds=1)


# --- payments ------------------------------------------------------------------------------------


def _payment_fields(item: XeroPayment) -> dict:
    return {
        # Texts cut to the columns: a value Xero added since may be longer than any we know. Ids
        # are not cut: a cut id would name another row.
        **fitted(
            Payment,
            payment_type=item.payment_type,
            xero_status=item.status,
            currency_code=item.currency_code,
            reference=item.reference,
            invoice_number=item.invoice_number,
            vendor_name=item.contact_name,
        ),
        "date": item.date,
        "amount": item.amount,
        "batch_payment_id": item.batch_payment_id or "",
        "xero_invoice_id": item.invoice_id or "",
        "xero_contact_id": item.contact_id or "",
        "xero_updated_at": item.updated_at,
    }


def _store_payments(ctx: RunContext, items: list[XeroPayment]) -> None:
    integration = ctx.run.integration
    ids = [item.payment_id for item in items]
    existing = {p.xero_payment_id: p for p in Payment.objects.filter(integration=integration, xero_payment_id__in=ids)}
    new_rows: list[Payment] = []
    changed: list[Payment] = []
    events: list[PaymentEvent] = []
    seen: set[str] = set()
    for item in items:
        if item.payment_id in seen:  # an overlap can repeat a row within a page
            continue
        seen.add(item.payment_id)
        fields = _payment_fields(item)
        row = existing.get(item.payment_id)
        if row is None:
            new_rows.append(Payment(integration=integration, xero_payment_id=item.payment_id, **fields))
            continue
        if row.xero_status != item.status and item.status == "DELETED":
            events.append(PaymentEvent.objects.build(row, "deleted_in_xero", "Deleted in Xero", run=ctx.run))
        if any(getattr(row, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(row, name, value)
            row.updated_at = timezone.now()
            changed.append(row)
    Payment.objects.bulk_create(new_rows, batch_size=500)
    if changed:
        Payment.objects.bulk_update(changed, [*_payment_fields(items[0]).keys(), "updated_at"], batch_size=500)
    for row in new_rows:
        status = " (deleted)" if row.xero_status == "DELETED" else ""
        events.append(PaymentEvent.objects.build(row, "fetched", f"Fetched from Xero{status}", run=ctx.run))
    PaymentEvent.objects.bulk_create(events, batch_size=1000)


# --- bills and contacts ---------------------------------------------------------------------------


def _bill_fields(bill: XeroBill) -> dict:
    return {
        **fitted(
            XeroBillRecord,
            invoice_number=bill.invoice_number,
            reference=bill.reference,
            status=bill.status,
            contact_name=bill.contact_name,
            currency_code=bill.currency_code,
        ),
        "contact_id": bill.contact_id or "",
        "date": bill.date,
        "total": bill.total,
        "amount_paid": bill.amount_paid,
        "tracking": [f"{t.category}: {t.option}" for t in bill.tracking],
        "updated_at": bill.updated_at,
        "amount_credited": bill.amount_credited,
        "allocations": _allocations(bill),
    }


def _allocations(bill: XeroBill) -> list[dict]:
    """The credit notes, prepayments and overpayments allocated to the bill, as the JSON the bill
    row keeps: they settle part of it without a payment, which is why Procore shows less."""
    return [
        {
            "kind": a.kind,
            "number": fit(XeroBillRecord, "invoice_number", a.number),  # a document number, cut like the bill's
            "document_id": a.document_id,
            "amount": str(a.amount) if a.amount is not None else "",
            "date": a.date.isoformat() if a.date else "",
        }
        for a in bill.allocations
    ]


def _store_bills(integration, bills: Iterable[XeroBill]) -> None:
    rows = [
        XeroBillRecord(integration=integration, invoice_id=bill.invoice_id, **_bill_fields(bill))
        for bill in bills
        if bill.type in ("ACCPAY", "")
    ]
    _upsert(XeroBillRecord, rows, key="invoice_id", fields=_BILL_FIELDS)


def _contact_fields(contact: XeroContact) -> dict:
    return {
        **fitted(XeroContactRecord, name=contact.name, tax_number=contact.tax_number),
        "is_supplier": contact.is_supplier,
        "merged_to_contact_id": contact.merged_to_contact_id or "",
        "updated_at": contact.updated_at,
    }


_BILL_FIELDS = [
    "invoice_number",
    "reference",
    "status",
    "contact_id",
    "contact_name",
    "currency_code",
    "date",
    "total",
    "amount_paid",
    "tracking",
    "updated_at",
    "amount_credited",
    "allocations",
]
_CONTACT_FIELDS = ["name", "tax_number", "is_supplier", "merged_to_contact_id", "updated_at"]


def _store_contacts(integration, contacts: Iterable[XeroContact]) -> None:
    rows = [XeroContactRecord(integration=integration, contact_id=c.contact_id, **_contact_fields(c)) for c in contacts]
    _upsert(XeroContactRecord, rows, key="contact_id", fields=_CONTACT_FIELDS)


def _upsert(model, rows: list, *, key: str, fields: list[str]) -> None:
    """Insert or update by (integration, key); works the same on PostgreSQL and SQLite."""
    unique: dict[str, object] = {getattr(row, key): row for row in rows}
    if unique:
        model.objects.bulk_create(
            list(unique.values()),
            update_conflicts=True,
            unique_fields=["integration", key],
            update_fields=fields,
            batch_size=500,
        )


def _fetch_stragglers(ctx: RunContext, xero: XeroApi) -> tuple[int, int]:
    """Bills and contacts that open payments need but the incremental pages did not bring."""
    integration = ctx.run.integration
    wanted_bills = set(
        # Only bill payments: a refund may embed its credit note as an `Invoice` (see the
        # sandbox's SANDBOX_XERO_OTHER_DOCUMENT_EMBED), whose id is no bill to look up.
        Payment.objects.filter(integration=integration, state__in=OPEN_STATES, payment_type=BILL_PAYMENT)
        .exclude(xero_invoice_id="")
        .values_list("xero_invoice_id", flat=True)
        .distinct()
    )
    have_bills = set(
        XeroBillRecord.objects.filter(integration=integration, invoice_id__in=wanted_bills).values_list(
            "invoice_id", flat=True
        )
    )
    missing_bills = sorted(wanted_bills - have_bills)
    for chunk in _chunks(missing_bills, BY_IDS_CHUNK):
        bills = xero.bills_by_ids(chunk)  # outside the transaction: see the module's docstring
        with transaction.atomic():
            _store_bills(integration, bills)
    wanted_contacts = set(
        XeroBillRecord.objects.filter(integration=integration, invoice_id__in=wanted_bills)
        .exclude(contact_id="")
        .values_list("contact_id", flat=True)
    )
    # A merged contact's payments follow the contact it was merged into.
    wanted_contacts |= set(
        XeroContactRecord.objects.filter(integration=integration)
        .exclude(merged_to_contact_id="")
        .values_list("merged_to_contact_id", flat=True)
    )
    have_contacts = set(XeroContactRecord.objects.filter(integration=integration).values_list("contact_id", flat=True))
    missing_contacts = sorted(wanted_contacts - have_contacts)
    for chunk in _chunks(missing_contacts, BY_IDS_CHUNK):
        contacts = xero.contacts_by_ids(chunk)
        with transaction.atomic():
            _store_contacts(integration, contacts)
    return len(missing_bills), len(missing_contacts)


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]

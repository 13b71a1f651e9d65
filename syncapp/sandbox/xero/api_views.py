"""The sandbox Xero Accounting API (read side): Organisation, Contacts, Invoices, Payments.

Every call goes through `_api_call`, which does what Xero's gateway does, in its order: bearer
token (401), scope (401), `xero-tenant-id` (403), injected faults, rate limits (429, and the
remaining-calls headers on every answer). The handlers then filter with If-Modified-Since,
`where`, `order`, the id lists and paging, and build Xero's JSON straight from rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable
from email.utils import parsedate_to_datetime

from django.contrib.auth.decorators import login_not_required
from django.db.models import Max, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from syncapp.sandbox.faults import behaviour, injected_fault
from syncapp.sandbox.xero import limits, payloads
from syncapp.sandbox.xero.identity import BearerError, bearer_token, connected_organisation, may_read
from syncapp.sandbox.xero.models import Contact, Invoice, Organisation, Payment, Token
from syncapp.sandbox.xero.responses import (
    forbidden,
    json_response,
    missing_scope,
    not_found,
    query_error,
    too_many_requests,
    unauthorized,
)
from syncapp.sandbox.xero.where import (
    CONTACT_FIELDS,
    INVOICE_FIELDS,
    PAYMENT_FIELDS,
    QueryError,
    parse_order,
    parse_where,
)

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

Handler = Callable[[HttpRequest, Organisation, Token], HttpResponse]


def _api_call(request: HttpRequest, *, resource: str, handler: Handler) -> HttpResponse:
    current = behaviour("xero")
    try:
        token = bearer_token(
            request.headers.get("Authorization", ""),
            expire_before=current.updated_at if current.expire_tokens else None,
        )
    except BearerError as error:
        return unauthorized(expired=error.expired)
    if not may_read(token, resource):
        return missing_scope()
    tenant_header = request.headers.get("xero-tenant-id", "").strip()
    if not tenant_header:
        return forbidden(detail="AuthenticationUnsuccessful")
    organisation = connected_organisation(token, tenant_header)
    if organisation is None:
        return forbidden(detail="AuthorizationUnsuccessful")

    tenant_id = str(organisation.tenant_id)
    client_id = token.client.client_id
    limit_args = {
        "tenant_id": tenant_id,
        "client_id": client_id,
        "minute_limit": current.minute_limit,
        "day_limit": current.day_limit,
    }

    def throttled() -> HttpResponse:
        # An injected 429 looks like a real minute-limit refusal.
        remaining = limits.current(**limit_args).headers()
        return too_many_requests(
            {**remaining, "X-MinLimit-Remaining": "0", "Retry-After": "1", "X-Rate-Limit-Problem": "minute"}
        )

    fault = injected_fault(current, throttled)
    if fault is not None:
        return fault
    verdict = limits.acquire(**limit_args)
    if not verdict.allowed:
        return too_many_requests(verdict.headers())
    try:
        response = handler(request, organisation, token)
    finally:
        limits.release(tenant_id)
    for name, value in verdict.headers().items():
        response[name] = value
    return response


def _endpoint(resource: str, handler: Handler):
    """A view for one API resource: public to machines (no product login, no CSRF), GET only."""

    @csrf_exempt
    @login_not_required
    @require_GET
    def view(request: HttpRequest, **kwargs) -> HttpResponse:
        return _api_call(
            request, resource=resource, handler=lambda req, org, tok: handler(req, org, tok, **kwargs)
        )

    view.__name__ = f"xero_{handler.__name__}"
    return view


# --- Query helpers ---------------------------------------------------------------------------


def modified_since(request: HttpRequest) -> dt.datetime | None:
    """The If-Modified-Since instant, floored to the second (Xero's precision). xero-python sends
    ISO 8601 (`datetime.isoformat()`, naive means UTC); browsers and curl send an HTTP date."""
    raw = request.headers.get("If-Modified-Since", "").strip()
    if not raw:
        return None
    try:
        value = parse_datetime(raw)
    except ValueError:
        value = None
    if value is None:
        try:
            value = parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).replace(microsecond=0)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def paging(request: HttpRequest) -> tuple[int, int] | None:
    """(page, pageSize) when the caller pages; None means "everything", as Xero does without it."""
    page = _int(request.GET.get("page"))
    size = _int(request.GET.get("pageSize"))
    if page is None and size is None:
        return None
    page = max(1, page or 1)
    size = DEFAULT_PAGE_SIZE if size is None or size < 1 else min(size, MAX_PAGE_SIZE)
    return page, size


def id_list(request: HttpRequest, name: str) -> list[str]:
    return [part.strip().strip('"') for part in request.GET.get(name, "").split(",") if part.strip()]


def filtered(
    request: HttpRequest, rows: QuerySet, *, fields: dict, type_name: str, default_order: list[str]
) -> QuerySet:
    """Apply If-Modified-Since, `where` and `order`. Raises QueryError for Xero's 400."""
    since = modified_since(request)
    if since is not None:
        rows = rows.filter(updated_at__gte=since)
    where = request.GET.get("where", "")
    if where:
        rows = rows.filter(parse_where(where, fields=fields, type_name=type_name))
    order = parse_order(request.GET.get("order", ""), fields=fields, type_name=type_name) or default_order
    # The primary key last keeps pages stable when the ordered field has ties.
    return rows.order_by(*order, "pk")


def page_of(rows: QuerySet, request: HttpRequest) -> tuple[QuerySet, dict | None]:
    window = paging(request)
    if window is None:
        return rows, None
    page, size = window
    total = rows.count()
    start = (page - 1) * size
    return rows[start : start + size], payloads.pagination(page=page, page_size=size, item_count=total)


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


# --- Handlers ----------------------------------------------------------------------------------


def organisation_handler(request: HttpRequest, organisation: Organisation, token: Token) -> HttpResponse:
    body = payloads.envelope(
        provider_name=token.client.name, key="Organisations", items=[payloads.organisation_json(organisation)]
    )
    return json_response(body)


def contacts_handler(request: HttpRequest, organisation: Organisation, token: Token, contact_id: str = ""):
    rows = Contact.objects.filter(organisation=organisation)
    if contact_id:
        key = _uuid_or_none(contact_id)
        contact = rows.filter(Q(contact_id=key) if key else Q(contact_number=contact_id)).first()
        if contact is None:
            return not_found()
        items = [payloads.contact_json(contact)]
        return json_response(payloads.envelope(provider_name=token.client.name, key="Contacts", items=items))
    ids = id_list(request, "IDs")
    if ids:
        rows = rows.filter(contact_id__in=[key for key in map(_uuid_or_none, ids) if key])
    # Archived contacts show when asked for by id or with includeArchived, as in Xero.
    if not ids and request.GET.get("includeArchived", "").lower() != "true":
        rows = rows.exclude(status="ARCHIVED")
    search = request.GET.get("searchTerm", "").strip()
    if search:
        rows = rows.filter(
            Q(name__icontains=search) | Q(contact_number__icontains=search) | Q(email__icontains=search)
        )
    try:
        rows = filtered(request, rows, fields=CONTACT_FIELDS, type_name="Contact", default_order=["name"])
    except QueryError as error:
        return query_error(str(error))
    page, envelope_paging = page_of(rows, request)
    items = [payloads.contact_json(contact) for contact in page]
    body = payloads.envelope(provider_name=token.client.name, key="Contacts", items=items, pagination=envelope_paging)
    return json_response(body)


def _invoices_json(invoices: list[Invoice], *, summary_only: bool) -> list[dict]:
    """Invoices with their live payments and allocated documents: three queries whatever the
    page size."""
    by_invoice: dict[int, list[dict]] = defaultdict(list)
    allocations: dict[str, list[dict]] = defaultdict(list)
    if not summary_only and invoices:
        for row in (
            Payment.objects.filter(invoice_id__in=[invoice.pk for invoice in invoices], status="AUTHORISED")
            .order_by("date", "pk")
            .values("invoice_id", "payment_id", "date", "amount", "reference", "currency_rate")
        ):
            by_invoice[row["invoice_id"]].append(row)
    if invoices:
        # AmountCredited is sent even with summaryOnly, so the allocations are read either way.
        for row in Invoice.objects.filter(
            organisation_id=invoices[0].organisation_id,
            type__in=payloads.ALLOCATED_DOCUMENT_TYPES,
            reference__in=[str(invoice.invoice_id) for invoice in invoices],
        ).values(*payloads.ALLOCATION_COLUMNS):
            allocations[row["reference"]].append(row)
    return [
        payloads.invoice_json(
            invoice,
            payment_rows=by_invoice[invoice.pk],
            summary_only=summary_only,
            allocation_rows=allocations[str(invoice.invoice_id)],
        )
        for invoice in invoices
    ]


def invoices_handler(request: HttpRequest, organisation: Organisation, token: Token, invoice_id: str = ""):
    # Allocated credit notes, prepayments and overpayments are stored as Invoice rows of their own
    # types (see payloads); Xero lists them on their own endpoints, never under /Invoices.
    rows = (
        Invoice.objects.filter(organisation=organisation)
        .exclude(type__in=payloads.ALLOCATED_DOCUMENT_TYPES)
        .select_related("contact")
    )
    summary_only = request.GET.get("summaryOnly", "").lower() == "true"
    if invoice_id:
        key = _uuid_or_none(invoice_id)
        invoice = rows.filter(Q(invoice_id=key) if key else Q(invoice_number=invoice_id)).first()
        if invoice is None:
            return not_found()
        items = _invoices_json([invoice], summary_only=False)
        return json_response(payloads.envelope(provider_name=token.client.name, key="Invoices", items=items))
    ids = id_list(request, "IDs")
    if ids:
        rows = rows.filter(invoice_id__in=[key for key in map(_uuid_or_none, ids) if key])
    contact_ids = id_list(request, "ContactIDs")
    if contact_ids:
        rows = rows.filter(contact__contact_id__in=[key for key in map(_uuid_or_none, contact_ids) if key])
    numbers = id_list(request, "InvoiceNumbers")
    if numbers:
        rows = rows.filter(invoice_number__in=numbers)
    statuses = id_list(request, "Statuses")
    if statuses:
        rows = rows.filter(status__in=[status.upper() for status in statuses])
    try:
        rows = filtered(request, rows, fields=INVOICE_FIELDS, type_name="Invoice", default_order=["updated_at"])
    except QueryError as error:
        return query_error(str(error))
    page, envelope_paging = page_of(rows, request)
    items = _invoices_json(list(page), summary_only=summary_only)
    body = payloads.envelope(provider_name=token.client.name, key="Invoices", items=items, pagination=envelope_paging)
    return json_response(body)


def _batches(batch_ids: list) -> dict:
    """BatchPaymentID -> {"total", "updated_at"} of its live payments: one query for a page."""
    wanted = {batch_id for batch_id in batch_ids if batch_id}
    if not wanted:
        return {}
    rows = (
        Payment.objects.filter(batch_payment_id__in=wanted, status="AUTHORISED")
        .values("batch_payment_id")
        .annotate(total=Sum("amount"), updated_at=Max("updated_at"))
        .order_by()
    )
    return {row["batch_payment_id"]: {"total": row["total"], "updated_at": row["updated_at"]} for row in rows}


def payments_handler(request: HttpRequest, organisation: Organisation, token: Token, payment_id: str = ""):
    rows = Payment.objects.filter(organisation=organisation)
    if payment_id:
        key = _uuid_or_none(payment_id)
        row = rows.filter(payment_id=key).values(*payloads.PAYMENT_COLUMNS).first() if key else None
        if row is None:
            return not_found()
        items = [payloads.payment_json(row, batches=_batches([row["batch_payment_id"]]))]
        return json_response(payloads.envelope(provider_name=token.client.name, key="Payments", items=items))
    try:
        rows = filtered(request, rows, fields=PAYMENT_FIELDS, type_name="Payment", default_order=["updated_at"])
    except QueryError as error:
        return query_error(str(error))
    page, envelope_paging = page_of(rows.values(*payloads.PAYMENT_COLUMNS), request)
    page = list(page)
    batches = _batches([row["batch_payment_id"] for row in page])
    items = [payloads.payment_json(row, batches=batches) for row in page]
    body = payloads.envelope(provider_name=token.client.name, key="Payments", items=items, pagination=envelope_paging)
    return json_response(body)


organisation = _endpoint("Organisation", organisation_handler)
contacts = _endpoint("Contacts", contacts_handler)
invoices = _endpoint("Invoices", invoices_handler)
payments = _endpoint("Payments", payments_handler)


@csrf_exempt
@login_not_required
@require_POST
def reset_limits(request: HttpRequest) -> HttpResponse:
    """Sandbox control (no Xero equivalent): forget the counted calls, for benchmarks that drive a
    server in another process and cannot call `limits.reset()` themselves."""
    limits.reset()
    return HttpResponse(status=204)

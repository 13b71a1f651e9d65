"""Downloads of the Payments list, the failure queue and the audit log as CSV or XLSX, with the
filters the page has in its URL (read by the page's own code: PaymentFilterSet, AuditFilterForm),
so finance keeps its evidence outside the tool. Who may download is who may see the page. Every
download is in the audit log: who, which list, which filters, how many rows.

Readable columns first (vendor, bill number, date, amount, currency, state, reason), ids last.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from syncapp.core import audit, exports
from syncapp.core.exports import Column
from syncapp.core.models import AuditEntry
from syncapp.core.roles import admin_required, finance_required
from syncapp.dashboard import audit_log, selectors
from syncapp.dashboard.views import audit as audit_view
from syncapp.dashboard.views import payments as payments_view
from syncapp.dashboard.views.common import page_integration
from syncapp.sync.models import Payment, PaymentState

CHUNK = 2000  # rows read from the database at a time

PAYMENT_COLUMNS = [
    Column("Vendor", width=32),
    Column("Bill number", width=18),
    Column("Date", "date", 12),
    Column("Amount", "money", 14),
    Column("Currency", width=9),
    Column("State", width=14),
    Column("Reason", width=60),
    Column("Project", width=28),
    Column("Commitment", width=16),
    Column("Reference", width=20),
    Column("Last updated", "datetime", 19),
    Column("Reason code", width=20),
    Column("Xero payment id", width=38),
    Column("Procore payment id", "id", 20),
    Column("Payment id", "int", 11),
]
FAILURE_COLUMNS = [
    *PAYMENT_COLUMNS[:7],
    Column("Fix", width=60),
    Column("Last error", width=60),
    *PAYMENT_COLUMNS[7:],
]
AUDIT_COLUMNS = [
    Column("When", "datetime", 19),
    Column("Who", width=20),
    Column("Action", width=28),
    Column("About", width=40),
    Column("What", width=80),
    Column("Integration", width=20),
    Column("Action code", width=26),
    Column("Entry id", "int", 10),
]


def _format(fmt: str) -> str:
    if fmt not in exports.FORMATS:
        raise Http404("Downloads are CSV or XLSX.")
    return fmt


def _said(chosen: dict) -> dict[str, str]:
    """The filters as the audit entry keeps them (JSON: dates and amounts as text)."""
    return {name: str(value) for name, value in chosen.items()}


def _record(request: HttpRequest, *, action: str, what: str, fmt: str, rows: int, chosen: dict, integration) -> None:
    filters = _said(chosen)
    scope = "; ".join(f"{name.replace('_', ' ')}: {value}" for name, value in filters.items())
    audit.record(
        action=action,
        summary=f"Downloaded {what} as {fmt.upper()} ({rows:,} row{'s' if rows != 1 else ''}"
        + (f"; {scope})" if scope else ", no filters)"),
        actor=request.user,
        integration=integration,
        format=fmt,
        rows=rows,
        filters=filters,
    )


def _payment_values(payment: Payment, *, failure: bool = False) -> list:
    sending = payment.state == PaymentState.SENDING
    reason = payment.message or (selectors.STUCK_SENDING_MESSAGE if sending else "")
    values = [
        payment.vendor_name,
        payment.invoice_number,
        payment.date,
        payment.amount,
        payment.currency_code,
        payment.get_state_display(),
        reason,
    ]
    if failure:
        values += [payment.fix or (selectors.STUCK_SENDING_FIX if sending else ""), payment.last_error]
    return values + [
        payment.project_name,
        payment.commitment_number,
        payment.reference,
        payment.updated_at,
        payment.reason_code,
        payment.xero_payment_id,
        payment.procore_payment_id,
        payment.pk,
    ]


@require_GET
@finance_required
def payments_export(request: HttpRequest, fmt: str) -> HttpResponse:
    fmt = _format(fmt)
    _, integration = page_integration(request)
    filterset = payments_view.list_filters(request, integration=integration)
    qs = filterset.qs
    rows = qs.order_by().count()
    _record(
        request,
        action="payments.downloaded",
        what="the payments list",
        fmt=fmt,
        rows=rows,
        chosen=filterset.chosen,
        integration=integration,
    )
    return exports.response(
        fmt=fmt,
        columns=PAYMENT_COLUMNS,
        rows=(_payment_values(p) for p in qs.iterator(chunk_size=CHUNK)),
        stem=exports.file_stem("payments", integration.name if integration else ""),
        title="Payments",
    )


@require_GET
@admin_required
def failures_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The failure queue, every payment of every group, in the page's order (biggest group first)."""
    fmt = _format(fmt)
    _, integration = page_integration(request)
    groups = selectors.failure_groups(integration=integration) if integration else []
    _record(
        request,
        action="failures.downloaded",
        what="the failure queue",
        fmt=fmt,
        rows=sum(g.count for g in groups),
        chosen={},
        integration=integration,
    )

    def rows() -> Iterator[list]:
        for group in groups:
            payments = selectors.group_payments(
                integration=integration, state=group.state, reason_code=group.reason_code
            )
            for payment in payments.iterator(chunk_size=CHUNK):
                yield _payment_values(payment, failure=True)

    return exports.response(
        fmt=fmt,
        columns=FAILURE_COLUMNS,
        rows=rows(),
        stem=exports.file_stem("failures", integration.name if integration else ""),
        title="Failure queue",
    )


@require_GET
@admin_required
def audit_export(request: HttpRequest, fmt: str) -> HttpResponse:
    fmt = _format(fmt)
    _, chosen, filters = audit_view.list_filters(request)
    qs = audit_log.entries(filters=filters)
    # The file holds the entries there are now: not the download's own entry, nor any later one.
    newest = qs.order_by("-id").values_list("id", flat=True).first()
    qs = qs.filter(id__lte=newest) if newest else qs.none()
    _record(
        request,
        action="audit.downloaded",
        what="the audit log",
        fmt=fmt,
        rows=qs.count(),
        chosen=chosen,
        integration=None,
    )
    return exports.response(
        fmt=fmt,
        columns=AUDIT_COLUMNS,
        rows=_audit_values(qs),
        stem=exports.file_stem("audit-log"),
        title="Audit log",
    )


def _audit_values(qs) -> Iterator[list]:
    entries: Iterable[AuditEntry] = qs.iterator(chunk_size=CHUNK)
    while batch := list(islice(entries, CHUNK)):
        for entry in audit_log.describe(batch):
            yield [
                entry.at,
                entry.actor.get_username() if entry.actor else "System",
                entry.label,
                entry.about,
                entry.text,
                entry.integration.name if entry.integration else "",
                entry.action,
                entry.pk,
            ]

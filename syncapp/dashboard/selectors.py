"""Read-only queries behind the dashboard pages (the sync engine's models, never written here).

Each function is one page's need, in as few queries as the page allows: counts in one GROUP BY,
lists with the columns they show, no per-row lookups (the Payment row carries its own names).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.utils import timezone

from syncapp.connections.models import Connection, ConnectionStatus, Integration, Provider
from syncapp.core.models import AuditEntry
from syncapp.sync import outcomes
from syncapp.sync.models import (
    ACTIVE_RUN_STATES,
    BillLink,
    LinkHow,
    Payment,
    PaymentEvent,
    PaymentState,
    RunLogLine,
    SyncRun,
    VendorLink,
    XeroBillRecord,
    XeroContactRecord,
)
from syncapp.sync.reasons import BILL_REASONS, VENDOR_REASONS, reason_title

CHOICES_LIMIT = 500
CHOICES_CACHE_SECONDS = 300

# --- Integrations and connections ---------------------------------------------------------------


def list_integrations() -> list[Integration]:
    return list(Integration.objects.order_by("name"))


def pick_integration(*, name: str | None, integrations: list[Integration]) -> Integration | None:
    """The integration a page shows: the one named in ?integration= (None when no such one exists,
    so a stale form never acts on another integration), else the first."""
    if name:
        return next((integration for integration in integrations if integration.name == name), None)
    return integrations[0] if integrations else None


@dataclass
class ConnectionHealth:
    provider: str  # xero | procore
    label: str  # "Xero" | "Procore"
    status: str  # connected | needs_reconnect | disconnected | missing
    status_label: str
    tenant_name: str = ""
    last_success_at: dt.datetime | None = None
    last_error: str = ""
    last_error_at: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return self.status == ConnectionStatus.CONNECTED

    @property
    def warning(self) -> bool:
        """Connected, but a call failed lately: within RECENT_ERROR, or with no call that worked
        since (a run that failed on Procore 502s must not leave the card a plain green)."""
        if not self.ok or self.last_error_at is None:
            return False
        recent = self.last_error_at >= timezone.now() - RECENT_ERROR
        return recent or self.last_success_at is None or self.last_success_at < self.last_error_at


# How long a connection's card shows "recent errors" after a call failed, even if calls work again.
RECENT_ERROR = dt.timedelta(hours=1)


def connection_health(*, integration: Integration | None) -> list[ConnectionHealth]:
    """Xero's and Procore's connection of an integration, including the ones not made yet."""
    found = {}
    if integration is not None:
        found = {c.provider: c for c in Connection.objects.filter(integration=integration)}
    health = []
    for provider in (Provider.XERO, Provider.PROCORE):
        conn = found.get(provider.value)
        if conn is None:
            health.append(ConnectionHealth(provider.value, provider.label, "missing", "Not connected"))
            continue
        health.append(
            ConnectionHealth(
                provider=provider.value,
                label=provider.label,
                status=conn.status,
                status_label=conn.get_status_display(),
                tenant_name=conn.tenant_name,
                last_success_at=conn.last_success_at,
                last_error=conn.last_error,
                last_error_at=conn.last_error_at,
            )
        )
    return health


# --- Runs ---------------------------------------------------------------------------------------


def active_run(*, integration: Integration | None) -> SyncRun | None:
    if integration is None:
        return None
    return (
        SyncRun.objects.filter(integration=integration, state__in=["queued", "running"])
        .select_related("requested_by")
        .first()
    )


def recent_runs(*, integration: Integration | None, limit: int = 5) -> list[SyncRun]:
    if integration is None:
        return []
    return list(SyncRun.objects.filter(integration=integration).select_related("requested_by")[:limit])


def runs_page(*, integration: Integration | None) -> QuerySet[SyncRun]:
    qs = SyncRun.objects.select_related("requested_by", "integration")
    if integration is not None:
        qs = qs.filter(integration=integration)
    return qs.order_by("-created_at", "-id")


def log_lines_after(*, run: SyncRun, after: int, limit: int = 500) -> list[RunLogLine]:
    """The run's log lines with id > after (the tail's cursor), oldest first."""
    return list(RunLogLine.objects.filter(run=run, id__gt=after).order_by("id")[:limit])


def last_log_lines(*, run: SyncRun, limit: int = 200) -> list[RunLogLine]:
    lines = list(RunLogLine.objects.filter(run=run).order_by("-id")[:limit])
    lines.reverse()
    return lines


@dataclass
class Outcome:
    key: str
    label: str  # "Already in Procore": headings, legends
    count: int
    percent: float
    phrase: str = ""  # "already in Procore": after the number in a sentence
    start: float = 0.0  # where the segment begins on the bar, in percent

    @property
    def middle(self) -> float:
        return self.start + self.percent / 2


def run_outcomes(*, run: SyncRun) -> list[Outcome]:
    """The run's final outcomes as segments of one bar (only outcomes that happened), in the order
    and with the words of `syncapp.sync.outcomes`."""
    counted = outcomes.ordered(run.counts or {})
    total = sum(n for _, n in counted)
    bar: list[Outcome] = []
    start = 0.0
    for key, n in counted if total else []:
        bar.append(Outcome(key, outcomes.label(key), n, 100 * n / total, outcomes.phrase(key), start=start))
        start += 100 * n / total
    return bar


# --- Payments -----------------------------------------------------------------------------------


def state_counts(*, integration: Integration | None) -> dict[str, int]:
    if integration is None:
        return {}
    rows = Payment.objects.filter(integration=integration).values_list("state").annotate(n=Count("id")).order_by()
    return {state: n for state, n in rows}


def already_in_procore_count(*, integration: Integration | None) -> int:
    """Sent payments a run found in Procore already instead of creating them: the Sent tile
    counts them, a run's "sent" does not (it says "already in Procore")."""
    if integration is None:
        return 0
    return (
        PaymentEvent.objects.filter(
            payment__integration=integration,
            payment__state=PaymentState.SENT,
            kind="sent",
            message__startswith=outcomes.ALREADY_IN_PROCORE_EVENT,
        )
        .values("payment_id")
        .distinct()
        .count()
    )


@dataclass
class DayBar:
    day: dt.date
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    sent_amount: Decimal = Decimal("0")
    blocked_amount: Decimal = Decimal("0")
    failed_amount: Decimal = Decimal("0")


def daily_outcomes(*, integration: Integration | None, days: int = 28, today: dt.date | None = None) -> list[DayBar]:
    """Per Xero payment date over the last `days` days: how many payments (and how much) are now
    sent, blocked or failed. One grouped query."""
    today = today or timezone.localdate()
    start = today - dt.timedelta(days=days - 1)
    bars = {start + dt.timedelta(days=i): DayBar(start + dt.timedelta(days=i)) for i in range(days)}
    if integration is None:
        return list(bars.values())
    rows = (
        Payment.objects.filter(
            integration=integration, date__gte=start, date__lte=today, state__in=["sent", "blocked", "failed"]
        )
        .values_list("date", "state")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by()
    )
    for day, state, n, total in rows:
        bar = bars[day]
        setattr(bar, state, n)
        setattr(bar, f"{state}_amount", total or Decimal("0"))
    return list(bars.values())


# --- Payments list ----------------------------------------------------------------------------

# Only what the list shows: the wide columns (last_error, fix...) stay on the detail page.
LIST_COLUMNS = [
    "id",
    "integration_id",
    "xero_payment_id",
    "date",
    "amount",
    "currency_code",
    "reference",
    "invoice_number",
    "vendor_name",
    "project_name",
    "commitment_number",
    "state",
    "reason_code",
    "message",
    "procore_payment_id",
    "updated_at",
]


def payment_rows(*, integration: Integration | None) -> QuerySet[Payment]:
    """The payments list before its filters (dashboard.filters.PaymentFilterSet): one integration's
    payments (every one's when there is none), with the columns the list shows."""
    qs = Payment.objects.all() if integration is None else Payment.objects.filter(integration=integration)
    return qs.only(*LIST_COLUMNS)


def _distinct(integration: Integration, column: str) -> list[str]:
    qs = Payment.objects.filter(integration=integration).exclude(**{column: ""})
    return list(qs.order_by(column).values_list(column, flat=True).distinct()[:CHOICES_LIMIT])


def filter_choices(*, integration: Integration | None) -> dict[str, list[str]]:
    """Vendor and project names for the filter menus. A DISTINCT over every payment costs tens of
    milliseconds at 100,000 rows, so the lists are cached until the next run starts (or a few
    minutes pass): they change only when a run brings new payments."""
    if integration is None:
        return {"vendors": [], "projects": []}
    last_run = SyncRun.objects.filter(integration=integration).order_by("-id").values_list("id", flat=True).first()
    key = f"dashboard:choices:{integration.pk}:{last_run or 0}"
    choices = cache.get(key)
    if choices is None:
        choices = {"vendors": _distinct(integration, "vendor_name"), "projects": _distinct(integration, "project_name")}
        cache.set(key, choices, CHOICES_CACHE_SECONDS)
    return choices


# --- Failure queue ------------------------------------------------------------------------------


@dataclass
class FailureGroup:
    state: str
    reason_code: str
    title: str  # the reason, without any one bill's specifics
    message: str  # what every payment of the group says, or "" when they differ
    fix: str  # likewise
    count: int
    totals: list[tuple[str, Decimal]]  # (currency, amount), one per currency, biggest first
    payments: list[Payment]


# What a group of payments left "sending" by a stopped run says (such rows carry no message).
STUCK_SENDING_MESSAGE = "Left half-sent by a run that stopped before it recorded the outcome."
STUCK_SENDING_FIX = (
    "Run Get All Payments: the next run looks in Procore first, records it as sent if it is there "
    "and sends it otherwise (never twice)."
)


def failure_payments(*, integration: Integration) -> QuerySet[Payment]:
    """Every payment the failure queue lists: blocked, failed, reversals that need a person, and
    payments left "sending" by a run that is over."""
    stuck_sending = Q(state=PaymentState.SENDING) & ~Q(claimed_by_run__state__in=ACTIVE_RUN_STATES)
    return Payment.objects.filter(integration=integration).filter(
        Q(state__in=[PaymentState.BLOCKED, PaymentState.FAILED, PaymentState.NEEDS_ATTENTION]) | stuck_sending
    )


def group_payments(*, integration: Integration, state: str, reason_code: str) -> QuerySet[Payment]:
    """One failure group's payments in the order the queue shows them (newest first)."""
    return (
        failure_payments(integration=integration)
        .filter(state=state, reason_code=reason_code)
        .only(*LIST_COLUMNS, "fix", "last_error")
        .order_by("-date", "-id")
    )


def failure_groups(*, integration: Integration | None, per_group: int = 10) -> list[FailureGroup]:
    """Blocked and failed payments, reversals that need attention, and payments left "sending" by
    a run that is over, grouped by reason, biggest group first, with the first few rows of each
    (one query for the groups, one per group for its rows: a handful of reasons)."""
    if integration is None:
        return []
    base = failure_payments(integration=integration)
    groups = (
        base.values("state", "reason_code")
        .annotate(n=Count("id"), messages=Count("message", distinct=True), fixes=Count("fix", distinct=True))
        .order_by("-n")
    )
    totals: dict[tuple[str, str], list[tuple[str, Decimal]]] = {}
    for row in (
        base.values("state", "reason_code", "currency_code").annotate(total=Sum("amount")).order_by("-total")
    ):
        key = (row["state"], row["reason_code"])
        totals.setdefault(key, []).append((row["currency_code"], row["total"] or Decimal("0")))
    result = []
    for row in groups:
        group = group_payments(integration=integration, state=row["state"], reason_code=row["reason_code"])
        rows = list(group[:per_group])
        first = rows[0] if rows else None
        sending = row["state"] == PaymentState.SENDING
        # The group's words are its reason's; a message or fix is the group's only when every
        # payment of it says the same (one bill's message must not title a group of three).
        message = first.message if first and row["messages"] == 1 else ""
        fix = first.fix if first and row["fixes"] == 1 else ""
        result.append(
            FailureGroup(
                state=row["state"],
                reason_code=row["reason_code"],
                title="Left half-sent by a stopped run" if sending else reason_title(row["reason_code"]),
                message=STUCK_SENDING_MESSAGE if sending else message,
                fix=STUCK_SENDING_FIX if sending else fix,
                count=row["n"],
                totals=totals.get((row["state"], row["reason_code"]), []),
                payments=rows,
            )
        )
    return result


# --- Audit log ----------------------------------------------------------------------------------


def audit_entries(*, action: str = "") -> QuerySet[AuditEntry]:
    qs = AuditEntry.objects.select_related("actor", "integration")
    if action:
        qs = qs.filter(action=action)
    return qs.order_by("-at", "-id")


def audit_actions() -> list[str]:
    return list(AuditEntry.objects.order_by("action").values_list("action", flat=True).distinct())


# --- One payment --------------------------------------------------------------------------------


def payment_context(*, payment: Payment) -> dict:
    """What the detail page shows beside the payment row: its history, the Xero bill and contact
    as last fetched, and the vendor and bill links in force."""
    events = list(PaymentEvent.objects.filter(payment=payment).select_related("actor").order_by("at", "id"))
    bill = XeroBillRecord.objects.filter(
        integration_id=payment.integration_id, invoice_id=payment.xero_invoice_id
    ).first()
    vendor_link = (
        VendorLink.objects.filter(
            integration_id=payment.integration_id, xero_contact_id=payment.xero_contact_id
        ).first()
        if payment.xero_contact_id
        else None
    )
    bill_link = (
        BillLink.objects.filter(integration_id=payment.integration_id, xero_invoice_id=payment.xero_invoice_id).first()
        if payment.xero_invoice_id
        else None
    )
    return {
        "events": events,
        "bill": bill,
        "vendor_link": vendor_link,
        "bill_link": bill_link,
        "allocation_lines": allocation_lines(bill=bill) if bill else [],
    }


def allocation_lines(*, bill: XeroBillRecord) -> list[str]:
    """One line per credit note, prepayment or overpayment allocated to the bill in Xero: it
    settled part of the bill without a payment, so Procore (which gets payments only) shows less
    than the bill's total. The date is the allocated document's own (Xero lists no other)."""
    lines = []
    for allocation in bill.allocations or []:
        kind = allocation.get("kind") or "credit"
        name = f"{kind} {allocation['number']}" if allocation.get("number") else kind
        try:
            amount = f"{Decimal(allocation.get('amount') or '0'):,.2f}"
        except ArithmeticError:
            amount = "?"
        when = f" on {allocation['date']}" if allocation.get("date") else ""
        lines.append(f"Settled by allocation, not a payment: {name}, {amount} {bill.currency_code}{when}".rstrip())
    if not lines and bill.amount_credited:
        # AmountCredited without the lists behind it (e.g. a summary answer): say what is known.
        lines.append(
            f"Settled by allocation, not a payment: {bill.amount_credited:,.2f} {bill.currency_code} in credit "
            "notes, prepayments or overpayments"
        )
    return lines


# --- Mappings -----------------------------------------------------------------------------------


@dataclass
class ContactRow:
    contact_id: str
    name: str
    tax_number: str
    link: VendorLink | None
    blocked: int

    @property
    def status(self) -> str:
        if self.link is None or self.link.how == LinkHow.UNLINKED:
            return "unlinked"
        return "linked" if self.link.confirmed else "suggestion"


def contact_rows(*, integration: Integration, show: str = "attention") -> list[ContactRow]:
    """Xero suppliers with their vendor link and how many payments wait on it: the ones needing a
    person first (no link, unconfirmed suggestion), then by name. Three queries whatever the size."""
    contacts = XeroContactRecord.objects.filter(integration=integration).filter(
        Q(is_supplier=True)
        | Q(contact_id__in=Payment.objects.filter(integration=integration).values("xero_contact_id"))
    )
    links = {link.xero_contact_id: link for link in VendorLink.objects.filter(integration=integration)}
    blocked = dict(
        Payment.objects.filter(
            integration=integration, state=PaymentState.BLOCKED, reason_code__in=VENDOR_REASONS
        )
        .values_list("xero_contact_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    rows = [
        ContactRow(c.contact_id, c.name, c.tax_number, links.get(c.contact_id), blocked.get(c.contact_id, 0))
        for c in contacts.only("contact_id", "name", "tax_number")
    ]
    if show == "attention":
        # Something to fix: a suggestion to confirm, or payments that wait for a vendor. A linked
        # contact's blocked payments go on the next run; a contact with nothing blocked waits for nothing.
        rows = [r for r in rows if r.status == "suggestion" or (r.status == "unlinked" and r.blocked)]
    order = {"unlinked": 0, "suggestion": 1, "linked": 2}
    rows.sort(key=lambda r: (order[r.status], -r.blocked, r.name.lower()))
    return rows


@dataclass
class BillRow:
    xero_invoice_id: str
    invoice_number: str
    vendor_name: str
    xero_contact_id: str
    reason_code: str
    message: str
    payments: int
    total: Decimal
    link: BillLink | None = None
    project_id: int | None = None
    project_name: str = ""


def bill_rows(*, integration: Integration) -> list[BillRow]:
    """Bills whose payments are blocked for want of one Procore commitment or invoice."""
    rows = (
        Payment.objects.filter(integration=integration, state=PaymentState.BLOCKED, reason_code__in=BILL_REASONS)
        .values("xero_invoice_id", "invoice_number", "vendor_name", "xero_contact_id", "reason_code", "message")
        .annotate(n=Count("id"), total=Sum("amount"), project_id=Max("procore_project_id"), project=Max("project_name"))
        .order_by("vendor_name", "invoice_number")
    )
    bills = [
        BillRow(
            r["xero_invoice_id"],
            r["invoice_number"],
            r["vendor_name"],
            r["xero_contact_id"],
            r["reason_code"],
            r["message"],
            r["n"],
            r["total"] or Decimal("0"),
            project_id=r["project_id"],
            project_name=r["project"] or "",
        )
        for r in rows
    ]
    links = {
        link.xero_invoice_id: link
        for link in BillLink.objects.filter(
            integration=integration, xero_invoice_id__in=[b.xero_invoice_id for b in bills]
        )
    }
    for bill in bills:
        bill.link = links.get(bill.xero_invoice_id)
    return bills


def is_known_contact(*, integration: Integration, contact_id: str) -> bool:
    """Whether the id names a Xero contact we have read for this integration (a posted id may be
    stale or made up)."""
    return XeroContactRecord.objects.filter(integration=integration, contact_id=contact_id).exists()


def is_known_bill(*, integration: Integration, xero_invoice_id: str) -> bool:
    return XeroBillRecord.objects.filter(integration=integration, invoice_id=xero_invoice_id).exists()


def vendor_ids_by_contact(*, integration: Integration) -> dict[str, int]:
    return dict(
        VendorLink.objects.filter(integration=integration, confirmed=True).values_list(
            "xero_contact_id", "procore_vendor_id"
        )
    )

"""Typed objects at the edge of Xero and Procore, and the errors the clients raise.

The sync engine sees the APIs only through these: it never indexes a raw JSON dict. Money is
Decimal with two places; dates are calendar dates; ids from Procore are Python ints (64-bit).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Generic, Protocol, TypeVar

T = TypeVar("T")


# --- Tokens -------------------------------------------------------------------------------------


class TokenSource(Protocol):
    """Where a client gets its bearer token. The connections app implements it per Connection
    (single-flight refresh under a row lock); tests may use a simple one."""

    def access_token(self) -> str:
        """A token valid for at least the next minute (refreshing first if needed)."""

    def refresh_after_unauthorized(self, failed_token: str) -> str:
        """The API said 401 to `failed_token`: refresh (unless another worker already did) and
        return the new token. Raises NeedsReconnect when the provider refuses the refresh."""


class CallHealth(Protocol):
    """Where a client reports how its calls went, for the connection's "last successful call" and
    "last error" (the connections app implements it per Connection, writing to its row cheaply)."""

    def ok(self) -> None:
        """A call was answered with success."""

    def failed(self, message: str) -> None:
        """A call failed for a reason that is the connection's, not one record's: no answer after
        the retries, a server error, access refused. `message` is the client's short message."""

    def flush(self) -> None:
        """Write down what is still pending (the client is being closed)."""


# --- Errors: one table per API maps each answer to one of these --------------------------------


class ConnectorError(Exception):
    """Base class. `message` is short, human and free of secrets."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status


class TransientError(ConnectorError):
    """5xx, timeout, connection reset: worth retrying with backoff. `ambiguous` is True when a
    write may have been applied (the request was sent but no answer came back): re-read before
    any retry."""

    def __init__(self, message: str, *, status: int | None = None, ambiguous: bool = False):
        super().__init__(message, status=status)
        self.ambiguous = ambiguous


class RateLimited(ConnectorError):
    """A 429 (or Procore's 503 "overloaded") the client could not absorb by waiting (e.g. Xero's day
    limit)."""

    def __init__(self, message: str, *, retry_after: float, problem: str = "", status: int = 429):
        super().__init__(message, status=status)
        self.retry_after = retry_after
        self.problem = problem  # Xero: "minute" | "day"; Procore: ""


class DailyLimitReached(RateLimited):
    """Xero's per-organisation day limit: stop the run until `resume_at`, do not sleep."""

    def __init__(self, message: str, *, retry_after: float, resume_at: dt.datetime):
        super().__init__(message, retry_after=retry_after, problem="day")
        self.resume_at = resume_at


class NeedsReconnect(ConnectorError):
    """The connection is dead (refresh refused, app uninstalled or not connected): a person must
    reconnect. Runs fail fast with this message."""


class DataError(ConnectorError):
    """The provider refused this record (400/404/409/422): the payment fails with this message,
    the run goes on. `details` carries the provider's field errors when it gave any."""

    def __init__(self, message: str, *, status: int | None = None, details: dict | None = None):
        super().__init__(message, status=status)
        self.details = details or {}


class NotFound(DataError):
    """404: missing, or not visible to this user."""


@contextmanager
def reporting_to(health: CallHealth | None) -> Iterator[None]:
    """Tell `health` (when there is one) how the call inside went: ok() on success, failed() on a
    failure that is the connection's (no answer, server errors, access refused, a 503 "overloaded"
    outlasting the waits). A refused record (DataError) or a spent rate limit (429: our own budget)
    says nothing about the connection. The error still propagates."""
    try:
        yield
    except (TransientError, NeedsReconnect) as error:
        if health is not None:
            health.failed(error.message)
        raise
    except RateLimited as error:
        if health is not None and error.status == 503:
            health.failed(error.message)
        raise
    if health is not None:
        health.ok()


# --- Paging and call counting --------------------------------------------------------------------


@dataclass
class Page(Generic[T]):
    items: list[T]
    page: int
    has_more: bool


@dataclass
class CallCounter:
    """Counts API calls made by one client (for run statistics and the benchmarks)."""

    calls: int = 0
    throttled: int = 0  # 429 answers received
    waited_seconds: float = 0.0
    on_call: Callable[[], None] | None = None
    # Called as each request is handed to the network (after waits and token reads); it may raise
    # to stop a request that must no longer leave (a run's lease lapsed while its process stood).
    before_send: Callable[[], None] | None = None

    def count(self) -> None:
        self.calls += 1
        if self.on_call:
            self.on_call()


# --- Xero ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class XeroContact:
    contact_id: str
    name: str
    tax_number: str = ""
    account_number: str = ""
    contact_number: str = ""
    is_supplier: bool = False
    status: str = "ACTIVE"
    merged_to_contact_id: str = ""
    updated_at: dt.datetime | None = None


@dataclass(frozen=True)
class XeroTrackingOption:
    category: str  # e.g. "Project"
    option: str  # e.g. "P-1001 Harbour Tower"


@dataclass(frozen=True)
class XeroAllocation:
    """A supplier credit note, prepayment or overpayment allocated to a bill: it settles part of
    the bill without any Payment (Invoice.CreditNotes / Prepayments / Overpayments entries)."""

    kind: str  # "credit note" | "prepayment" | "overpayment"
    document_id: str
    number: str  # CreditNoteNumber; "" for prepayments and overpayments
    amount: Decimal | None  # AppliedAmount: the part of this bill it settles
    date: dt.date | None  # the document's Date


@dataclass(frozen=True)
class XeroBill:
    invoice_id: str
    type: str  # ACCPAY for bills
    invoice_number: str  # the supplier's invoice number; not unique; may be empty
    reference: str
    status: str  # DRAFT SUBMITTED AUTHORISED PAID VOIDED DELETED
    contact_id: str
    contact_name: str
    currency_code: str
    date: dt.date | None
    due_date: dt.date | None
    total: Decimal
    amount_paid: Decimal
    amount_due: Decimal
    tracking: tuple[XeroTrackingOption, ...] = ()
    updated_at: dt.datetime | None = None
    # Invoice.AmountCredited and the allocations behind it (empty when Xero lists none).
    amount_credited: Decimal = Decimal("0.00")
    allocations: tuple[XeroAllocation, ...] = ()


@dataclass(frozen=True)
class XeroPayment:
    payment_id: str
    payment_type: str  # ACCPAYPAYMENT for bill payments
    status: str  # AUTHORISED | DELETED
    date: dt.date | None
    amount: Decimal | None
    bank_amount: Decimal | None
    currency_rate: Decimal | None
    reference: str
    is_reconciled: bool
    batch_payment_id: str
    updated_at: dt.datetime | None
    # From the embedded Invoice (empty for payments that are not on an invoice).
    invoice_id: str = ""
    invoice_number: str = ""
    invoice_type: str = ""
    currency_code: str = ""
    contact_id: str = ""
    contact_name: str = ""


@dataclass(frozen=True)
class XeroOrganisation:
    tenant_id: str
    name: str
    base_currency: str
    short_code: str = ""


@dataclass(frozen=True)
class XeroTenant:
    """A row of GET /connections."""

    connection_id: str
    tenant_id: str
    tenant_name: str
    tenant_type: str


# --- Procore -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeRange:
    """An updated-at range for Procore's `filters[updated_at]`: "START...END" in the documented
    DateTime-with-UTC form (`YYYY-MM-DDTHH:MM:SSZ...YYYY-MM-DDTHH:MM:SSZ`, RestV10ProjectsGet)."""

    start: dt.datetime
    end: dt.datetime

    def as_filter(self) -> str:
        return f"{_utc_text(self.start)}...{_utc_text(self.end)}"


def _utc_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ProcoreCompany:
    id: int
    name: str
    is_active: bool = True


@dataclass(frozen=True)
class ProcoreUser:
    """Who the token belongs to (GET /rest/v1.0/me)."""

    id: int
    login: str
    name: str = ""


@dataclass(frozen=True)
class ProcoreProject:
    id: int
    name: str
    project_number: str = ""
    origin_id: str = ""
    # No currency: Procore's project schemas (list and show) have none; commitments and
    # subcontractor invoices state one when the company uses currencies.


@dataclass(frozen=True)
class ProcoreVendor:
    id: int
    name: str
    origin_id: str = ""
    origin_code: str = ""
    business_id: str = ""  # ABN / EIN
    is_active: bool = True


@dataclass(frozen=True)
class ProcoreCommitment:
    id: int
    project_id: int
    kind: str  # "WorkOrderContract" | "PurchaseOrderContract"
    number: str
    title: str
    status: str
    vendor_id: int | None
    grand_total: Decimal | None = None
    currency_code: str = ""  # currency_configuration.currency_iso_code; empty when Procore states none


@dataclass(frozen=True)
class ProcoreRequisition:
    """A subcontractor invoice."""

    id: int
    project_id: int
    commitment_id: int
    number: int | None
    invoice_number: str
    status: str
    origin_id: str = ""
    total_amount: Decimal | None = None
    currency_code: str = ""  # currency_configuration.currency_iso_code; empty when Procore states none


@dataclass(frozen=True)
class ProcorePayment:
    """A payment issued on a commitment (contract payment)."""

    id: int
    commitment_id: int | None
    amount: Decimal
    date: dt.date | None
    invoice_number: str = ""
    check_number: str = ""
    origin_id: str = ""
    requisition_id: int | None = None


@dataclass(frozen=True)
class NewContractPayment:
    """What we send to POST /rest/v1.0/contract_payments."""

    project_id: int
    commitment_id: int
    date: dt.date
    amount: Decimal
    origin_id: str  # the Xero PaymentID
    invoice_number: str = ""
    invoice_date: dt.date | None = None
    check_number: str = ""
    payment_method: str = "electronic"  # check | credit_card | electronic
    notes: str = ""
    origin_data: str = ""
    requisition_id: int | None = None
    extra: dict = field(default_factory=dict)

"""Typed reads from the Xero Accounting API through the xero-python SDK, and Xero's error table.

The sync engine calls `XeroClient`; it gets back the dataclasses of `connectors.types` and the
errors listed there, never SDK models or raw JSON. Everything about talking to Xero is here:

* the SDK wiring and its traps (urllib3's own retries sleep on a 429 for as long as Xero says,
  hours on a day limit, so they are switched off; `Configuration` is a shared default, so the
  token is supplied per client through a getter; optional arguments are left out, never None);
* `ERROR_TABLE`: what each answer means (refresh and retry, wait, stop for the day, back off,
  reconnect, data error);
* pacing on X-MinLimit-Remaining so a run spreads its calls instead of meeting a 429;
* conversion to typed objects: Decimal money to 2 places, calendar dates as Xero wrote them.

One client per run or thread: the SDK client and its token are not shared across threads.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import logging
import time
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import certifi
import urllib3
from django.conf import settings
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient
from xero_python.api_client.configuration import Configuration
from xero_python.api_client.oauth2 import OAuth2Token
from xero_python.exceptions import ApiException

from syncapp.connectors.pacing import (
    MAX_WAIT_SECONDS,
    SlidingWindowLog,
    WindowPacer,
    backoff_delay,
    header_float,
    header_int,
)
from syncapp.connectors.types import (
    CallCounter,
    ConnectorError,
    DailyLimitReached,
    DataError,
    NeedsReconnect,
    NotFound,
    Page,
    RateLimited,
    TokenSource,
    TransientError,
    XeroAllocation,
    XeroBill,
    XeroContact,
    XeroOrganisation,
    XeroPayment,
    XeroTrackingOption,
)

logger = logging.getLogger(__name__)

PAGE_SIZE = 1000  # Xero's maximum
IDS_PER_CALL = 50  # GET /Invoices?IDs= breaks above about 50 ids
MAX_TRANSIENT_TRIES = 4
MAX_RATE_LIMIT_WAITS = 5
# A 429 without Retry-After (Xero sends one only for the minute and day limits; a "concurrent"
# 429 means 5 calls are in flight right now): short growing waits, each at most BUSY_WAIT_CAP
# seconds, at most MAX_BUSY_TRIES refusals in a row (about 20 s in all), then a transient error.
MAX_BUSY_TRIES = 8
BUSY_WAIT_CAP = 4.0
TWO_PLACES = Decimal("0.01")


# --- The error table ------------------------------------------------------------------------------


class Action(enum.Enum):
    OK = "ok"
    REFRESH = "refresh the token and retry once"
    WAIT = "wait as Retry-After says, then retry"
    STOP_FOR_DAY = "stop the run until the day limit resets"
    BUSY = "too many calls at once: a short, bounded backoff, then retry"
    BACKOFF = "retry with backoff, then give up as transient"
    RECONNECT = "the connection is dead: a person must reconnect"
    NOT_FOUND = "the record is missing"
    DATA = "Xero refused the request"


# One row per answer; `xero_action` adds the few rules that need more than the status code.
ERROR_TABLE: dict[int, Action] = {
    401: Action.REFRESH,
    403: Action.RECONNECT,  # tenant disconnected, or the app lost its scopes
    404: Action.NOT_FOUND,
    400: Action.DATA,
    429: Action.WAIT,  # the minute limit (Retry-After); the day limit is STOP_FOR_DAY, none told BUSY
    500: Action.BACKOFF,
    502: Action.BACKOFF,
    503: Action.BACKOFF,  # organisation offline or overloaded
    504: Action.BACKOFF,
}


def xero_action(status: int, headers: Any) -> Action:
    if 200 <= status < 300:
        return Action.OK
    if status == 429 and str(_header(headers, "X-Rate-Limit-Problem")).lower() == "day":
        return Action.STOP_FOR_DAY
    if status == 429 and _header(headers, "Retry-After") is None:
        # Xero's limits page: "If you have exceeded the minute or daily limit you will also
        # receive a Retry-After"; without one (concurrent, app minute) nothing says how long:
        # the budget is not spent, calls are only too many at once.
        return Action.BUSY
    if status in ERROR_TABLE:
        return ERROR_TABLE[status]
    if status >= 500 or status == 0:  # 0: no HTTP answer at all (timeout, reset, refused)
        return Action.BACKOFF
    return Action.DATA


def _header(headers: Any, name: str) -> str | None:
    return headers.get(name) if headers is not None else None


class _Headers:
    """Case-insensitive view of the SDK's header mapping (urllib3 HTTPHeaderDict or a dict)."""

    def __init__(self, raw: Any):
        self._raw = {str(k).lower(): v for k, v in (dict(raw or {})).items()}

    def get(self, name: str, default: Any = None) -> Any:
        return self._raw.get(name.lower(), default)


# --- The client -----------------------------------------------------------------------------------


class XeroClient:
    """Reads one Xero organisation (tenant) with tokens from `tokens`."""

    def __init__(
        self,
        *,
        tokens: TokenSource,
        tenant_id: str,
        counter: CallCounter | None = None,
        timeout: float | None = None,
        max_wait: float = MAX_WAIT_SECONDS,
        page_size: int = PAGE_SIZE,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._tokens = tokens
        self._page_size = page_size
        self._tenant_id = str(tenant_id)
        self.counter = counter or CallCounter()
        self._timeout = timeout if timeout is not None else settings.HTTP_TIMEOUT
        self._max_wait = max_wait
        self._sleep = sleep
        self._token: str | None = None
        self._api = AccountingApi(self._build_api_client(), base_url=settings.XERO_API_URL)
        self._calls_this_minute = SlidingWindowLog(60.0)
        self._pacer = WindowPacer(low_water_fraction=0.1, min_low_water=5, sleep=self._sleep)
        self.minute_remaining: int | None = None
        self.day_remaining: int | None = None

    def close(self) -> None:
        """Drop the kept-alive connections (they hold a server thread each until closed)."""
        self._api.api_client.rest_client.pool_manager.clear()

    def __enter__(self) -> XeroClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _build_api_client(self) -> ApiClient:
        # Configuration() returns a copy of a process-wide default: never hand it a token.
        # Our own OAuth2Token has no client secret and no expiry, so the SDK never tries to
        # refresh it on its own; the TokenSource is the only place tokens change.
        configuration = Configuration()
        configuration.oauth2_token = OAuth2Token()
        api_client = ApiClient(
            configuration,
            oauth2_token_getter=self._sdk_token,
            oauth2_token_saver=lambda token: None,
        )
        # urllib3's default Retry honours Retry-After on 429/503 by sleeping inside the call,
        # for hours on Xero's day limit. retries=False: every answer comes back to our table.
        api_client.rest_client.pool_manager = urllib3.PoolManager(
            num_pools=2, maxsize=2, retries=False, cert_reqs="CERT_REQUIRED", ca_certs=certifi.where()
        )
        return api_client

    def _sdk_token(self) -> dict:
        return {"access_token": self._token, "scope": [], "expires_in": None, "token_type": "Bearer"}

    # --- one call, through the error table ---

    def _call(self, operation: str, method: Callable[..., Any], **arguments: Any) -> Any:
        """Make one SDK call; answer each failure as ERROR_TABLE says. Returns the SDK model."""
        refreshed = False
        transient_tries = 0
        rate_waits = 0
        busy_tries = 0
        while True:
            if self._token is None:
                self._token = self._tokens.access_token()
            self.counter.waited_seconds += self._pacer.wait()
            self.counter.count()
            self._calls_this_minute.record()
            status, headers, data, detail = self._send(method, arguments)
            # A 429's own Retry-After says when to come back; its remaining-0 would make the
            # pacer wait for the whole minute instead.
            self._observe_limits(headers, pace=status != 429)
            action = xero_action(status, headers)
            if action is Action.OK:
                return data
            if action is Action.REFRESH and not refreshed:
                refreshed = True
                # NeedsReconnect from the token source propagates: the refresh was refused.
                self._token = self._tokens.refresh_after_unauthorized(self._token)
                continue
            if action is Action.REFRESH:
                raise NeedsReconnect("Xero refused a freshly refreshed token: reconnect Xero.", status=401)
            if action is Action.RECONNECT:
                raise NeedsReconnect(
                    "Xero refused access to this organisation (disconnected, or the app lost its "
                    "permissions): reconnect Xero.",
                    status=status,
                )
            if action is Action.STOP_FOR_DAY:
                retry_after = header_float(headers, "Retry-After") or 3600.0
                self.counter.throttled += 1
                raise DailyLimitReached(
                    "Xero's daily API limit for this organisation is used up; the run resumes tomorrow.",
                    retry_after=retry_after,
                    resume_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=retry_after),
                )
            if action is Action.BUSY:
                self.counter.throttled += 1
                busy_tries += 1
                problem = str(_header(headers, "X-Rate-Limit-Problem") or "concurrent")
                if busy_tries >= MAX_BUSY_TRIES:
                    raise TransientError(
                        f"Xero kept refusing {operation}: too many calls at once ({problem} limit, "
                        f"{busy_tries} tries).",
                        status=429,
                    )
                delay = backoff_delay(busy_tries - 1, cap=BUSY_WAIT_CAP)
                logger.info("Xero %s limit on %s: retry in %.1f s", problem, operation, delay)
                self._sleep(delay)
                self.counter.waited_seconds += delay
                continue
            if action is Action.WAIT:
                self.counter.throttled += 1
                retry_after = header_float(headers, "Retry-After") or 1.0
                problem = str(_header(headers, "X-Rate-Limit-Problem") or "minute")
                if rate_waits >= MAX_RATE_LIMIT_WAITS or retry_after > self._max_wait:
                    raise RateLimited(
                        f"Xero's {problem} rate limit: try again in {int(retry_after)} s.",
                        retry_after=retry_after,
                        problem=problem,
                    )
                rate_waits += 1
                logger.info("Xero %s limit on %s: waiting %.1f s", problem, operation, retry_after)
                self._pacer.block_for(retry_after)
                continue
            if action is Action.BACKOFF:
                transient_tries += 1
                if transient_tries >= MAX_TRANSIENT_TRIES:
                    raise TransientError(
                        f"Xero did not answer {operation} after {transient_tries} tries ({detail}).",
                        status=status or None,
                    )
                delay = backoff_delay(transient_tries - 1)
                logger.info("Xero %s failed (%s); retry in %.1f s", operation, detail, delay)
                self._sleep(delay)
                continue
            if action is Action.NOT_FOUND:
                raise NotFound(f"Xero has no such record ({operation}).", status=404)
            raise DataError(f"Xero refused {operation}: {detail}", status=status or None)

    def _send(self, method: Callable[..., Any], arguments: dict) -> tuple[int, Any, Any, str]:
        """(status, headers, data, detail); status 0 when no HTTP answer came back."""
        try:
            data, status, headers = method(
                self._tenant_id,
                _return_http_data_only=False,
                _request_timeout=self._timeout,
                **arguments,
            )
            return status, _Headers(headers), data, ""
        except ApiException as error:
            # http_resp.status, not error.status: some SDK subclasses put a message there.
            status = getattr(error.http_resp, "status", None) or 0
            return status, _Headers(error.headers), None, _error_detail(error)
        except (urllib3.exceptions.HTTPError, OSError) as error:
            # Timeouts, refused and reset connections. The message never holds the token.
            return 0, _Headers(None), None, type(error).__name__
        except ValueError as error:
            # The SDK could not read the answer (an unknown enum value fails the whole page).
            raise DataError(f"Xero sent data the client cannot read: {error}") from error

    def _observe_limits(self, headers: Any, *, pace: bool) -> None:
        minute = header_int(headers, "X-MinLimit-Remaining")
        day = header_int(headers, "X-DayLimit-Remaining")
        if minute is not None and pace:
            self.minute_remaining = minute
            # Xero does not say when the minute ends; our own oldest call in it is the bound.
            self._pacer.observe(
                limit=60, remaining=minute, seconds_to_reset=self._calls_this_minute.seconds_until_oldest_expires()
            )
        if day is not None:
            self.day_remaining = day

    # --- reads ---

    def payments_page(self, *, page: int, modified_since: dt.datetime | None = None) -> Page[XeroPayment]:
        """All payments (DELETED included: a reversal shows up as a deletion), oldest change first."""
        arguments: dict[str, Any] = {"order": "UpdatedDateUTC ASC", "page": page, "page_size": self._page_size}
        if modified_since is not None:
            arguments["if_modified_since"] = _if_modified_since(modified_since)
        result = self._call("GET /Payments", self._api.get_payments, **arguments)
        rows = list(getattr(result, "payments", None) or [])
        return Page(
            items=[payment_from_sdk(p) for p in rows],
            page=page,
            has_more=_has_more(result, page, len(rows), self._page_size),
        )

    def bills_page(self, *, page: int, modified_since: dt.datetime | None = None) -> Page[XeroBill]:
        arguments: dict[str, Any] = {
            "where": 'Type=="ACCPAY"',
            "order": "UpdatedDateUTC ASC",
            "page": page,
            "page_size": self._page_size,
        }
        if modified_since is not None:
            arguments["if_modified_since"] = _if_modified_since(modified_since)
        result = self._call("GET /Invoices", self._api.get_invoices, **arguments)
        rows = list(getattr(result, "invoices", None) or [])
        return Page(
            items=[bill_from_sdk(b) for b in rows],
            page=page,
            has_more=_has_more(result, page, len(rows), self._page_size),
        )

    def bills_by_ids(self, ids: Iterable[str]) -> list[XeroBill]:
        bills: list[XeroBill] = []
        for chunk in _chunks(_unique(ids), IDS_PER_CALL):
            result = self._call("GET /Invoices?IDs", self._api.get_invoices, i_ds=chunk)
            bills.extend(bill_from_sdk(b) for b in (getattr(result, "invoices", None) or []))
        return bills

    def contacts_page(self, *, page: int, modified_since: dt.datetime | None = None) -> Page[XeroContact]:
        arguments: dict[str, Any] = {"order": "UpdatedDateUTC ASC", "page": page, "page_size": self._page_size}
        if modified_since is not None:
            arguments["if_modified_since"] = _if_modified_since(modified_since)
        result = self._call("GET /Contacts", self._api.get_contacts, **arguments)
        rows = list(getattr(result, "contacts", None) or [])
        return Page(
            items=[contact_from_sdk(c) for c in rows],
            page=page,
            has_more=_has_more(result, page, len(rows), self._page_size),
        )

    def contacts_by_ids(self, ids: Iterable[str]) -> list[XeroContact]:
        contacts: list[XeroContact] = []
        for chunk in _chunks(_unique(ids), IDS_PER_CALL):
            # Archived contacts too: a bill's supplier may have been archived since.
            result = self._call("GET /Contacts?IDs", self._api.get_contacts, i_ds=chunk, include_archived=True)
            contacts.extend(contact_from_sdk(c) for c in (getattr(result, "contacts", None) or []))
        return contacts

    def organisation(self) -> XeroOrganisation:
        result = self._call("GET /Organisation", self._api.get_organisations)
        rows = list(getattr(result, "organisations", None) or [])
        if not rows:
            raise DataError("Xero returned no organisation for this tenant.")
        org = rows[0]
        return XeroOrganisation(
            tenant_id=str(getattr(org, "organisation_id", None) or self._tenant_id),
            name=_text(org.name),
            base_currency=_text(org.base_currency),
            short_code=_text(getattr(org, "short_code", None)),
        )


# --- helpers: paging, dates, money, SDK models -> types -------------------------------------------


def _if_modified_since(moment: dt.datetime) -> dt.datetime:
    """Xero reads If-Modified-Since as UTC, to the second; the SDK sends isoformat()."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def _has_more(result: Any, page: int, count: int, page_size: int) -> bool:
    pagination = getattr(result, "pagination", None)
    page_count = getattr(pagination, "page_count", None) if pagination is not None else None
    if page_count is not None:
        return page < page_count
    return count >= page_size


def _unique(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(str(i) for i in ids if i))


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


def money(value: Any) -> Decimal | None:
    """Decimal with two places (the SDK already parses JSON numbers as Decimal)."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def calendar_date(value: Any) -> dt.date | None:
    """The SDK decodes /Date(ms+0000)/ as the UTC calendar date, which is the date Xero means
    (Xero stores dates as midnight UTC). A datetime here would be a date-string field: keep its
    own calendar date rather than shifting it to another timezone."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return None


def _aware(value: Any) -> dt.datetime | None:
    if not isinstance(value, dt.datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def payment_from_sdk(payment: Any) -> XeroPayment:
    invoice = getattr(payment, "invoice", None)
    contact = getattr(invoice, "contact", None) if invoice is not None else None
    batch = getattr(payment, "batch_payment", None)
    return XeroPayment(
        payment_id=_text(payment.payment_id),
        payment_type=_text(payment.payment_type),
        status=_text(payment.status),
        date=calendar_date(payment.date),
        amount=money(payment.amount),
        bank_amount=money(payment.bank_amount),
        currency_rate=None if payment.currency_rate is None else Decimal(str(payment.currency_rate)),
        reference=_text(payment.reference),
        is_reconciled=bool(payment.is_reconciled),
        batch_payment_id=_text(payment.batch_payment_id or getattr(batch, "batch_payment_id", None)),
        updated_at=_aware(payment.updated_date_utc),
        invoice_id=_text(getattr(invoice, "invoice_id", None)),
        invoice_number=_text(getattr(invoice, "invoice_number", None) or getattr(payment, "invoice_number", None)),
        invoice_type=_text(getattr(invoice, "type", None)),
        currency_code=_text(getattr(invoice, "currency_code", None)),
        contact_id=_text(getattr(contact, "contact_id", None)),
        contact_name=_text(getattr(contact, "name", None)),
    )


def bill_from_sdk(bill: Any) -> XeroBill:
    contact = getattr(bill, "contact", None)
    tracking: list[XeroTrackingOption] = []
    for line in getattr(bill, "line_items", None) or []:
        for option in getattr(line, "tracking", None) or []:
            item = XeroTrackingOption(category=_text(option.name), option=_text(option.option))
            if item not in tracking:
                tracking.append(item)
    return XeroBill(
        invoice_id=_text(bill.invoice_id),
        type=_text(bill.type),
        invoice_number=_text(bill.invoice_number),
        reference=_text(bill.reference),
        status=_text(bill.status),
        contact_id=_text(getattr(contact, "contact_id", None)),
        contact_name=_text(getattr(contact, "name", None)),
        currency_code=_text(bill.currency_code),
        date=calendar_date(bill.date),
        due_date=calendar_date(bill.due_date),
        total=money(bill.total) or Decimal("0.00"),
        amount_paid=money(bill.amount_paid) or Decimal("0.00"),
        amount_due=money(bill.amount_due) or Decimal("0.00"),
        tracking=tuple(tracking),
        updated_at=_aware(bill.updated_date_utc),
        amount_credited=money(getattr(bill, "amount_credited", None)) or Decimal("0.00"),
        allocations=tuple(
            XeroAllocation(
                kind=kind,
                document_id=_text(getattr(entry, id_attr, None)),
                number=_text(getattr(entry, "credit_note_number", None)),
                amount=money(getattr(entry, "applied_amount", None)),
                date=calendar_date(getattr(entry, "date", None)),
            )
            for kind, list_attr, id_attr in _ALLOCATION_LISTS_SDK
            for entry in (getattr(bill, list_attr, None) or [])
        ),
    )


# Invoice.CreditNotes / Prepayments / Overpayments (schema Invoice): (kind, SDK list, SDK id).
_ALLOCATION_LISTS_SDK = (
    ("credit note", "credit_notes", "credit_note_id"),
    ("prepayment", "prepayments", "prepayment_id"),
    ("overpayment", "overpayments", "overpayment_id"),
)
# The same from Xero's JSON: (kind, array, id key).
_ALLOCATION_LISTS_JSON = (
    ("credit note", "CreditNotes", "CreditNoteID"),
    ("prepayment", "Prepayments", "PrepaymentID"),
    ("overpayment", "Overpayments", "OverpaymentID"),
)


def contact_from_sdk(contact: Any) -> XeroContact:
    return XeroContact(
        contact_id=_text(contact.contact_id),
        name=_text(contact.name),
        tax_number=_text(contact.tax_number),
        account_number=_text(contact.account_number),
        contact_number=_text(contact.contact_number),
        is_supplier=bool(contact.is_supplier),
        status=_text(contact.contact_status) or "ACTIVE",
        merged_to_contact_id=_text(contact.merged_to_contact_id),
        updated_at=_aware(contact.updated_date_utc),
    )


def _error_detail(error: ApiException) -> str:
    """A short line from Xero's error body: validation messages, else Message/Detail/reason.
    Never the request (it carries the token)."""
    body = getattr(error, "body", None)
    try:
        payload = json.loads(body) if body else None
    except (TypeError, ValueError):
        payload = None
    messages: list[str] = []
    if isinstance(payload, dict):
        for element in payload.get("Elements") or []:
            for validation in (element or {}).get("ValidationErrors") or []:
                if validation.get("Message"):
                    messages.append(str(validation["Message"]))
        for key in ("Message", "Detail", "Title", "error"):
            if not messages and payload.get(key):
                messages.append(str(payload[key]))
    if not messages:
        messages.append(f"HTTP {error.status} {error.reason or ''}".strip())
    return "; ".join(messages)[:500]


__all__ = [
    "ERROR_TABLE",
    "Action",
    "ConnectorError",
    "XeroClient",
    "bill_from_sdk",
    "contact_from_sdk",
    "payment_from_sdk",
    "xero_action",
]

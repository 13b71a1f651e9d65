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

import dataclasses
import datetime as dt
import enum
import functools
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, TypeVar

import certifi
import urllib3
from django.conf import settings
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient
from xero_python.api_client.configuration import Configuration
from xero_python.api_client.deserializer import deserialize
from xero_python.api_client.oauth2 import OAuth2Token
from xero_python.exceptions import ApiException

from syncapp.connectors import retries, values
from syncapp.connectors.base import BaseClient
from syncapp.connectors.pacing import (
    MAX_WAIT_SECONDS,
    SlidingWindowLog,
    WindowPacer,
    header_float,
    header_int,
)
from syncapp.connectors.types import (
    CallCounter,
    CallHealth,
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
T = TypeVar("T")

PAGE_SIZE = 1000  # Xero's maximum
IDS_PER_CALL = 50  # GET /Invoices?IDs= breaks above about 50 ids
# Bills per GET /Payments?where=Invoice.InvoiceID==Guid(..) OR ..: keeps the URL near 1,000 characters.
BILLS_PER_PAYMENTS_CALL = 20
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


class XeroClient(BaseClient):
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
        health: CallHealth | None = None,
    ):
        super().__init__(counter=counter, max_wait=max_wait, sleep=sleep, health=health)
        self._tokens = tokens
        self._page_size = page_size
        self._tenant_id = str(tenant_id)
        self._timeout = timeout if timeout is not None else settings.HTTP_TIMEOUT
        self._token: str | None = None
        self._api = AccountingApi(self._build_api_client(), base_url=settings.XERO_API_URL)
        self._calls_this_minute = SlidingWindowLog(60.0)
        self._pacer = WindowPacer(low_water_fraction=0.1, min_low_water=5, sleep=self._sleep)
        self.minute_remaining: int | None = None
        self.day_remaining: int | None = None
        self.unreadable: list[str] = []  # rows left out (no usable id), for the run's log

    def _close_transport(self) -> None:
        """Drop the kept-alive connections (they hold a server thread each until closed)."""
        self._api.api_client.rest_client.pool_manager.clear()

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

    def _request(self, operation: str, method: Callable[..., Any], **arguments: Any) -> Any:
        """One SDK call, answered as ERROR_TABLE says and tried again as the read policy says.
        Returns the SDK model."""
        attempt = functools.partial(self._attempt, operation, method, arguments)
        return self._call(attempt, policy=retries.READ, what=f"Xero {operation}")

    def _attempt(self, operation: str, method: Callable[..., Any], arguments: dict) -> Any:
        """Send once (once more with a refreshed token after a 401); the data, or the error
        ERROR_TABLE gives the answer (`retries.Again` when a later try may work)."""
        if self._token is None:
            self._token = self._tokens.access_token()
        status, headers, data, detail = self._send_paced(method, arguments)
        if xero_action(status, headers) is Action.REFRESH:
            # NeedsReconnect from the token source propagates: the refresh was refused.
            self._token = self._tokens.refresh_after_unauthorized(self._token)
            status, headers, data, detail = self._send_paced(method, arguments)
        action = xero_action(status, headers)
        if action is Action.OK:
            return data
        raise self._error(action, operation, status, headers, detail)

    def _send_paced(self, method: Callable[..., Any], arguments: dict) -> tuple[int, Any, Any, str]:
        self.counter.waited_seconds += self._pacer.wait(self._max_wait)
        self.counter.count()
        self._calls_this_minute.record()
        status, headers, data, detail = self._send(method, arguments)
        # A 429's own Retry-After says when to come back; its remaining-0 would make the
        # pacer wait for the whole minute instead.
        self._observe_limits(headers, pace=status != 429)
        return status, headers, data, detail

    def _error(self, action: Action, operation: str, status: int, headers: Any, detail: str) -> Exception:
        if action is Action.REFRESH:
            return NeedsReconnect("Xero refused a freshly refreshed token: reconnect Xero.", status=401)
        if action is Action.RECONNECT:
            return NeedsReconnect(
                "Xero refused access to this organisation (disconnected, or the app lost its "
                "permissions): reconnect Xero.",
                status=status,
            )
        if action in (Action.STOP_FOR_DAY, Action.BUSY, Action.WAIT):
            return self._limited(action, operation, headers)
        if action is Action.BACKOFF:
            failed = TransientError(f"Xero did not answer {operation} ({detail}).", status=status or None)
            return retries.Again(failed, budget=retries.Budget.FAILURE)
        if action is Action.NOT_FOUND:
            return NotFound(f"Xero has no such record ({operation}).", status=404)
        return DataError(f"Xero refused {operation}: {detail}", status=status or None)

    def _limited(self, action: Action, operation: str, headers: Any) -> Exception:
        """A 429: the day limit stops the run; a minute limit is waited out (Retry-After, through
        the pacer, unless longer than this client may sleep); too many calls at once, briefly."""
        self.counter.throttled += 1
        retry_after = header_float(headers, "Retry-After")
        if action is Action.STOP_FOR_DAY:
            retry_after = retry_after or 3600.0
            return DailyLimitReached(
                "Xero's daily API limit for this organisation is used up; the run resumes tomorrow.",
                retry_after=retry_after,
                resume_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=retry_after),
            )
        if action is Action.BUSY:
            problem = str(_header(headers, "X-Rate-Limit-Problem") or "concurrent")
            busy = TransientError(
                f"Xero kept refusing {operation}: too many calls at once ({problem} limit).", status=429
            )
            return retries.Again(busy, budget=retries.Budget.BUSY)
        retry_after = retry_after or 1.0
        problem = str(_header(headers, "X-Rate-Limit-Problem") or "minute")
        self._pacer.block_for(retry_after)
        limited = RateLimited(
            f"Xero's {problem} rate limit: try again in {int(retry_after)} s.", retry_after=retry_after, problem=problem
        )
        return retries.Again(limited, budget=retries.Budget.RATE_LIMIT, wait=retry_after)

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
        result, rows = self._rows("GET /Payments", self._api.get_payments, "Payments", **arguments)
        return Page(
            items=self._read(rows, "Payment", payment_from_sdk, payment_from_json),
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
        result, rows = self._rows("GET /Invoices", self._api.get_invoices, "Invoices", **arguments)
        return Page(
            items=self._read(rows, "Invoice", bill_from_sdk, bill_from_json),
            page=page,
            has_more=_has_more(result, page, len(rows), self._page_size),
        )

    def bills_by_ids(self, ids: Iterable[str]) -> list[XeroBill]:
        bills: list[XeroBill] = []
        for chunk in _chunks(_unique(ids), IDS_PER_CALL):
            _, rows = self._rows("GET /Invoices?IDs", self._api.get_invoices, "Invoices", i_ds=chunk)
            bills.extend(self._read(rows, "Invoice", bill_from_sdk, bill_from_json))
        return bills

    def payments_of_bills(self, bill_ids: Iterable[str]) -> list[XeroPayment]:
        """Every payment on these bills (DELETED included), for a run that handles only them:
        GET /Payments with `where` on Invoice.InvoiceID (getPayments' `where` filters "by any
        element"), a few bills a call. Ids that are no GUID are left out: they go into `where`."""
        guids = [str(guid) for guid in (_guid(i) for i in _unique(bill_ids)) if guid is not None]
        payments: list[XeroPayment] = []
        for chunk in _chunks(guids, BILLS_PER_PAYMENTS_CALL):
            where = " OR ".join(f'Invoice.InvoiceID==Guid("{guid}")' for guid in chunk)
            page = 1
            while True:
                result, rows = self._rows(
                    "GET /Payments?where",
                    self._api.get_payments,
                    "Payments",
                    where=where,
                    order="UpdatedDateUTC ASC",
                    page=page,
                    page_size=self._page_size,
                )
                payments.extend(self._read(rows, "Payment", payment_from_sdk, payment_from_json))
                if not _has_more(result, page, len(rows), self._page_size):
                    break
                page += 1
        return payments

    def contacts_page(self, *, page: int, modified_since: dt.datetime | None = None) -> Page[XeroContact]:
        arguments: dict[str, Any] = {"order": "UpdatedDateUTC ASC", "page": page, "page_size": self._page_size}
        if modified_since is not None:
            arguments["if_modified_since"] = _if_modified_since(modified_since)
        result, rows = self._rows("GET /Contacts", self._api.get_contacts, "Contacts", **arguments)
        return Page(
            items=self._read(rows, "Contact", contact_from_sdk, contact_from_json),
            page=page,
            has_more=_has_more(result, page, len(rows), self._page_size),
        )

    def contacts_by_ids(self, ids: Iterable[str]) -> list[XeroContact]:
        contacts: list[XeroContact] = []
        for chunk in _chunks(_unique(ids), IDS_PER_CALL):
            # Archived contacts too: a bill's supplier may have been archived since.
            _, rows = self._rows(
                "GET /Contacts?IDs", self._api.get_contacts, "Contacts", i_ds=chunk, include_archived=True
            )
            contacts.extend(self._read(rows, "Contact", contact_from_sdk, contact_from_json))
        return contacts

    def organisation(self) -> XeroOrganisation:
        _, rows = self._rows("GET /Organisation", self._api.get_organisations, "Organisations")
        organisations = self._read(rows[:1], "Organisation", organisation_from_sdk, organisation_from_json)
        if not organisations:
            raise DataError("Xero returned no organisation for this tenant.")
        organisation = organisations[0]
        if not organisation.tenant_id:
            return dataclasses.replace(organisation, tenant_id=self._tenant_id)
        return organisation

    # --- answers as JSON rows, each read on its own (issue 8: bad and missing data) ---

    def _rows(self, operation: str, method: Callable[..., Any], key: str, **arguments: Any) -> tuple[dict, list]:
        """One call through the error table, answered as the JSON envelope and its rows. The SDK
        would decode the whole page into models at once, and one value outside its enums (a
        PaymentType or CurrencyCode Xero added since) fails the page; so the answer is taken
        raw and each row is decoded on its own by `_read`."""
        result = self._request(operation, _raw_json(method), **arguments)
        return result, values.items(result.get(key))

    def _read(self, rows: list, model: str, from_sdk: Callable[[Any], T], from_json: Callable[[Any], T]) -> list[T]:
        """Each row through the SDK's own decoder (the reference reading); a row the SDK refuses
        is read tolerantly from its JSON instead (unknown enum values kept as text, unreadable
        values empty), so it still reaches the sync and ends in a visible state. A row without a
        usable id is left out with a log line."""
        finder = self._api.get_model_finder()
        items: list[T] = []
        for row in rows:
            try:
                items.append(_read_row(row, model, finder, from_sdk, from_json))
            except DataError as error:
                logger.warning("Skipped a %s row Xero sent: %s", model, error.message)
                self.unreadable.append(f"Xero sent {error.message}: left out.")
        return items


# --- helpers: paging, dates, money, SDK models -> types -------------------------------------------


def _if_modified_since(moment: dt.datetime) -> dt.datetime:
    """Xero reads If-Modified-Since as UTC, to the second; the SDK sends isoformat()."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def _has_more(result: Any, page: int, count: int, page_size: int) -> bool:
    if isinstance(result, dict):  # a raw answer (see XeroClient._rows)
        page_count = values.integer_id(values.mapping(result.get("pagination")).get("pageCount"))
    else:
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


def _guid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


# Decimal with two places; None when absent or unreadable (NaN, "abc", absurdly large).
money = values.money


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
        payment_id=_required_id(payment.payment_id, "payment", "PaymentID"),
        payment_type=_text(payment.payment_type),
        status=_text(payment.status),
        date=calendar_date(payment.date),
        amount=money(payment.amount),
        bank_amount=money(payment.bank_amount),
        currency_rate=values.decimal_value(payment.currency_rate),
        reference=_text(payment.reference),
        is_reconciled=bool(payment.is_reconciled),
        batch_payment_id=_xero_id(payment.batch_payment_id or getattr(batch, "batch_payment_id", None)),
        updated_at=_aware(payment.updated_date_utc),
        invoice_id=_xero_id(getattr(invoice, "invoice_id", None)),
        invoice_number=_text(getattr(invoice, "invoice_number", None) or getattr(payment, "invoice_number", None)),
        invoice_type=_text(getattr(invoice, "type", None)),
        currency_code=_text(getattr(invoice, "currency_code", None)),
        contact_id=_xero_id(getattr(contact, "contact_id", None)),
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
        invoice_id=_required_id(bill.invoice_id, "bill", "InvoiceID"),
        type=_text(bill.type),
        invoice_number=_text(bill.invoice_number),
        reference=_text(bill.reference),
        status=_text(bill.status),
        contact_id=_xero_id(getattr(contact, "contact_id", None)),
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
                document_id=_xero_id(str(getattr(entry, id_attr, None) or "")),
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
        contact_id=_required_id(contact.contact_id, "contact", "ContactID"),
        name=_text(contact.name),
        tax_number=_text(contact.tax_number),
        account_number=_text(contact.account_number),
        contact_number=_text(contact.contact_number),
        is_supplier=bool(contact.is_supplier),
        status=_text(contact.contact_status) or "ACTIVE",
        merged_to_contact_id=_xero_id(contact.merged_to_contact_id),
        updated_at=_aware(contact.updated_date_utc),
    )


def organisation_from_sdk(org: Any) -> XeroOrganisation:
    return XeroOrganisation(
        tenant_id=_xero_id(getattr(org, "organisation_id", None)),
        name=_text(org.name),
        base_currency=_text(org.base_currency),
        short_code=_text(getattr(org, "short_code", None)),
    )


# --- Xero JSON rows -> types, for a row the SDK refuses -------------------------------------------
#
# The same readings as the *_from_sdk functions above, from the raw JSON row (PascalCase keys,
# MS-JSON dates), for the rows xero-python cannot decode: an enum value it does not know (Xero
# adds PaymentTypes, statuses and currencies), a value of another type than the spec says, a
# malformed date or amount. Unknown enum values are kept as text, so the sync engine sets the row
# aside with its reason ("not a bill payment", "bill not approved"); unreadable values are empty,
# so it is blocked "incomplete". Only a row without its own id is refused (DataError).

# What xero-python's decoder and model setters raise on a value they cannot take (OSError: a
# /Date(...)/ beyond the platform's timestamps; the decoding does no I/O of its own).
_SDK_REFUSALS = (ValueError, TypeError, ArithmeticError, AttributeError, KeyError, IndexError, OSError, ApiException)
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{2,4})?\)/$")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _raw_json(method: Callable[..., Any]) -> Callable[..., tuple[dict, int, Any]]:
    """`method` (an SDK call) answering the decoded JSON envelope instead of SDK models. The body
    is read inside the call, so a connection lost mid-body is retried by `_call` like any other;
    a body that is not a JSON object is data the client cannot read (ValueError)."""

    def call(*args: Any, **kwargs: Any) -> tuple[dict, int, Any]:
        response, status, headers = method(*args, _preload_content=False, **kwargs)
        try:
            body = response.data
        finally:
            response.release_conn()
        envelope = json.loads(body, parse_float=Decimal)  # money stays exact, as the SDK reads it
        if not isinstance(envelope, dict):
            raise ValueError("the answer is not a JSON object")
        return envelope, status, headers

    return call


def _read_row(row: Any, model: str, finder: Any, from_sdk: Callable[[Any], T], from_json: Callable[[Any], T]) -> T:
    if not isinstance(row, dict):
        raise DataError(f"a row that is not an object ({type(row).__name__})")
    if not _sdk_reads_right(row, model, finder):
        return from_json(row)
    try:
        # Absent and null mean the same for Xero's optional fields; the SDK reads a null string
        # field as the text "None" and refuses a null date, so nulls are left out first.
        return from_sdk(deserialize(model, _without_nulls(row), finder))
    except _SDK_REFUSALS as error:  # DataError (no usable id) is none of these: the row is refused
        logger.info("xero-python refused a %s row (%s); reading it from its JSON", model, str(error)[:200])
        return from_json(row)


def _sdk_reads_right(value: Any, type_name: str, finder: Any, depth: int = 0) -> bool:
    """False where xero-python would take a value without complaint but read it wrongly: a JSON
    true/false as an amount (Decimal(True) is 1) or an object or array as text (its Python repr).
    The SDK's own type map (openapi_types) says what each field should be."""
    if value is None or depth > 5:
        return True
    if type_name in ("float", "int"):
        return not isinstance(value, bool)
    if type_name == "str":
        return not isinstance(value, dict | list)
    if type_name.startswith("list["):
        inner = type_name[5:-1]
        return not isinstance(value, list) or all(_sdk_reads_right(v, inner, finder, depth + 1) for v in value)
    if not isinstance(value, dict):
        return True  # dates, enums and models: the SDK refuses what it cannot read
    try:
        model = finder.find_model(type_name)
    except AttributeError:
        return True
    fields = getattr(model, "openapi_types", None) or {}
    return all(
        _sdk_reads_right(value.get(model.attribute_map[name]), kind, finder, depth + 1) for name, kind in fields.items()
    )


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value if item is not None]
    return value


def _xero_id(value: Any) -> str:
    """A Xero id (the spec's format: uuid), as Xero wrote it; "" when absent or not an id, so a
    mangled InvoiceID never reaches an IDs= filter (Xero would refuse the whole call)."""
    if not isinstance(value, str) or not value.strip():
        return ""
    try:
        uuid.UUID(value.strip())
    except ValueError:
        return ""
    return value.strip()


def _required_id(value: Any, what: str, key: str) -> str:
    found = _xero_id(value)
    if not found:
        raise DataError(f"a {what} without a usable {key} ({repr(value)[:40]})")
    return found


def _xero_datetime(value: Any) -> dt.datetime | None:
    """An instant from MS-JSON (/Date(ms+zzzz)/, the offset only names the zone it was written
    in) or an ISO string (read as UTC without a zone, as the SDK does)."""
    if not isinstance(value, str):
        return None
    match = _MS_DATE.match(value.strip())
    try:
        if match:
            return _EPOCH + dt.timedelta(milliseconds=int(match.group(1)))
        moment = dt.datetime.fromisoformat(value.strip())
    except (ValueError, OverflowError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _xero_date(value: Any) -> dt.date | None:
    """A calendar date: an MS-JSON one is midnight UTC of that date (as the SDK reads it); an ISO
    one (a DateString) keeps the date it names."""
    if isinstance(value, str) and not value.lstrip().startswith("/Date("):
        return values.iso_date(value.strip())
    moment = _xero_datetime(value)
    return moment.date() if moment else None


def payment_from_json(row: Any) -> XeroPayment:
    row = values.mapping(row)
    invoice = values.mapping(row.get("Invoice"))
    contact = values.mapping(invoice.get("Contact"))
    batch = values.mapping(row.get("BatchPayment"))
    return XeroPayment(
        payment_id=_required_id(row.get("PaymentID"), "payment", "PaymentID"),
        payment_type=values.text(row.get("PaymentType")),
        status=values.text(row.get("Status")),
        date=_xero_date(row.get("Date")),
        amount=values.money(row.get("Amount")),
        bank_amount=values.money(row.get("BankAmount")),
        currency_rate=values.decimal_value(row.get("CurrencyRate")),
        reference=values.text(row.get("Reference")),
        is_reconciled=values.flag(row.get("IsReconciled"), default=False),
        batch_payment_id=_xero_id(row.get("BatchPaymentID")) or _xero_id(batch.get("BatchPaymentID")),
        updated_at=_xero_datetime(row.get("UpdatedDateUTC")),
        invoice_id=_xero_id(invoice.get("InvoiceID")),
        invoice_number=values.text(invoice.get("InvoiceNumber")) or values.text(row.get("InvoiceNumber")),
        invoice_type=values.text(invoice.get("Type")),
        currency_code=values.text(invoice.get("CurrencyCode")),
        contact_id=_xero_id(contact.get("ContactID")),
        contact_name=values.text(contact.get("Name")),
    )


def bill_from_json(row: Any) -> XeroBill:
    row = values.mapping(row)
    contact = values.mapping(row.get("Contact"))
    tracking: list[XeroTrackingOption] = []
    for line in values.items(row.get("LineItems")):
        for option in values.items(values.mapping(line).get("Tracking")):
            found = values.mapping(option)
            item = XeroTrackingOption(category=values.text(found.get("Name")), option=values.text(found.get("Option")))
            if item not in tracking:
                tracking.append(item)
    return XeroBill(
        invoice_id=_required_id(row.get("InvoiceID"), "bill", "InvoiceID"),
        type=values.text(row.get("Type")),
        invoice_number=values.text(row.get("InvoiceNumber")),
        reference=values.text(row.get("Reference")),
        status=values.text(row.get("Status")),
        contact_id=_xero_id(contact.get("ContactID")),
        contact_name=values.text(contact.get("Name")),
        currency_code=values.text(row.get("CurrencyCode")),
        date=_xero_date(row.get("Date")),
        due_date=_xero_date(row.get("DueDate")),
        total=values.money(row.get("Total")) or Decimal("0.00"),
        amount_paid=values.money(row.get("AmountPaid")) or Decimal("0.00"),
        amount_due=values.money(row.get("AmountDue")) or Decimal("0.00"),
        tracking=tuple(tracking),
        updated_at=_xero_datetime(row.get("UpdatedDateUTC")),
        amount_credited=values.money(row.get("AmountCredited")) or Decimal("0.00"),
        allocations=tuple(
            XeroAllocation(
                kind=kind,
                document_id=_xero_id(values.mapping(entry).get(id_key)),
                number=values.text(values.mapping(entry).get("CreditNoteNumber")),
                amount=values.money(values.mapping(entry).get("AppliedAmount")),
                date=_xero_date(values.mapping(entry).get("Date")),
            )
            for kind, array, id_key in _ALLOCATION_LISTS_JSON
            for entry in values.items(row.get(array))
        ),
    )


def contact_from_json(row: Any) -> XeroContact:
    row = values.mapping(row)
    return XeroContact(
        contact_id=_required_id(row.get("ContactID"), "contact", "ContactID"),
        name=values.text(row.get("Name")),
        tax_number=values.text(row.get("TaxNumber")),
        account_number=values.text(row.get("AccountNumber")),
        contact_number=values.text(row.get("ContactNumber")),
        is_supplier=values.flag(row.get("IsSupplier"), default=False),
        status=values.text(row.get("ContactStatus")) or "ACTIVE",
        merged_to_contact_id=_xero_id(row.get("MergedToContactID")),
        updated_at=_xero_datetime(row.get("UpdatedDateUTC")),
    )


def organisation_from_json(row: Any) -> XeroOrganisation:
    row = values.mapping(row)
    return XeroOrganisation(
        tenant_id=_xero_id(row.get("OrganisationID")),
        name=values.text(row.get("Name")),
        base_currency=values.text(row.get("BaseCurrency")),
        short_code=values.text(row.get("ShortCode")),
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

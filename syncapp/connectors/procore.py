"""Typed reads and writes to the Procore REST API over httpx, with pacing and Procore's error table.

The sync engine calls `ProcoreClient`; it gets back the dataclasses of `connectors.types` and the
errors listed there. Every call sends `Procore-Company-Id` and a bearer token from the
`TokenSource`; every answer's X-Rate-Limit-* headers feed the pacer, so a steady run spreads its
calls over the spike window instead of collecting 429s.

Exactly-once: the POST that creates a contract payment is sent again here only when it cannot have
reached Procore (no connection made, a 429, a 503: `connectors.retries.PAYMENT_POST`). If it may
have (timeout, a 5xx but 503, connection lost after sending) the client raises
`TransientError(ambiguous=True)` and the caller re-reads the commitment's payments (looking for
its origin_id) before trying again.

One client per run or thread is the intended use; the pacer is thread-safe, the token cache is
a plain attribute (a lost race only costs an extra refresh call through the TokenSource, which
serialises refreshes itself).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import enum
import functools
import logging
import time
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

import httpx
from django.conf import settings

from syncapp.connectors import retries, values
from syncapp.connectors.base import BaseClient
from syncapp.connectors.pacing import MAX_WAIT_SECONDS, WindowPacer, header_float, header_int
from syncapp.connectors.types import (
    CallCounter,
    CallHealth,
    DataError,
    NeedsReconnect,
    NewContractPayment,
    NotFound,
    ProcoreCommitment,
    ProcoreCompany,
    ProcorePayment,
    ProcoreProject,
    ProcoreRequisition,
    ProcoreUser,
    ProcoreVendor,
    RateLimited,
    TimeRange,
    TokenSource,
    TransientError,
)
from syncapp.core.times import minute_by

logger = logging.getLogger(__name__)
T = TypeVar("T")

PER_PAGE = 1000  # Procore recommends at most 1,000-2,000; the lists we read are short
TOKEN_REUSE_SECONDS = 60.0  # TokenSource promises a token valid for at least a minute
TWO_PLACES = Decimal("0.01")
CHECK_NUMBER_MAX = 255


# --- The error table ------------------------------------------------------------------------------


class Action(enum.Enum):
    OK = "ok"
    REFRESH = "refresh the token and retry once"
    WAIT_RATE_LIMIT = "wait until X-Rate-Limit-Reset (or Retry-After), then retry"
    WAIT_OVERLOAD = "wait Retry-After, then retry"
    BACKOFF = "reads: retry with backoff; the payment POST: ambiguous, never retried here"
    FORBIDDEN = "403: reconnect if the app is not installed/connected, else no permission"
    NOT_FOUND = "missing, or not visible to this user"
    DATA = "Procore refused the record: block it with Procore's message"


ERROR_TABLE: dict[int, Action] = {
    400: Action.DATA,
    401: Action.REFRESH,
    403: Action.FORBIDDEN,
    404: Action.NOT_FOUND,
    409: Action.DATA,  # origin_id already owned
    422: Action.DATA,  # business rule; the body says which
    429: Action.WAIT_RATE_LIMIT,
    500: Action.BACKOFF,
    502: Action.BACKOFF,
    503: Action.WAIT_OVERLOAD,
    504: Action.BACKOFF,
}


def procore_action(status: int) -> Action:
    if 200 <= status < 300:
        return Action.OK
    if status in ERROR_TABLE:
        return ERROR_TABLE[status]
    if status >= 500 or status == 0:  # 0: no HTTP answer (timeout, connection error)
        return Action.BACKOFF
    return Action.DATA


_RECONNECT_HINTS = ("not connected", "not installed", "uninstall", "app is not", "revoked")


def says_reconnect(message: str) -> bool:
    """A 403 whose words say the app is no longer connected to the company (not a missing
    permission on one tool): an Admin must reconnect."""
    return any(hint in message.lower() for hint in _RECONNECT_HINTS)


def procore_messages(payload: Any) -> tuple[str, dict]:
    """Procore's error body flattened to one readable line, plus its field details.

    Procore answers errors in several shapes: {"errors": "text"}, {"errors": {"field": ["msg"]}},
    {"errors": ["msg"]}, {"error": "...", "message": "..."}, {"message": "..."}, and the newer
    services' {"error": {"code", "message", "details": [{"reason_code", "message"}]}}
    (developers.procore.com, Document Management technical guide, "Error Reference")."""
    if isinstance(payload, str):
        return payload.strip()[:300], {}
    if not isinstance(payload, dict):
        return "", {}
    if isinstance(payload.get("error"), dict):
        return _error_object(payload["error"])
    parts, details = _errors_said(payload.get("errors"))
    for key in ("error", "message", "reason"):
        value = payload.get(key)
        if isinstance(value, str | int) and str(value) and str(value) not in parts:
            parts.append(str(value))
    return "; ".join(p for p in parts if p)[:500], details


def _errors_said(errors: Any) -> tuple[list[str], dict]:
    """What an "errors" member says, line by line, and its per-field details (when it has them)."""
    if isinstance(errors, dict):
        return [_field_said(name, value) for name, value in errors.items()], errors
    if isinstance(errors, list):
        return [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors], {}
    return ([str(errors)] if errors else []), {}


def _field_said(name: Any, value: Any) -> str:
    """ "amount": ["must be positive"] -> "amount must be positive" (no label for base/error/message)."""
    said = ", ".join(str(v) for v in (value if isinstance(value, list) else [value]) if v not in (None, ""))
    return said if name in ("base", "error", "message") else f"{str(name).replace('_', ' ')} {said}"


def _error_object(error: dict) -> tuple[str, dict]:
    """{"code", "message", "details"}: the message, then what each detail says. Details come as a
    list of {"reason_code", "message", ...}, a per-field map, or text; the code is shown only when
    there is nothing else."""
    message = _text(error.get("message"))
    raw = error.get("details")
    details: dict = raw if isinstance(raw, dict) else {}
    said: list[str] = []
    if isinstance(raw, list):
        for item in raw:
            text = item.get("message") or item.get("reason_code") if isinstance(item, dict) else item
            said.append(_text(text))
        details = {"details": raw}
    elif isinstance(raw, dict):
        said.append(procore_messages({"errors": raw})[0])
    else:
        said.append(_text(raw))
    said = [text for text in said if text and text != message]
    line = f"{message}: {'; '.join(said)}" if message and said else message or "; ".join(said)
    return (line or _text(error.get("code")))[:500], details


def _text(value: Any) -> str:
    return "" if value is None or isinstance(value, dict | list) else str(value).strip()


# --- The client -----------------------------------------------------------------------------------


class ProcoreClient(BaseClient):
    """Procore for one company, with tokens from `tokens`."""

    def __init__(
        self,
        *,
        tokens: TokenSource,
        company_id: int,
        counter: CallCounter | None = None,
        timeout: float | None = None,
        max_wait: float = MAX_WAIT_SECONDS,
        pacer: WindowPacer | None = None,
        per_page: int = PER_PAGE,
        sleep: Callable[[float], None] = time.sleep,
        health: CallHealth | None = None,
        transport: httpx.BaseTransport | None = None,
    ):
        """`transport`: tests answer from an httpx.MockTransport instead of a server."""
        super().__init__(counter=counter, max_wait=max_wait, sleep=sleep, health=health)
        self._tokens = tokens
        self._per_page = per_page
        self.company_id = int(company_id)
        self._token: str | None = None
        self._token_at = 0.0
        # A shared pacer lets several clients of one Procore app/user share one budget.
        self.pacer = pacer or WindowPacer(sleep=self._sleep)
        self._http = httpx.Client(
            base_url=settings.PROCORE_API_URL,
            timeout=timeout if timeout is not None else settings.HTTP_TIMEOUT,
            headers={"Procore-Company-Id": str(self.company_id), "Accept": "application/json"},
            event_hooks={"request": [self._before_send]},
            transport=transport,
        )

    def _before_send(self, request: httpx.Request) -> None:
        if self.counter.before_send is not None:
            self.counter.before_send()

    def _close_transport(self) -> None:
        self._http.close()

    def _access_token(self) -> str:
        if self._token is None or time.monotonic() - self._token_at > TOKEN_REUSE_SECONDS:
            self._token = self._tokens.access_token()
            self._token_at = time.monotonic()
        return self._token

    # --- one call, through the error table ---

    def _request(
        self, method: str, path: str, *, params: dict | None = None, json: dict | None = None, policy=retries.READ
    ) -> httpx.Response:
        """One API call, answered as ERROR_TABLE says and tried again as `policy` says."""
        # Only a write the policy may not repeat is "unsure" when unanswered: the others are sent again.
        unsure = method != "GET" and not policy.repeat_unanswered
        request = functools.partial(self._attempt, method, path, params=params, json=json, unsure=unsure)
        return self._call(request, policy=policy, what=f"Procore {method} {path}")

    def _attempt(
        self, method: str, path: str, *, params: dict | None, json: dict | None, unsure: bool
    ) -> httpx.Response:
        """Send once (once more with a refreshed token after a 401); the answer, or the error
        ERROR_TABLE gives it (`retries.Again` when a later try may work)."""
        token = self._access_token()
        response = self._send(method, path, params=params, json=json, token=token, unsure=unsure)
        if response.status_code == 401:
            # NeedsReconnect from the token source propagates: the refresh was refused.
            self._token = self._tokens.refresh_after_unauthorized(token)
            self._token_at = time.monotonic()
            response = self._send(method, path, params=params, json=json, token=self._token, unsure=unsure)
        self._observe_limits(response)
        action = procore_action(response.status_code)
        if action is Action.OK:
            return response
        raise self._error(action, response, f"{method} {path}", unsure=unsure)

    def _send(
        self, method: str, path: str, *, params: dict | None, json: dict | None, token: str, unsure: bool
    ) -> httpx.Response:
        what = f"{method} {path}"
        self._refuse_if_spent(what)
        self.counter.waited_seconds += self.pacer.wait(self._max_wait)
        self.counter.count()
        try:
            return self._http.request(
                method, path, params=params, json=json, headers={"Authorization": f"Bearer {token}"}
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            # The request never left: safe to send again, even a POST.
            raise _failed(what, type(error).__name__, status=None, unsure=False) from error
        except httpx.TransportError as error:
            # Sent, but no answer (read timeout, reset): a write may have been applied.
            raise _failed(what, type(error).__name__, status=None, unsure=unsure) from error

    def _error(self, action: Action, response: httpx.Response, what: str, *, unsure: bool) -> Exception:
        status = response.status_code
        if action is Action.WAIT_RATE_LIMIT or action is Action.WAIT_OVERLOAD:
            return self._limited(action, response)
        if action is Action.BACKOFF:
            return _failed(what, f"HTTP {status}", status=status, unsure=unsure)
        message, details = procore_messages(_json_or_text(response))
        if action is Action.REFRESH:
            return NeedsReconnect("Procore refused a freshly refreshed token: reconnect Procore.", status=401)
        if action is Action.FORBIDDEN and says_reconnect(message):
            return NeedsReconnect(f"Procore: {message or 'the app is not connected'}; reconnect Procore.", status=403)
        if action is Action.FORBIDDEN:
            said = f": {message}" if message else "."
            return DataError(f"No permission in Procore for {what}{said}", status=403, details=details)
        if action is Action.NOT_FOUND:
            return NotFound(
                f"Procore has no such record, or this user cannot see it ({what}).", status=404, details=details
            )
        return DataError(f"Procore refused {what}: {message or f'HTTP {status}'}", status=status, details=details)

    def _limited(self, action: Action, response: httpx.Response) -> retries.Again:
        """A 429 or 503: no call through this client's pacer before the server said (a wait longer
        than the client may sleep reaches the caller as RateLimited: a run pauses until then). A 503
        means Procore did not take the request."""
        wait = self._retry_wait(response, action)
        self.pacer.block_for(wait)
        limited = RateLimited(_limit_message(action, wait), retry_after=wait, status=response.status_code)
        if action is Action.WAIT_OVERLOAD:
            return retries.Again(limited, budget=retries.Budget.OVERLOAD, wait=wait)
        self.counter.throttled += 1
        return retries.Again(limited, budget=retries.Budget.RATE_LIMIT, wait=wait)

    def _observe_limits(self, response: httpx.Response) -> None:
        reset = header_float(response.headers, "X-Rate-Limit-Reset")
        remaining = header_int(response.headers, "X-Rate-Limit-Remaining")
        if reset is None or remaining is None:
            return
        self.pacer.observe(
            limit=header_int(response.headers, "X-Rate-Limit-Limit"),
            remaining=remaining,
            seconds_to_reset=reset - _server_now(response),
        )

    def _refuse_if_spent(self, what: str) -> None:
        """The last answer said the window is spent until a time further off than this client may
        wait: say so at once instead of spending a call Procore would refuse (its rate-limiting
        guide: "Don't keep sending requests while over the limit")."""
        ahead = self.pacer.blocked_for()
        if ahead > self._max_wait:
            logger.info("Procore %s not sent: the rate limit is spent for %.0f s", what, ahead)
            raise RateLimited(_limit_message(Action.WAIT_RATE_LIMIT, ahead), retry_after=ahead)

    def _retry_wait(self, response: httpx.Response, action: Action = Action.WAIT_RATE_LIMIT) -> float:
        """How long to wait after a 429 or 503. Procore's rate-limiting guide: on a 429 "read
        X-Rate-Limit-Reset and pause requests until after that time" (it documents Retry-After only
        for the 503 of heavy load), so a 429 waits for the reset, a 503 for Retry-After; each falls
        back on the other header, then on a second."""
        retry_after = header_float(response.headers, "Retry-After")
        reset = header_float(response.headers, "X-Rate-Limit-Reset")
        until_reset = max(0.5, reset - _server_now(response)) if reset is not None else None
        first, second = (until_reset, retry_after) if action is Action.WAIT_RATE_LIMIT else (retry_after, until_reset)
        for wait in (first, second):
            if wait is not None:
                return max(0.0, wait)
        return 1.0

    def _all_pages(self, path: str, params: dict) -> list[dict]:
        rows: list[dict] = []
        page = 1
        while True:
            response = self._request("GET", path, params={**params, "page": page, "per_page": self._per_page})
            batch = response.json()
            if not isinstance(batch, list):
                raise DataError(f"Procore answered GET {path} with something that is not a list.")
            rows.extend(batch)
            if not _has_next(response, len(batch), len(rows), self._per_page):
                return rows
            page += 1

    # --- reads ---

    def me(self) -> ProcoreUser:
        data = self._request("GET", "/rest/v1.0/me", params={"company_id": self.company_id}).json()
        return user_from_json(data)

    def companies(self) -> list[ProcoreCompany]:
        return parse_rows(self._all_pages("/rest/v1.0/companies", {}), company_from_json, "company")

    def projects(self, *, changed: TimeRange | None = None, vendor_id: int | None = None) -> list[ProcoreProject]:
        """The company's active projects; `changed`: only those updated in that range; `vendor_id`:
        only those "with the specified Vendor ID" (RestV10ProjectsGet `filters[updated_at]`,
        `filters[vendor_id]`; what the latter matches exactly is not documented further)."""
        params: dict[str, Any] = {"company_id": self.company_id}
        if changed is not None:
            params["filters[updated_at]"] = changed.as_filter()
        if vendor_id is not None:
            params["filters[vendor_id]"] = vendor_id
        return parse_rows(self._all_pages("/rest/v1.0/projects", params), project_from_json, "project")

    def project_count(self) -> int | None:
        """One page of one project: the cheap company-scoped read behind "Test connection" (it
        proves the app is installed in the company). The count when Procore sends `Total`."""
        response = self._request(
            "GET", "/rest/v1.0/projects", params={"company_id": self.company_id, "page": 1, "per_page": 1}
        )
        return header_int(response.headers, "Total")

    def vendors(
        self, *, origin_id: str | None = None, search: str | None = None, changed: TimeRange | None = None
    ) -> list[ProcoreVendor]:
        params: dict[str, Any] = {"company_id": self.company_id}
        if changed is not None:  # RestV10VendorsGet filters[updated_at]
            params["filters[updated_at]"] = changed.as_filter()
        if origin_id:
            params["filters[origin_id]"] = origin_id
        if search:
            params["filters[search]"] = search
        return parse_rows(self._all_pages("/rest/v1.0/vendors", params), vendor_from_json, "vendor")

    def commitments(
        self, project_id: int, *, deleted: bool = False, changed: TimeRange | None = None
    ) -> list[ProcoreCommitment]:
        """Subcontracts and purchase orders of a project, every status; with `deleted`, only the
        deleted ones (`filters[include_deleted]=only`, documented on both lists; without it Procore
        leaves deleted commitments out); with `changed`, only those updated in that range
        (`filters[updated_at]`, also on both). The generic /commitments list documents no filters
        and no `type`, so the two typed lists are read."""
        found: list[ProcoreCommitment] = []
        params: dict[str, Any] = {"project_id": project_id}
        if deleted:
            params["filters[include_deleted]"] = "only"
        if changed is not None:
            params["filters[updated_at]"] = changed.as_filter()
        for path, kind in (
            ("/rest/v1.0/work_order_contracts", "WorkOrderContract"),
            ("/rest/v1.0/purchase_order_contracts", "PurchaseOrderContract"),
        ):
            rows = self._all_pages(path, params)
            read = functools.partial(commitment_from_json, project_id=project_id, kind=kind)
            found.extend(parse_rows(rows, read, kind))
        return found

    def commitment(self, commitment_id: int, *, project_id: int) -> tuple[ProcoreCommitment, list[ProcorePayment]]:
        """One commitment with the payments issued on it (what exactly-once re-reads)."""
        data = self._request(
            "GET", f"/rest/v1.0/commitments/{int(commitment_id)}", params={"project_id": project_id}
        ).json()
        commitment = commitment_from_json(data, project_id=project_id, kind=_s(values.mapping(data).get("type")))
        return commitment, payments_from_json(values.items(data.get("payments_issued")), commitment_id=commitment.id)

    def requisitions(
        self,
        *,
        project_id: int,
        commitment_id: int | None = None,
        status: str | None = None,
        origin_id: str | None = None,
        changed: TimeRange | None = None,
    ) -> list[ProcoreRequisition]:
        params: dict[str, Any] = {"project_id": project_id}
        if changed is not None:  # RestV11RequisitionsGet filters[updated_at]
            params["filters[updated_at]"] = changed.as_filter()
        if commitment_id is not None:
            params["filters[commitment_id]"] = commitment_id
        if status:
            params["filters[status]"] = status
        if origin_id:
            params["filters[origin_id]"] = origin_id
        rows = self._all_pages("/rest/v1.1/requisitions", params)
        return parse_rows(rows, lambda row: requisition_from_json(row, project_id=project_id), "subcontractor invoice")

    def contract_payments(self, *, project_id: int, commitment_id: int) -> list[ProcorePayment]:
        rows = self._all_pages("/rest/v1.0/contract_payments", {"project_id": project_id, "contract_id": commitment_id})
        return payments_from_json(rows, commitment_id=commitment_id)

    # --- writes ---

    def create_vendor(
        self,
        *,
        name: str,
        origin_id: str,
        notes: str = "",
        origin_code: str = "",
        origin_data: str = "",
        email_address: str = "",
    ) -> ProcoreVendor:
        """Only attributes RestV10VendorsPost's request body documents (it has no ABN/EIN field:
        a tax number goes in `notes` for people; the origin_id is what the sync matches on)."""
        vendor: dict[str, Any] = {"name": name, "origin_id": origin_id, "is_active": True}
        for key, value in (
            ("notes", notes),
            ("origin_code", origin_code),
            ("origin_data", origin_data),
            ("email_address", email_address),
        ):
            if value:
                vendor[key] = value
        response = self._request(
            "POST",
            "/rest/v1.0/vendors",
            json={"company_id": self.company_id, "vendor": vendor},
            policy=retries.IDEMPOTENT_WRITE,
        )
        return vendor_from_json(response.json())

    def create_contract_payment(self, payment: NewContractPayment) -> ProcorePayment:
        """POST one payment issued. Never sent again here once it may have reached Procore: see module doc."""
        # A 503 (overloaded) still after the waits is RateLimited, as for a read: Procore did not
        # take the payment, and the run pauses until Retry-After instead of failing it.
        response = self._request(
            "POST", "/rest/v1.0/contract_payments", json=contract_payment_body(payment), policy=retries.PAYMENT_POST
        )
        try:
            return payment_from_json(_json_or_text(response), commitment_id=payment.commitment_id)
        except DataError as error:
            # Procore took it (2xx) but its answer is unreadable: the caller re-reads the
            # commitment's payments for the origin_id instead of failing (and later re-posting).
            raise TransientError(
                f"Procore took the payment but its answer is unreadable ({error.message}); re-read before retrying.",
                status=response.status_code,
                ambiguous=True,
            ) from error

    def delete_contract_payment(self, payment_id: int, *, project_id: int, commitment_id: int) -> None:
        # A repeated DELETE that already worked answers 404: the caller checks the payment is gone.
        self._request(
            "DELETE",
            f"/rest/v1.0/contract_payments/{int(payment_id)}",
            params={"project_id": project_id, "contract_id": commitment_id},
            policy=retries.DELETE,
        )


# --- helpers: paging, JSON -> types, types -> JSON -----------------------------------------------


def _failed(what: str, detail: str, *, status: int | None, unsure: bool) -> retries.Again:
    """No answer, or a server error: worth another try, unless the request was a write that may
    have been applied (`unsure`), which only a policy that may repeat it sends again."""
    if unsure:
        said = f"Procore answered {status} to {what}" if status else f"No answer from Procore to {what} ({detail})"
        error = TransientError(
            f"{said}; it may have been applied: re-read before retrying.", status=status, ambiguous=True
        )
    else:
        error = TransientError(f"Procore did not answer {what} ({detail}).", status=status)
    return retries.Again(error, budget=retries.Budget.FAILURE, unanswered=unsure)


def _limit_message(action: Action, wait: float) -> str:
    """For people (a web page, a run's log): until when, in the site's local time, rounded up to
    the minute so that trying again at that minute works."""
    # To the second first: the wait was measured from X-Rate-Limit-Reset, a whole second.
    until = minute_by(dt.datetime.fromtimestamp(round(time.time() + wait), tz=dt.UTC))
    if action is Action.WAIT_OVERLOAD:
        return f"Procore is overloaded; try again after {until:%H:%M}."
    return f"Procore's rate limit is spent until {until:%H:%M}."


def _server_now(response: httpx.Response) -> float:
    """Now, on the clock X-Rate-Limit-Reset is written in. Procore suggests its Date header, but
    that has whole seconds (up to a second lost per window); so our own clock is used unless the
    Date header shows it is really off (more than 2 s)."""
    now = time.time()
    date = response.headers.get("Date")
    if date:
        try:
            server = email.utils.parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            return now
        if abs(server - now) > 2.0:
            return server
    return now


def _has_next(response: httpx.Response, count: int, seen: int, per_page: int) -> bool:
    link = response.headers.get("Link")
    if link is not None:
        return 'rel="next"' in link
    total = header_int(response.headers, "Total")
    if total is not None:
        return seen < total and count > 0
    return count >= per_page


def _json_or_text(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:300]


# The parsers' contract (issue 8, bad and missing data): each returns its typed object with safe
# empty values for absent, null, mistyped or unknown fields (connectors.values), or raises
# DataError when the row cannot be used at all (not an object, no usable id). The list readers
# skip such a row with a log line; one bad row never stops a run.
_s = values.text
_id = values.integer_id
_money = values.money
_date = values.iso_date


def _int(value: Any) -> int | None:
    """An integer the product sends (payment_number), or None."""
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _object(row: Any, what: str) -> dict:
    if not isinstance(row, dict):
        raise DataError(f"Procore sent a {what} that is not an object ({type(row).__name__}).")
    return row


def _required_id(row: dict, what: str, key: str = "id") -> int:
    number = _id(row.get(key))
    if number is None:
        raise DataError(f"Procore sent a {what} without a usable {key} ({_preview(row.get(key))}).")
    return number


def _preview(value: Any) -> str:
    return repr(value)[:40]


def parse_rows(rows: list, parse: Callable[[Any], T], what: str) -> list[T]:
    """Every row `parse` can read; a row it refuses (DataError) is left out with a log line."""
    parsed: list[T] = []
    for row in rows:
        try:
            parsed.append(parse(row))
        except DataError as error:
            logger.warning("Skipped a row Procore sent: %s", error.message)
    return parsed


def user_from_json(data: Any) -> ProcoreUser:
    data = _object(data, "user (/me)")
    return ProcoreUser(id=_required_id(data, "user"), login=_s(data.get("login")), name=_s(data.get("name")))


def company_from_json(row: Any) -> ProcoreCompany:
    row = _object(row, "company")
    return ProcoreCompany(
        id=_required_id(row, "company"),
        name=_s(row.get("name")),
        is_active=values.flag(row.get("is_active"), default=True),
    )


def _currency(row: dict) -> str:
    """The currency Procore states on a commitment or subcontractor invoice (documented in the
    v1.1 requisitions schema's currency_configuration); "" when it states none."""
    configuration = row.get("currency_configuration")
    if not isinstance(configuration, dict):
        return ""
    code = configuration.get("currency_iso_code")
    return code.strip().upper() if isinstance(code, str) else ""


def project_from_json(row: dict) -> ProcoreProject:
    row = _object(row, "project")
    return ProcoreProject(
        id=_required_id(row, "project"),
        name=_s(row.get("name")),
        project_number=_s(row.get("project_number")),
        origin_id=_s(row.get("origin_id")),
    )


def vendor_from_json(row: dict) -> ProcoreVendor:
    row = _object(row, "vendor")
    return ProcoreVendor(
        id=_required_id(row, "vendor"),
        name=_s(row.get("name")),
        origin_id=_s(row.get("origin_id")),
        origin_code=_s(row.get("origin_code")),
        business_id=_s(row.get("business_id")),
        is_active=values.flag(row.get("is_active"), default=True),
    )


def commitment_from_json(row: dict, *, project_id: int, kind: str) -> ProcoreCommitment:
    row = _object(row, "commitment")
    vendor = values.mapping(row.get("vendor"))
    project = values.mapping(row.get("project"))
    return ProcoreCommitment(
        id=_required_id(row, "commitment"),
        # The project asked for, unless the row names a (readable) one.
        project_id=_id(project.get("id")) or project_id,
        kind=kind or _s(row.get("type")),
        number=_s(row.get("number")),
        title=_s(row.get("title")),
        status=_s(row.get("status")),
        vendor_id=_id(vendor.get("id")),
        grand_total=_money(row.get("grand_total")),
        currency_code=_currency(row),
    )


def requisition_from_json(row: dict, *, project_id: int | None = None) -> ProcoreRequisition:
    """`project_id`: the project the list was asked for, used when the row does not say. A
    subcontractor invoice without a readable commitment_id cannot be matched: DataError."""
    row = _object(row, "subcontractor invoice")
    summary = values.mapping(row.get("summary"))
    total = _money(row.get("total_claimed_amount"))
    if total is None:
        total = _money(summary.get("current_payment_due"))
    row_project = _id(row.get("project_id")) or project_id
    if row_project is None:
        raise DataError(f"Procore sent a subcontractor invoice without a usable project_id ({_preview(row.get('id'))})")
    return ProcoreRequisition(
        id=_required_id(row, "subcontractor invoice"),
        project_id=row_project,
        commitment_id=_required_id(row, "subcontractor invoice", key="commitment_id"),
        number=_id(row.get("number")),
        invoice_number=_s(row.get("invoice_number")),
        status=_s(row.get("status")),
        origin_id=_s(row.get("origin_id")),
        total_amount=total,
        currency_code=_currency(row),
    )


def payments_from_json(rows: list, *, commitment_id: int | None) -> list[ProcorePayment]:
    """A commitment's payments. A row without a usable id is left out unless it carries an
    origin_id: that one may be ours, and leaving it out could make exactly-once post it again,
    so the whole list is refused (DataError: the payments on it fail with the reason)."""
    parsed: list[ProcorePayment] = []
    for row in rows:
        try:
            parsed.append(payment_from_json(row, commitment_id=commitment_id))
        except DataError as error:
            if _s(values.mapping(row).get("origin_id")):
                raise DataError(f"{error.message} It carries origin_id {_preview(row.get('origin_id'))}.") from error
            logger.warning("Skipped a row Procore sent: %s", error.message)
    return parsed


def payment_from_json(row: dict, *, commitment_id: int | None = None) -> ProcorePayment:
    """An unreadable amount is 0.00 (reconciliation then shows the difference to Xero's)."""
    row = _object(row, "payment")
    return ProcorePayment(
        id=_required_id(row, "payment"),
        commitment_id=_id(row.get("contract_id")) or commitment_id,
        amount=_money(row.get("amount")) or Decimal("0.00"),
        date=_date(row.get("date")),
        invoice_number=_s(row.get("invoice_number")),
        check_number=_s(row.get("check_number")),
        origin_id=_s(row.get("origin_id")),
        requisition_id=_id(row.get("requisition_id")),
    )


def contract_payment_body(payment: NewContractPayment) -> dict:
    """The POST body: amount as a 2-place string, ISO dates, and only the fields we have
    (payment_number only when it is an integer, as Procore requires)."""
    amount = Decimal(payment.amount).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
    fields: dict[str, Any] = {
        "date": payment.date.isoformat(),
        "amount": f"{amount:.2f}",
        "origin_id": payment.origin_id,
        "payment_method": payment.payment_method,
    }
    optional: dict[str, Any] = {
        "invoice_number": payment.invoice_number,
        "invoice_date": payment.invoice_date.isoformat() if payment.invoice_date else "",
        "check_number": payment.check_number[:CHECK_NUMBER_MAX],
        "notes": payment.notes,
        "origin_data": payment.origin_data,
        "requisition_id": payment.requisition_id,
    }
    fields.update({k: v for k, v in optional.items() if v not in (None, "")})
    for key, value in (payment.extra or {}).items():
        if key in ("payment_number", "draw_request_number"):
            number = _int(value)
            if number is not None and str(number) == str(value).strip():
                fields[key] = number
        elif value not in (None, ""):
            fields[key] = value
    return {"project_id": payment.project_id, "contract_id": payment.commitment_id, "contract_payment": fields}

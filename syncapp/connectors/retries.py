"""When the Xero and Procore clients call again, in one place: one retry policy per kind of call.

A client makes each call as `policy.call(attempt, ...)`: `attempt` sends the request once and
answers it through the API's error table; when the answer says a later try may work it raises
`Again`, naming the budget the try comes out of and the error to raise once that budget is spent.
Tenacity does the looping; the policy decides whether, and after how long, to call again:

* `FAILURE`: no answer, a server error. Tries with exponential backoff (`backoff_delay`).
* `OVERLOAD`: Procore's 503 (heavy load), as many tries, each after its Retry-After.
* `RATE_LIMIT`: a 429 that says when to come back (Procore's X-Rate-Limit-Reset, Xero's
  Retry-After).

When the server said when to come back, the client has told its pacer (`WindowPacer.block_for`),
which sleeps until then before the next call (and holds back the other threads sharing it).
* `BUSY`: Xero's 429 without Retry-After (too many calls at once): short growing waits.

A wait the server asked for (a rate limit, an overload) longer than the client may sleep
(`max_wait`: 0 for a web request, a minute for a run) is never slept here: the error goes to the
caller at once (a run pauses until the reset). A web request does not retry Xero's BUSY either.
The short backoff between tries after a failure (a fraction of a second to two) is slept by web
requests too.

The kinds of call differ in one thing, whether a request that may already have been carried out
(sent, then no answer or a 5xx) may be sent again: a read, a vendor create (its origin_id makes a
repeat fail with 409/422) and a delete (a repeat of one that worked answers 404, which the caller
checks) may; the contract payment POST may not: the caller re-reads the commitment first, which
is the engine's exactly-once rule (sync/send.py).

The bounds: a call that keeps failing costs at most `FAILURE_TRIES` requests, 4 (before, the engine
retried the client's tries six times: 24 requests for a 500, 54 for a 503); a run that keeps
meeting 429s waits `RATE_LIMIT_WAITS` windows out, then pauses until the reset.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import random
from collections import Counter
from collections.abc import Callable
from typing import TypeVar

import tenacity

from syncapp.connectors.conf import ConnectorsConf
from syncapp.connectors.types import ConnectorError

logger = logging.getLogger(__name__)
T = TypeVar("T")

FAILURE_TRIES = 4
RATE_LIMIT_WAITS = 8
# Xero's "too many calls at once" says nothing of how long: short waits from BUSY_WAIT_BASE, each at
# most BUSY_WAIT_CAP seconds, BUSY_TRIES refusals in a row at most (about 20 s in all: the time other
# calls in flight take, so not shortened by SYNC_RETRY_BASE_SECONDS).
BUSY_TRIES = 8
BUSY_WAIT_BASE = 0.5
BUSY_WAIT_CAP = 4.0
BACKOFF_CAP = 8.0


def backoff_delay(attempt: int, *, base: float | None = None, cap: float = BACKOFF_CAP) -> float:
    """Exponential backoff with "equal jitter" for retry number `attempt` (0-based): half the
    delay is fixed so retries never hammer the server, half is random so workers spread out.
    The base is SYNC_RETRY_BASE_SECONDS unless given (tests make it tiny)."""
    if base is None:
        base = ConnectorsConf.SYNC_RETRY_BASE_SECONDS
    delay = min(cap, base * (2**attempt))
    return delay / 2 + random.uniform(0, delay / 2)


class Budget(enum.Enum):
    FAILURE = "no answer, or a server error: back off"
    OVERLOAD = "Procore overloaded (503): wait Retry-After"
    RATE_LIMIT = "a 429 that says when: wait for it (the client's pacer sleeps)"
    BUSY = "a 429 that does not say when: short growing waits"


class Again(Exception):
    """One attempt failed in a way a later try may not: `error` is what the caller gets once the
    budget is spent; `wait` the server's word on when to come back (None: back off)."""

    def __init__(self, error: ConnectorError, *, budget: Budget, wait: float | None = None, unanswered: bool = False):
        super().__init__(error.message)
        self.error = error
        self.budget = budget
        self.wait = wait
        self.unanswered = unanswered  # the request may have been carried out


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    name: str
    repeat_unanswered: bool  # may a request that may have been carried out be sent again
    tries: tuple[tuple[Budget, int], ...] = (
        (Budget.FAILURE, FAILURE_TRIES),
        (Budget.OVERLOAD, FAILURE_TRIES),
        (Budget.RATE_LIMIT, RATE_LIMIT_WAITS + 1),
        (Budget.BUSY, BUSY_TRIES),
    )

    def call(self, attempt: Callable[[], T], *, sleep: Callable[[float], None], max_wait: float, what: str) -> T:
        """`attempt()` until it returns, or raises anything but a retried `Again`; an `Again` that is
        not retried raises its error."""
        decide = _Decision(self, max_wait)
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(decide.again),
            wait=decide.delay,
            stop=tenacity.stop_never,  # the budgets, in `again`, end the tries
            sleep=sleep,
            before_sleep=lambda state: _log(what, state),
            reraise=True,
        )
        try:
            return retrying(attempt)
        except Again as again:
            raise again.error from None


class _Decision:
    """The per-call state of a policy: how much of each budget is spent."""

    def __init__(self, policy: RetryPolicy, max_wait: float):
        self._policy = policy
        self._max_wait = max_wait
        self._limits = dict(policy.tries)
        self._spent: Counter[Budget] = Counter()

    def again(self, error: BaseException) -> bool:
        if not isinstance(error, Again):
            return False
        if error.unanswered and not self._policy.repeat_unanswered:
            return False
        if error.wait is not None and error.wait > self._max_wait:
            return False  # longer than this client may sleep: the caller decides (a run pauses)
        if error.budget is Budget.BUSY and self._max_wait == 0:
            return False  # a web request does not wait for Xero's other calls to finish (up to ~20 s)
        self._spent[error.budget] += 1
        return self._spent[error.budget] < self._limits[error.budget]

    def delay(self, state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if not isinstance(error, Again):
            return 0.0
        if error.wait is not None:
            return 0.0  # the client blocked its pacer until then: the pacer sleeps before the next call
        tries = self._spent[error.budget]
        if error.budget is Budget.BUSY:
            return backoff_delay(tries - 1, base=BUSY_WAIT_BASE, cap=BUSY_WAIT_CAP)
        return backoff_delay(tries - 1)


def _log(what: str, state: tenacity.RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    delay = state.next_action.sleep if state.next_action else 0.0
    logger.info("%s failed (%s); trying again in %.1f s", what, error, delay)


# The payment POST, answered with a 5xx, is posted again by the engine only after it read the
# commitment and did not find it there: this many posts of one payment in a run at most.
PAYMENT_POSTS = FAILURE_TRIES

READ = RetryPolicy("read", repeat_unanswered=True)
# A vendor create is safe to repeat: Procore refuses a second vendor with the same origin_id.
IDEMPOTENT_WRITE = RetryPolicy("idempotent write", repeat_unanswered=True)
# A repeated DELETE that already worked answers 404: the caller checks the payment is gone.
DELETE = RetryPolicy("delete", repeat_unanswered=True)
# Never sent again once it may have reached Procore: the caller re-reads the commitment first.
PAYMENT_POST = RetryPolicy("payment post", repeat_unanswered=False)

"""Xero's API rate limits, counted in process memory.

What Xero documents (https://developer.xero.com/documentation/guides/oauth2/limits/, "API rate
limits"; the same text is quoted by Xero's own staff in XeroAPI/xero-node#634):

* per organisation (tenant) and app: 5 calls in progress at once ("concurrent"), 60 calls a
  minute ("minute"), 5,000 a day ("day"); per app across all tenants: 10,000 calls a minute
  ("appminute"). Every answer carries X-MinLimit-Remaining, X-DayLimit-Remaining and
  X-AppMinLimit-Remaining.
* "Requests are counted against a fixed window which will reset at different times for each
  tenant": so the minute limit is a FIXED 60-second window per tenant, not a rolling one, and its
  boundary is the tenant's own (not the calendar minute). Here each tenant's windows start at an
  offset of 0-59 s taken from its id, so two organisations reset at different moments.
* A 429 names the limit in X-Rate-Limit-Problem; "If you have exceeded the minute or daily limit
  you will also receive a Retry-After http header": only those two carry Retry-After. A
  concurrent (or app-minute) 429 has none, so the sandbox sends none.

Limits come from the `Behaviour` row, so tests and benchmarks can lower them while the server
runs. The sandbox server is one threaded process, so a lock around plain dicts is enough. Refused
calls are not counted. `reset()` forgets everything (tests call it between cases). `_clock` is
the wall clock (windows are fixed in time), swappable by tests.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
import zlib
from collections import defaultdict, deque
from dataclasses import dataclass

APP_MINUTE_LIMIT = 10_000
CONCURRENT_LIMIT = 5
WINDOW_SECONDS = 60.0
# The two problems Xero's 429 carries a Retry-After for (limits page, see the docstring).
PROBLEMS_WITH_RETRY_AFTER = ("minute", "day")

_clock = time.time
_lock = threading.Lock()
_minute_calls: dict[str, tuple[int, int]] = {}  # tenant -> (window number, calls counted in it)
_app_calls: dict[str, deque[float]] = defaultdict(deque)  # client_id -> call times (rolling)
_day_calls: dict[tuple[str, dt.date], int] = defaultdict(int)
_in_flight: dict[str, int] = defaultdict(int)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    min_remaining: int
    day_remaining: int
    app_min_remaining: int
    problem: str = ""  # minute | day | concurrent | appminute
    retry_after: int = 0

    def headers(self) -> dict[str, str]:
        headers = {
            "X-MinLimit-Remaining": str(self.min_remaining),
            "X-DayLimit-Remaining": str(self.day_remaining),
            "X-AppMinLimit-Remaining": str(self.app_min_remaining),
        }
        if not self.allowed:
            headers["X-Rate-Limit-Problem"] = self.problem
            if self.problem in PROBLEMS_WITH_RETRY_AFTER:
                headers["Retry-After"] = str(self.retry_after)
        return headers


def reset() -> None:
    """Forget every counted call."""
    with _lock:
        _minute_calls.clear()
        _app_calls.clear()
        _day_calls.clear()
        _in_flight.clear()


def window_offset(tenant_id: str) -> float:
    """Where this tenant's minute windows start within a minute (0-59 s): fixed per tenant, and
    different between tenants, as Xero's "reset at different times for each tenant" says."""
    return float(zlib.crc32(tenant_id.encode()) % 60)


def _window(tenant_id: str, now: float) -> tuple[int, float]:
    """(this tenant's window number at `now`, seconds until that window ends)."""
    offset = window_offset(tenant_id)
    number = math.floor((now - offset) / WINDOW_SECONDS)
    ends_at = offset + (number + 1) * WINDOW_SECONDS
    return number, ends_at - now


def _minute_used(tenant_id: str, now: float) -> int:
    number, _ = _window(tenant_id, now)
    counted_in, used = _minute_calls.get(tenant_id, (number, 0))
    return used if counted_in == number else 0


def _prune(calls: deque[float], now: float) -> None:
    while calls and calls[0] <= now - WINDOW_SECONDS:
        calls.popleft()


def _seconds_to_utc_midnight() -> int:
    now = dt.datetime.now(dt.UTC)
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    return max(1, math.ceil((midnight - now).total_seconds()))


def acquire(*, tenant_id: str, client_id: str, minute_limit: int, day_limit: int) -> Verdict:
    """Count one call for this organisation and app, or refuse it. An allowed call holds one of
    the organisation's concurrent slots until `release(tenant_id)`."""
    now = _clock()
    today = dt.datetime.now(dt.UTC).date()
    with _lock:
        window, seconds_left = _window(tenant_id, now)
        minute_used = _minute_used(tenant_id, now)
        app = _app_calls[client_id]
        _prune(app, now)
        day_used = _day_calls[(tenant_id, today)]

        def refuse(problem: str, retry_after: int = 0) -> Verdict:
            return Verdict(
                allowed=False,
                min_remaining=max(0, minute_limit - minute_used),
                day_remaining=max(0, day_limit - day_used),
                app_min_remaining=max(0, APP_MINUTE_LIMIT - len(app)),
                problem=problem,
                retry_after=retry_after,
            )

        if day_used >= day_limit:
            return refuse("day", _seconds_to_utc_midnight())
        if minute_used >= minute_limit:
            # Retry-After: until this tenant's fixed window ends (whole seconds, at least 1).
            return refuse("minute", max(1, math.ceil(seconds_left)))
        if len(app) >= APP_MINUTE_LIMIT:
            return refuse("appminute")
        if _in_flight[tenant_id] >= CONCURRENT_LIMIT:
            return refuse("concurrent")

        _minute_calls[tenant_id] = (window, minute_used + 1)
        app.append(now)
        _day_calls[(tenant_id, today)] = day_used + 1
        _in_flight[tenant_id] += 1
        return Verdict(
            allowed=True,
            min_remaining=max(0, minute_limit - minute_used - 1),
            day_remaining=max(0, day_limit - day_used - 1),
            app_min_remaining=max(0, APP_MINUTE_LIMIT - len(app)),
        )


def release(tenant_id: str) -> None:
    """The call that `acquire` allowed has finished."""
    with _lock:
        if _in_flight[tenant_id] > 0:
            _in_flight[tenant_id] -= 1


def current(*, tenant_id: str, client_id: str, minute_limit: int, day_limit: int) -> Verdict:
    """The remaining counts without taking a call (for headers on injected 429s)."""
    now = _clock()
    today = dt.datetime.now(dt.UTC).date()
    with _lock:
        app = _app_calls[client_id]
        _prune(app, now)
        return Verdict(
            allowed=True,
            min_remaining=max(0, minute_limit - _minute_used(tenant_id, now)),
            day_remaining=max(0, day_limit - _day_calls[(tenant_id, today)]),
            app_min_remaining=max(0, APP_MINUTE_LIMIT - len(app)),
        )

"""Xero's API rate limits, counted in process memory.

Per organisation: `minute_limit` calls in any rolling 60 seconds, `day_limit` calls per UTC day,
and at most 5 calls in flight at once. Per app: 10,000 calls per rolling minute. Limits come from
the `Behaviour` row, so tests and benchmarks can lower them while the server runs.

The sandbox server is one threaded process, so a lock around plain dicts is enough. Refused calls
are not counted, as with Xero. `reset()` forgets everything (tests call it between cases).
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass

APP_MINUTE_LIMIT = 10_000
CONCURRENT_LIMIT = 5
WINDOW_SECONDS = 60.0

_lock = threading.Lock()
_minute_calls: dict[str, deque[float]] = defaultdict(deque)  # tenant -> call times (monotonic)
_app_calls: dict[str, deque[float]] = defaultdict(deque)  # client_id -> call times
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
            headers["Retry-After"] = str(self.retry_after)
            headers["X-Rate-Limit-Problem"] = self.problem
        return headers


def reset() -> None:
    """Forget every counted call."""
    with _lock:
        _minute_calls.clear()
        _app_calls.clear()
        _day_calls.clear()
        _in_flight.clear()


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
    now = time.monotonic()
    today = dt.datetime.now(dt.UTC).date()
    with _lock:
        minute = _minute_calls[tenant_id]
        app = _app_calls[client_id]
        _prune(minute, now)
        _prune(app, now)
        day_used = _day_calls[(tenant_id, today)]

        def refuse(problem: str, retry_after: int) -> Verdict:
            return Verdict(
                allowed=False,
                min_remaining=max(0, minute_limit - len(minute)),
                day_remaining=max(0, day_limit - day_used),
                app_min_remaining=max(0, APP_MINUTE_LIMIT - len(app)),
                problem=problem,
                retry_after=retry_after,
            )

        if day_used >= day_limit:
            return refuse("day", _seconds_to_utc_midnight())
        if len(minute) >= minute_limit:
            return refuse("minute", max(1, math.ceil(minute[0] + WINDOW_SECONDS - now)) if minute else 1)
        if len(app) >= APP_MINUTE_LIMIT:
            return refuse("appminute", max(1, math.ceil(app[0] + WINDOW_SECONDS - now)))
        if _in_flight[tenant_id] >= CONCURRENT_LIMIT:
            return refuse("concurrent", 1)

        minute.append(now)
        app.append(now)
        _day_calls[(tenant_id, today)] = day_used + 1
        _in_flight[tenant_id] += 1
        return Verdict(
            allowed=True,
            min_remaining=max(0, minute_limit - len(minute)),
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
    now = time.monotonic()
    today = dt.datetime.now(dt.UTC).date()
    with _lock:
        minute = _minute_calls[tenant_id]
        app = _app_calls[client_id]
        _prune(minute, now)
        _prune(app, now)
        return Verdict(
            allowed=True,
            min_remaining=max(0, minute_limit - len(minute)),
            day_remaining=max(0, day_limit - _day_calls[(tenant_id, today)]),
            app_min_remaining=max(0, APP_MINUTE_LIMIT - len(app)),
        )

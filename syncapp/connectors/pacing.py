"""Rate-limit pacing shared by the Xero and Procore clients (retry delays: `connectors.retries`).

Both APIs tell us, on every answer, how many calls are left in the current window. Waiting for a
429 wastes a call (failed calls count too) and, on Procore, a whole spike window; so the clients
feed each answer's headers into a `WindowPacer`, which spreads the calls that are left over the
time that is left once the budget runs low. The pacer is thread-safe: threads sharing one client
reserve their slots under a lock and sleep outside it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

# Never sleep longer than this for a single rate-limit answer inside a client: a longer wait
# (e.g. Xero's day limit, Procore's hourly limit) is the caller's decision, not a hidden sleep.
MAX_WAIT_SECONDS = 60.0
# Calls are spread over what is left of a window only when it resets within this many seconds
# (Procore's 10-second spike window, Xero's minute), never over an hour.
SPREAD_HORIZON_SECONDS = MAX_WAIT_SECONDS


def header_int(headers, name: str) -> int | None:
    """An integer header, or None when it is missing or not a number."""
    value = headers.get(name) if headers is not None else None
    if value is None:
        return None
    try:
        return int(float(str(value).strip()))
    except ValueError:
        return None


def header_float(headers, name: str) -> float | None:
    value = headers.get(name) if headers is not None else None
    if value is None:
        return None
    try:
        return float(str(value).strip())
    except ValueError:
        return None


class WindowPacer:
    """Spreads calls over a rate-limit window the server reports as (limit, remaining, reset).

    While plenty of budget is left, calls go at once. When `remaining` drops to the low-water
    mark, each next call waits `time_left / remaining`, so the last call of the window lands just
    before the reset instead of a 429. At zero it waits for the reset itself.

    The reset comes in whole seconds (Procore's X-Rate-Limit-Reset is unix seconds, rounded up),
    so waiting for it loses up to a second a window. The pacer therefore keeps its own record of
    when it let calls go. An answer saying `remaining` of `limit` means the window holds
    `limit - remaining` calls, the oldest of which is (at the latest) our call that many back; so
    `reset - that call's time` is never less than the window's length (our call reached the server
    after we let it go, other callers' calls only make the true oldest older, the reset is rounded
    up), and the smallest value seen is a safe estimate of the window. At zero, the next slot frees
    when that oldest call leaves the window, which is used instead of the rounded reset when it is
    at most a second earlier. Answers reporting zero are not learned from (a 429's own call is not
    counted by the server, and `block_for` drops it from our record).
    """

    def __init__(
        self,
        *,
        low_water_fraction: float = 0.25,
        min_low_water: int = 3,
        reset_slack: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self._low_water_fraction = low_water_fraction
        self._min_low_water = min_low_water
        self._reset_slack = reset_slack  # a little past the reset: the server's clock is not ours
        self._limit: int | None = None
        self._remaining: int | None = None
        self._reset_at: float | None = None  # on our monotonic clock
        self._last_slot = 0.0
        self._blocked_until = 0.0
        self._sent: deque[float] = deque(maxlen=5000)  # when we let calls go (our clock)
        self._window: dict[int | None, float] = {}  # reported limit -> learned window length (upper bound)
        self._frees_at: float | None = None  # when the oldest call in the window leaves it

    def observe(self, *, limit: int | None, remaining: int | None, seconds_to_reset: float | None) -> None:
        """Take the budget from an answer's headers (missing values leave the state alone)."""
        if remaining is None or seconds_to_reset is None:
            return
        with self._lock:
            now = self._clock()
            self._limit = limit if limit is not None else self._limit
            self._remaining = remaining
            reset_at = now + max(0.0, seconds_to_reset)
            self._reset_at = reset_at + self._reset_slack
            self._frees_at = None
            in_window = (limit - remaining) if limit is not None else 0
            if not 0 < in_window <= len(self._sent):
                return
            oldest = self._sent[-in_window]
            if remaining > 0 and reset_at > oldest:
                known = self._window.get(limit)
                self._window[limit] = min(known, reset_at - oldest) if known is not None else reset_at - oldest
            window = self._window.get(limit)
            if window is not None:
                self._frees_at = oldest + window + self._reset_slack

    def _effective_reset(self) -> float | None:
        """When the next slot frees: the oldest call leaving the window, when that is within a
        second before the reported (rounded) reset; else the reported reset."""
        reset_at, frees_at = self._reset_at, self._frees_at
        if reset_at is None or frees_at is None:
            return reset_at
        return frees_at if reset_at - 1.0 - self._reset_slack <= frees_at < reset_at else reset_at

    def block_for(self, seconds: float) -> None:
        """After a 429/503: no call through this pacer before `seconds` from now. The server said
        when to come back, which beats our estimate; the budget after that is unknown until the
        next answer reports it."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, self._clock() + max(0.0, seconds))
            self._remaining = None
            self._reset_at = None
            self._frees_at = None
            if self._sent:
                self._sent.pop()  # the refused call: the server did not count it

    def _low_water(self) -> int:
        if self._limit:
            return max(self._min_low_water, int(self._limit * self._low_water_fraction))
        return self._min_low_water

    def reserve(self) -> float:
        """Reserve the next call's slot; returns how long to wait before making it."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._blocked_until)
            reset_at = self._effective_reset()
            if reset_at is not None and now < reset_at and self._remaining is not None:
                if self._remaining <= 0:
                    slot = max(slot, reset_at)
                    # The first call after the reset learns the new budget from its answer.
                    self._remaining = None
                elif (
                    self._remaining <= self._low_water()
                    and self._limit not in self._window
                    and reset_at - now <= SPREAD_HORIZON_SECONDS
                ):
                    # Spread the rest only while the window's length is unknown; once it is learned,
                    # each slot is taken as it frees (the oldest call leaving the window). A window
                    # that resets far away (Procore's hour) is not spread: crawling through its last
                    # calls would keep a worker asleep for up to an hour; its budget is spent at the
                    # usual pace, and once it is gone the caller pauses until the reset.
                    interval = (reset_at - now) / self._remaining
                    slot = max(slot, self._last_slot + interval)
                    self._remaining -= 1  # until the answer tells us better
                else:
                    self._remaining -= 1
            self._last_slot = slot
            self._sent.append(slot)
            return slot - now

    def blocked_for(self) -> float:
        """Seconds until the next call may go at all: a 429's wait, or the reset of a window the
        server reported spent (0 when a call may go now). Reserves nothing, so a caller can refuse
        to wait that long without spending a call that would only be refused."""
        with self._lock:
            now = self._clock()
            wait = self._blocked_until - now
            reset_at = self._effective_reset()
            if self._remaining is not None and self._remaining <= 0 and reset_at is not None:
                wait = max(wait, reset_at - now)
            return max(0.0, wait)

    def wait(self, max_wait: float = MAX_WAIT_SECONDS) -> float:
        """Sleep until this call may go, at most `max_wait` (0: never sleep, for web requests). A
        longer wait, an hourly window's reset say, is the caller's to decide (see `blocked_for`),
        never a hidden hour-long sleep; returns the seconds slept."""
        delay = min(self.reserve(), max(0.0, max_wait))
        if delay > 0:
            self._sleep(delay)
        return max(0.0, delay)


class SlidingWindowLog:
    """Our own calls in the last `window` seconds: for APIs (Xero) that report how many calls are
    left in the minute but not when the minute ends."""

    def __init__(self, window: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self._window = window
        self._clock = clock
        self._times: list[float] = []
        self._lock = threading.Lock()

    def record(self) -> None:
        with self._lock:
            now = self._clock()
            self._times.append(now)
            cutoff = now - self._window
            while self._times and self._times[0] < cutoff:
                self._times.pop(0)

    def seconds_until_oldest_expires(self) -> float:
        """When the oldest call we made in the window stops counting (the whole window when we
        made none: the budget was spent by someone else)."""
        with self._lock:
            now = self._clock()
            cutoff = now - self._window
            live = [t for t in self._times if t >= cutoff]
            return (live[0] + self._window - now) if live else self._window

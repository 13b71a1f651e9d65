"""Procore's two rate limits, kept in process memory: an hourly window and a short spike window.

Source: Procore's "Rate Limiting" guide (developers.procore.com/documentation/rate-limiting;
plan_your_app/rate_limiting.md in github.com/procore/documentation):
- "an hourly limit (60-minute window) and a spike limit (10-second window)"; its examples are
  600 an hour and 25 a spike window (Behaviour.hourly_limit / spike_limit / spike_window_seconds).
- "The values returned reflect the limit your app is most likely to exceed first. In most cases,
  the spike limit is reported until you are very close to exhausting the hourly limit": each answer
  reports the window with fewer calls left in X-Rate-Limit-Limit / -Remaining.
- X-Rate-Limit-Reset is "the Unix timestamp (in seconds) when the currently reported window
  resets": the hour resets 60 minutes after it began (a fixed window: nothing of it comes back
  before then, the stricter reading, as the guide only says the short window "may increase again
  after a brief pause as the window rolls forward"); the spike window slides.
- Over either limit: 429, with the headers of the window that refused. Retry-After is documented
  for the 503 of heavy load only, so a 429 does not carry it (api._throttled) unless
  settings.SANDBOX_PROCORE_429_RETRY_AFTER is on.
Procore counts calls per access-token user and app; every call counts, failed ones too. The sandbox
server is one threaded process, so a dict under a lock is enough; tests and benchmarks call
`reset_rate_limits()` to start from zero (or `end_hours()` to move the hourly windows to their end).
"""

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from syncapp.sandbox.conf import SandboxConf

_lock = threading.Lock()


@dataclass
class _Counter:
    hour_started: float
    hour_count: int = 0
    # Times of the calls inside the spike window: it slides, so "remaining" climbs back as old
    # calls fall out of it (as Procore documents).
    recent: deque = field(default_factory=deque)


_counters: dict[str, _Counter] = {}


@dataclass(frozen=True)
class RateState:
    """What one call's answer says about the limits, and whether it is refused."""

    limit: int
    remaining: int
    reset_at: int  # unix seconds
    exceeded: bool
    retry_after: int

    def headers(self) -> dict[str, str]:
        return {
            "X-Rate-Limit-Limit": str(self.limit),
            "X-Rate-Limit-Remaining": str(self.remaining),
            "X-Rate-Limit-Reset": str(self.reset_at),
        }

    def throttled_headers(self) -> dict[str, str]:
        """A 429's headers: the refusing window's, and Retry-After only when switched on (see the
        module docstring: Procore documents it for the 503 only)."""
        headers = self.headers()
        if SandboxConf.SANDBOX_PROCORE_429_RETRY_AFTER:
            headers["Retry-After"] = str(self.retry_after)
        return headers


def reset_rate_limits() -> None:
    """Forget every counter (tests, benchmarks, the sandbox admin)."""
    with _lock:
        _counters.clear()


def end_hours() -> None:
    """The hour is over for every caller (tests: what waiting until X-Rate-Limit-Reset does)."""
    with _lock:
        for counter in _counters.values():
            counter.hour_started -= 3600


def hour_resets() -> dict[str, int]:
    """Each caller's hourly reset, unix seconds, as X-Rate-Limit-Reset reports it."""
    with _lock:
        return {key: math.ceil(counter.hour_started + 3600) for key, counter in _counters.items()}


def count_call(
    *, key: str, hourly_limit: int, spike_limit: int, spike_window: int, now: float | None = None
) -> RateState:
    """Count one call for `key` and say what the answer's headers are and whether it is a 429.

    A refused call is not counted, so a client that waits out the window does recover."""
    now = time.time() if now is None else now
    spike_window = max(spike_window, 1)
    with _lock:
        counter = _counters.get(key)
        if counter is None or now >= counter.hour_started + 3600:
            counter = _counters[key] = _Counter(hour_started=now)
        while counter.recent and counter.recent[0] <= now - spike_window:
            counter.recent.popleft()

        hour_reset = counter.hour_started + 3600
        spike_reset = (counter.recent[0] + spike_window) if counter.recent else now + spike_window
        hour_full = counter.hour_count >= hourly_limit
        spike_full = len(counter.recent) >= spike_limit
        if hour_full or spike_full:
            reset = hour_reset if hour_full else spike_reset
            limit = hourly_limit if hour_full else spike_limit
            return RateState(limit, 0, math.ceil(reset), True, max(1, math.ceil(reset - now)))

        counter.hour_count += 1
        counter.recent.append(now)
        hour_left = hourly_limit - counter.hour_count
        spike_left = spike_limit - len(counter.recent)
        spike_reset = counter.recent[0] + spike_window
    # Report the window the caller will hit first: the spike window until the hour is nearly used.
    if hour_left < spike_left:
        return RateState(hourly_limit, hour_left, math.ceil(hour_reset), False, 0)
    return RateState(spike_limit, spike_left, math.ceil(spike_reset), False, 0)

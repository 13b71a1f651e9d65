"""What a running sync carries from step to step: its row, counters, log and heartbeat.

Fetch, resolve and send report through a `RunContext`; it writes the run's progress, counts,
API call numbers and heartbeat to the database every few seconds (not on every payment), and
log lines people read as rows.

The heartbeat is also the run's lease, beside the lock its process holds (`sync.lease`). Every
write of it is conditional on the run still being "running": once another process has declared the
run dead (its process gone, or no heartbeat for minutes) the next beat finds 0 rows and raises
`RunAborted`, so a worker that was merely slow stops instead of racing the run that replaced it.
Long waits sleep in short slices and beat between them.

From its first write to Procore on, a run also keeps `write_until` ahead of every Procore call it
makes: a run whose process died is declared dead only once the last request it may have sent is
surely over, so the run after it re-reads Procore only when that request can no longer land.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter

from django.conf import settings
from django.utils import timezone

from syncapp.connectors.types import CallCounter
from syncapp.core.text import fit
from syncapp.core.times import minute_by
from syncapp.sync.models import RunLogLine, SyncRun

logger = logging.getLogger(__name__)

_LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
HEARTBEAT_EVERY = 2.0  # seconds between progress writes while a run works
SLEEP_SLICE = 5.0  # a long wait beats at least this often
MAX_SLEEP = 60.0  # no single wait of a run is longer (a longer limit is the next run's business)
# A request's answer is awaited HTTP_TIMEOUT at most; this much more covers the time between the
# mark and the request leaving (a token read, the pacer's bookkeeping).
WRITE_MARGIN = 5.0


# What each phase of a run is doing, in the words the progress bar shows ("phase" column values).
PHASE_LABELS = {
    "fetch": "Fetching from Xero",
    "resolve": "Matching with Procore",
    "send": "Sending to Procore",
    "reversals": "Checking reversals",
}


def phase_label(phase: str) -> str:
    """'Sending to Procore' for "send"; an unknown phase is shown as its own word, never guessed at."""
    return PHASE_LABELS.get(phase, phase.replace("_", " ").capitalize())


class RunAborted(Exception):
    """This run is no longer "running" in the database (declared dead, or finished elsewhere):
    stop at once and write nothing more for it."""


class RunContext:
    """One run in progress. `xero_calls` / `procore_calls` are handed to the clients."""

    def __init__(self, run: SyncRun):
        self.run = run
        self.counts: Counter[str] = Counter(run.counts or {})
        self.xero_calls = CallCounter()
        self.procore_calls = CallCounter()
        self._base_xero = run.api_calls_xero
        self._base_procore = run.api_calls_procore
        self._last_beat = 0.0
        self._writing = False  # from the run's first write to Procore on
        self._last_write_mark = 0.0
        self.procore_calls.on_call = self._before_procore_call
        self.procore_calls.before_send = self._fence
        self.current_provider = ""  # which connection a NeedsReconnect refers to
        self.http_seconds = 0.0  # time spent waiting on the APIs (benchmarks subtract it)

    @property
    def dry_run(self) -> bool:
        return self.run.dry_run

    def log(self, message: str, *, level: str = "info") -> None:
        RunLogLine.objects.create(run=self.run, level=level, message=fit(RunLogLine, "message", message))
        logger.log(_LEVELS.get(level, logging.INFO), "run %s: %s", self.run.pk, message)

    def count(self, outcome: str, n: int = 1) -> None:
        self.counts[outcome] += n

    def phase(self, name: str, *, total: int = 0) -> None:
        self.run.phase = name
        self.run.progress_total = total
        self.run.progress_done = 0
        self.beat(force=True)

    def advance(self, n: int = 1) -> None:
        self.run.progress_done += n
        self.beat()

    def beat(self, *, force: bool = False, writing: bool = False) -> None:
        """Save progress and the heartbeat, at most every HEARTBEAT_EVERY seconds (`writing`: and
        mark a write to Procore in flight). Raises RunAborted when the run is no longer running."""
        now = time.monotonic()
        if not force and now - self._last_beat < HEARTBEAT_EVERY:
            return
        self._last_beat = now
        run = self.run
        run.heartbeat_at = timezone.now()
        extra = {}
        if writing:
            self._last_write_mark = now
            run.write_until = run.heartbeat_at + dt.timedelta(seconds=settings.HTTP_TIMEOUT + WRITE_MARGIN)
            extra["write_until"] = run.write_until
        run.counts = dict(self.counts)
        run.api_calls_xero = self._base_xero + self.xero_calls.calls
        run.api_calls_procore = self._base_procore + self.procore_calls.calls
        run.throttled = self.xero_calls.throttled + self.procore_calls.throttled
        beaten = SyncRun.beat(
            run.pk,
            at=run.heartbeat_at,
            phase=run.phase,
            progress_done=run.progress_done,
            progress_total=run.progress_total,
            fetched=run.fetched,
            counts=run.counts,
            api_calls_xero=run.api_calls_xero,
            api_calls_procore=run.api_calls_procore,
            throttled=run.throttled,
            **extra,
        )
        if not beaten:
            raise RunAborted(f"Run #{run.pk} is no longer running; this worker stops.")

    def renew_lease(self) -> None:
        """Right before a write to Procore: beat now, so nobody can declare this run dead for the
        next SYNC_STALE_SECONDS, which is longer than the write can take (HTTP_TIMEOUT), nor before
        `write_until` even if its process dies now."""
        self._writing = True
        self.beat(force=True, writing=True)

    def _before_procore_call(self) -> None:
        # The Procore client's hook, right before each request leaves. A write may be re-sent by
        # the client itself (after a 429's wait), so once the run writes, every call moves
        # `write_until` (at most once a second: WRITE_MARGIN covers the second).
        if self._writing and time.monotonic() - self._last_write_mark >= 1.0:
            self.beat(force=True, writing=True)

    def _fence(self) -> None:
        """The last check as a Procore request is handed to the network, after every wait and
        token read: a process that stopped (SIGSTOP, a frozen VM) past the `write_until` it promised
        may have been declared dead and replaced, so its request is not sent. (Between this check
        and the socket a stall can still slip through: no lease fences that without an idempotency
        key on Procore's side.)"""
        if self._writing and self.run.write_until and timezone.now() >= self.run.write_until:
            raise RunAborted(f"Run #{self.run.pk} stalled past its write deadline; its request was not sent.")

    def sleep(self, seconds: float) -> None:
        """Sleep (capped at MAX_SLEEP) in slices, beating between them: a long rate-limit wait
        neither lets the heartbeat go stale nor outlives the run. The clients sleep through this."""
        remaining = min(max(0.0, seconds), MAX_SLEEP)
        while remaining > 0:
            step = min(remaining, SLEEP_SLICE)
            time.sleep(step)
            remaining -= step
            self.beat(force=True)

    def add_fetched(self, n: int) -> None:
        self.run.fetched += n
        self.beat()


# The time-left estimate under the progress bar. The pace is measured, never assumed: the page's
# poll carries its first sample of the phase (phase, payments done, when), and each poll compares
# the run's progress with it. No estimate until the sample is old and large enough to mean
# something. Sending is also bounded by Procore's spike limit (about 25 calls per 10 seconds, the
# window `connectors.pacing.WindowPacer` spreads calls over; each payment is at least one call),
# so a fast start is never extrapolated past what the rate limit lets through.
ESTIMATE_MIN_SECONDS = 6.0  # the sample must span at least this long...
ESTIMATE_MIN_PAYMENTS = 3  # ...and this many payments
PROCORE_SPIKE_CALLS, PROCORE_SPIKE_SECONDS = 25, 10.0
MAX_SEND_PACE = PROCORE_SPIKE_CALLS / PROCORE_SPIKE_SECONDS  # payments per second at most


def seconds_left(*, phase: str, left: int, done: int, elapsed: float) -> float | None:
    """Seconds until the phase's `left` payments are done, at the pace of `done` payments in
    `elapsed` seconds; None while the sample is too small to say (never a guess, never negative)."""
    if left < 0 or done < ESTIMATE_MIN_PAYMENTS or elapsed < ESTIMATE_MIN_SECONDS:
        return None
    pace = done / elapsed
    if phase == "send":
        pace = min(pace, MAX_SEND_PACE)
    return left / pace


def time_left_text(seconds: float | None) -> str:
    """'about 3 min left' for 170 s; '' when there is no estimate."""
    if seconds is None:
        return ""
    if seconds < 60:
        return "less than a minute left"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min left"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h {minutes} min left" if minutes else f"about {hours} h left"


def waiting_text(paused_until: dt.datetime | None) -> str:
    """What a run paused by a rate limit waits for, in local time."""
    if paused_until is None:
        return "waiting for the rate limit"
    return f"waiting for rate limit until {minute_by(paused_until):%H:%M}"

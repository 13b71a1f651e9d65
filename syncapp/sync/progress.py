"""What a running sync carries from step to step: its row, counters, log and heartbeat.

Fetch, resolve and send report through a `RunContext`; it writes the run's progress, counts,
API call numbers and heartbeat to the database every few seconds (not on every payment), and
log lines people read as rows.
"""

from __future__ import annotations

import logging
import time
from collections import Counter

from django.utils import timezone

from syncapp.connectors.types import CallCounter
from syncapp.sync.models import RunLogLine, SyncRun

logger = logging.getLogger(__name__)

_LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
HEARTBEAT_EVERY = 2.0  # seconds between progress writes while a run works


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
        self.current_provider = ""  # which connection a NeedsReconnect refers to
        self.http_seconds = 0.0  # time spent waiting on the APIs (benchmarks subtract it)

    @property
    def dry_run(self) -> bool:
        return self.run.dry_run

    def log(self, message: str, *, level: str = "info") -> None:
        RunLogLine.objects.create(run=self.run, level=level, message=message[:1000])
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

    def beat(self, *, force: bool = False) -> None:
        """Save progress and the heartbeat, at most every HEARTBEAT_EVERY seconds."""
        now = time.monotonic()
        if not force and now - self._last_beat < HEARTBEAT_EVERY:
            return
        self._last_beat = now
        run = self.run
        run.heartbeat_at = timezone.now()
        run.counts = dict(self.counts)
        run.api_calls_xero = self._base_xero + self.xero_calls.calls
        run.api_calls_procore = self._base_procore + self.procore_calls.calls
        run.throttled = self.xero_calls.throttled + self.procore_calls.throttled
        SyncRun.objects.filter(pk=run.pk).update(
            heartbeat_at=run.heartbeat_at,
            phase=run.phase,
            progress_done=run.progress_done,
            progress_total=run.progress_total,
            fetched=run.fetched,
            counts=run.counts,
            api_calls_xero=run.api_calls_xero,
            api_calls_procore=run.api_calls_procore,
            throttled=run.throttled,
        )

    def add_fetched(self, n: int) -> None:
        self.run.fetched += n
        self.beat()

"""What the Xero and Procore clients share: each call tried again as its kind's retry policy says,
its outcome told to the connection's health, and closing (which writes that health down)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Self, TypeVar

from syncapp.connectors.pacing import MAX_WAIT_SECONDS
from syncapp.connectors.retries import RetryPolicy
from syncapp.connectors.types import CallCounter, CallHealth, reporting_to

T = TypeVar("T")


class BaseClient:
    """The base of `XeroClient` and `ProcoreClient`: a subclass sends one request in `attempt`
    (raising `retries.Again` when a later try may work) and closes its transport in
    `_close_transport`."""

    def __init__(
        self,
        *,
        counter: CallCounter | None,
        max_wait: float = MAX_WAIT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        health: CallHealth | None = None,
    ):
        self.counter = counter or CallCounter()
        self._max_wait = max_wait  # the longest it sleeps for a server's asked-for wait (0: a web request)
        self._sleep = sleep
        self._health = health

    def _call(self, attempt: Callable[[], T], *, policy: RetryPolicy, what: str) -> T:
        """`attempt` tried as `policy` says; the outcome is told to the connection's health."""
        with reporting_to(self._health):
            return policy.call(attempt, sleep=self._back_off, max_wait=self._max_wait, what=what)

    def _back_off(self, seconds: float) -> None:
        self.counter.waited_seconds += seconds
        self._sleep(seconds)

    def _close_transport(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._close_transport()
        if self._health is not None:
            self._health.flush()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

"""A seeded sandbox world served over HTTP, and an integration connected to it headlessly
(client credentials), as the product would be on a server."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from syncapp.connections.models import Integration
from syncapp.sync import crashpoints
from syncapp.sync.models import Payment, RunState, SyncRun
from syncapp.sync.runs import execute_run, start_run


@dataclass
class World:
    url: str
    integration: Integration
    summary: object

    def run(self, *, dry_run: bool = False, trigger: str = "command") -> SyncRun:
        run, created = start_run(integration=self.integration, trigger=trigger, dry_run=dry_run)
        assert created, "another run was active"
        return execute_run(run.pk)

    def payment(self, xero_payment_id: str) -> Payment:
        return Payment.objects.get(integration=self.integration, xero_payment_id=xero_payment_id)

    def states(self, ids) -> list[str]:
        return [self.payment(i).state for i in ids]


def connect(integration: Integration) -> None:
    from syncapp.connections.services import connect_headless

    connect_headless(integration=integration, provider="xero")
    connect_headless(integration=integration, provider="procore")


class SteppedClock:
    """The `time` module as syncapp.sync.progress sees it (monkeypatch it in): a monotonic clock
    that moves only when the test sleeps, at once."""

    def __init__(self):
        self.now = time.monotonic()

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fast_retries(settings):
    settings.SYNC_RETRY_BASE_SECONDS = 0.01


@pytest.fixture
def world(sandbox, settings, fast_retries) -> World:
    from syncapp.sandbox.models import Behaviour
    from syncapp.sandbox.seed import register_oauth_clients, seed_world

    summary = seed_world(payments=60, seed=7, reset=True)
    register_oauth_clients(site_url=sandbox)
    # Tests run many syncs back to back: lift the per-minute and hourly limits they are not about.
    Behaviour.set("xero", minute_limit=10_000, day_limit=100_000)
    Behaviour.set("procore", hourly_limit=100_000, spike_limit=10_000)
    integration = Integration.objects.create(name="northwind")
    connect(integration)
    return World(url=sandbox, integration=integration, summary=summary)


@pytest.fixture
def duplicates_allowed(world) -> World:
    """The sandbox Procore accepts a second payment with a taken origin_id (real Procore's answer is
    unverified), so a test proves the product's own guarantee instead of leaning on a 409."""
    from syncapp.sandbox.procore.models import Company

    Company.objects.update(unique_payment_origin=False)
    return world


def procore_duplicates() -> dict[str, int]:
    """origin_id -> number of Procore payments carrying it, where more than one does."""
    from collections import Counter

    from syncapp.sandbox.procore.models import ContractPayment

    origins = Counter(ContractPayment.objects.exclude(origin_id="").values_list("origin_id", flat=True))
    return {origin: n for origin, n in origins.items() if n > 1}


@pytest.fixture
def crash_at():
    """crash_at("before_create", nth=3): the worker dies the 3rd time the run reaches that point."""

    class WorkerDied(BaseException):
        pass

    def arm(name: str, *, nth: int = 1):
        seen = {"n": 0}

        def hook(point: str) -> None:
            if point == name:
                seen["n"] += 1
                if seen["n"] == nth:
                    crashpoints.hook = None
                    raise WorkerDied(point)

        crashpoints.hook = hook
        return WorkerDied

    yield arm
    crashpoints.hook = None


def abandon_dead_runs() -> None:
    """What the heartbeat check does after two silent minutes, without waiting for them (its
    heartbeat and the deadline of its last Procore request long past)."""
    from syncapp.sync.runs import recover_stale_runs

    long_ago = "2000-01-01T00:00:00Z"
    SyncRun.objects.filter(state=RunState.RUNNING).update(heartbeat_at=long_ago, write_until=long_ago)
    recover_stale_runs()

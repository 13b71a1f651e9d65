"""Fixtures of the torture suite: a seeded world per seed, the worker processes of a scenario, and
the table of comparisons printed at the end of the session."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.torture.harness import RESULTS, Workers, seed_count

WORLD_PAYMENTS = 60


@dataclass
class Torture:
    url: str
    workers: Workers

    def world(self, seed: int, *, payments: int = WORLD_PAYMENTS):
        """A fresh world of this seed, an integration connected to it headlessly (client
        credentials), no rate limit in the way, and Procore's origin_id uniqueness off: what
        stands between a payment and its duplicate is the product alone."""
        from syncapp.connections.models import Integration
        from syncapp.sandbox.models import Behaviour
        from syncapp.sandbox.procore import ratelimit
        from syncapp.sandbox.procore.models import Company
        from syncapp.sandbox.seed import register_oauth_clients, seed_world
        from tests.sync.conftest import connect

        summary = seed_world(payments=payments, seed=seed, reset=True)
        register_oauth_clients(site_url=self.url)
        Company.objects.update(unique_payment_origin=False)
        Behaviour.set("xero", minute_limit=10_000, day_limit=100_000)
        Behaviour.set("procore", hourly_limit=100_000, spike_limit=10_000)
        ratelimit.reset_rate_limits()
        connect(Integration.objects.create(name="northwind"))
        return summary


@pytest.fixture
def torture(sandbox, settings, tmp_path):
    settings.SYNC_RETRY_BASE_SECONDS = 0.01  # runs made in this process (setup), like the workers'
    # A killed worker's run is declared dead once its last Procore request is surely over
    # (HTTP_TIMEOUT after it left): the sandbox answers in milliseconds, so 3 seconds keep that wait
    # short. An unanswered create is looked for again only after the settle time; the test settings'
    # 0 would leave a create the loaded sandbox carries out late to chance.
    env = {"HTTP_TIMEOUT": "3", "SYNC_UNANSWERED_SETTLE_SECONDS": "3"}
    workers = Workers(site_url=sandbox, log_dir=tmp_path, default_env=env)
    try:
        yield Torture(url=sandbox, workers=workers)
    finally:
        workers.end_all()  # before the database is flushed: no worker may hold a lock on it


def pytest_terminal_summary(terminalreporter):
    if not RESULTS:
        return
    terminalreporter.section(f"torture: Procore against the expected payments (TORTURE_SEEDS={seed_count()})")
    for result in RESULTS:
        terminalreporter.write_line(result.line())
    bad = [r for r in RESULTS if not r.comparison.clean]
    total = sum(r.seconds for r in RESULTS)
    terminalreporter.write_line(f"{len(RESULTS)} scenario runs, {len(bad)} with a difference, {total:.0f}s in all")

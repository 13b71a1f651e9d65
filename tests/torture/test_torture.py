"""The torture suite: every way a run can be broken that issue 9 lists, with real worker processes,
against the sandbox on PostgreSQL with Procore's origin_id uniqueness off.

Each scenario ends with the one comparison (harness.compare_with_expected): Procore holds every
payment the seeded world expects there exactly once, with Xero's amount, date and bill number, and
nothing else of ours: 0 duplicates, 0 missing, 0 wrong. `make test` runs TORTURE_SEEDS=3 (the
short version); `make torture` runs 20 or more and prints the table of comparisons.
Replay one seed: TORTURE_SEED=7 make torture (or pytest tests/torture -k 'kill and 7').
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass

import pytest

from syncapp.sync.models import RunState
from tests.torture.harness import (
    Worker,
    compare_with_expected,
    declare_killed_runs_dead,
    payments_left_unfinished,
    procore_payment_count,
    report,
    rng,
    seeds,
    sync_until_done,
    wait_until,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RUN_TIMEOUT = 300  # seconds one worker may take before the scenario calls it hung


def assert_clean(comparison, *extra: list[str]) -> None:
    problems = [item for items in extra for item in items]
    assert comparison.clean and not problems, comparison.details() + "\n" + "\n".join(problems)


# --- kill -9 of the worker at a random moment, then run again -------------------------------------

PER_PAYMENT_POINTS = ("before_create", "after_create")


@dataclass(frozen=True)
class KillMoment:
    """When the seed says the worker dies: at a named crash point (the process SIGKILLs itself the
    nth time it gets there: between a POST's commit and our record of it, say), once Procore holds
    n more payments, or after some seconds (fetch and resolve included)."""

    crash_at: str = ""
    after_payments: int = 0
    after_seconds: float = 0.0

    @classmethod
    def of(cls, seed: int) -> KillMoment:
        dice = rng(seed, "kill")
        kind = seed % 3
        if kind == 0:
            point = dice.choice(("after_fetch", "after_resolve", *PER_PAYMENT_POINTS * 3))
            nth = dice.randint(1, 30) if point in PER_PAYMENT_POINTS else 1
            return cls(crash_at=f"{point}:{nth}")
        if kind == 1:
            return cls(after_payments=dice.randint(1, 30), after_seconds=dice.uniform(0, 0.05))
        return cls(after_seconds=dice.uniform(0.3, 3.0))  # a run of this world takes 3-4s

    def describe(self) -> str:
        if self.crash_at:
            point, _, nth = self.crash_at.partition(":")
            return f"SIGKILL at {point} #{nth}"
        if self.after_payments:
            return f"SIGKILL {self.after_seconds * 1000:.0f}ms after payment #{self.after_payments} reached Procore"
        return f"SIGKILL after {self.after_seconds:.1f}s"

    def strike(self, start_worker) -> tuple[Worker, bool]:
        """Start the worker and kill it at this moment. Returns it and whether the kill landed
        (a world with fewer payments than the moment's number lets the run finish first)."""
        if self.crash_at:
            worker = start_worker(TORTURE_CRASH_AT=self.crash_at)
            return worker, worker.wait(RUN_TIMEOUT) == -signal.SIGKILL
        before = procore_payment_count()
        worker = start_worker()
        if self.after_payments:
            wait_until(
                lambda: procore_payment_count() >= before + self.after_payments or not worker.alive(),
                timeout=RUN_TIMEOUT,
                interval=0.01,
                what=f"payment #{self.after_payments}",
            )
        time.sleep(self.after_seconds)
        landed = worker.alive()
        worker.send(signal.SIGKILL)
        worker.wait(30)
        return worker, landed


@pytest.mark.parametrize("seed", seeds())
def test_kill_9_at_a_random_moment_then_run_again_ends_with_every_payment_once(torture, seed):
    started = time.monotonic()
    summary = torture.world(seed)
    moment = KillMoment.of(seed)
    killed, landed = moment.strike(lambda **env: torture.workers.sync_payments("killed", **env))

    declare_killed_runs_dead()
    run, runs = sync_until_done(torture.workers)

    comparison = compare_with_expected(summary.expected)
    note = f"{moment.describe()}{'' if landed else ' (the run finished first)'}; {runs} more run(s)"
    report("kill -9, run again", seed, comparison, started=started, note=note)
    assert run.state == RunState.SUCCEEDED
    assert_clean(comparison, payments_left_unfinished())

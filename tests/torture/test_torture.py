"""The torture suite: every way a run can be broken that issue 9 lists, with real worker processes,
against the sandbox on PostgreSQL with Procore's origin_id uniqueness off.

Each scenario ends with the one comparison (harness.compare_with_expected): Procore holds every
payment the seeded world expects there exactly once, with Xero's amount, date and bill number, and
nothing else of ours: 0 duplicates, 0 missing, 0 wrong. A scenario about a woken worker also
compares what it wrote after waking, row by row.

Seeds: kill -9 runs TORTURE_SEEDS of them, the random stall one in four, every other scenario one
in seven (at least one). `make test` runs TORTURE_SEEDS=3 (the short version, 13 tests); `make
torture` runs 20 (52 tests) and prints the table of comparisons. A seed picks the world and the
moment, so a failure replays with `make torture TORTURE_SEED=7` (seed 7 in every scenario).
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
    declare_stalled_runs_dead,
    latest_run,
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


class DuplicatesInProcore(AssertionError):
    """A payment in Procore more than once (the failure this suite exists to catch)."""


def assert_clean(comparison, *extra: list[str]) -> None:
    problems = [item for items in extra for item in items]
    if comparison.duplicates:
        raise DuplicatesInProcore(comparison.details())
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

    dead_after = declare_killed_runs_dead()
    run, runs = sync_until_done(torture.workers)

    comparison = compare_with_expected(summary.expected)
    killed_run = f"declared dead in {dead_after:.1f}s" if landed else "the run finished first"
    note = f"{moment.describe()} ({killed_run}); {runs} more run(s)"
    report("kill -9, run again", seed, comparison, started=started, note=note)
    assert run.state == RunState.SUCCEEDED
    assert_clean(comparison, payments_left_unfinished())


# --- 20% 5xx and timeouts, 429 storms, commit-then-fail, answers slower than the client's timeout ----

CLIENT_TIMEOUT = 1.0  # the workers' HTTP_TIMEOUT here; a hung answer takes HANG seconds
HANG = 1.6


def _five_xx_and_timeouts(settings) -> None:
    from syncapp.sandbox.models import Behaviour

    for service in ("xero", "procore"):
        Behaviour.set(service, error_rate=0.2)
    # Timeouts: a fifth of the creates are committed, then answered only after the client gave up.
    Behaviour.set("procore", commit_then_fail="timeout", commit_then_fail_rate=0.2, hang_seconds=HANG)


def _429_storm(settings) -> None:
    from syncapp.sandbox.models import Behaviour

    # Procore's own limiter refusing (a small spike window) and injected 429s on both services. A
    # one-second window keeps each X-Rate-Limit-Reset close, so the storm fits in a test.
    Behaviour.set("procore", spike_limit=8, spike_window_seconds=1, throttle_rate=0.1)
    Behaviour.set("xero", throttle_rate=0.1)


def _commit_then_fail(settings) -> None:
    from syncapp.sandbox.models import Behaviour

    Behaviour.set("procore", commit_then_fail="500", commit_then_fail_rate=0.5)


def _slower_than_the_timeout(settings) -> None:
    from syncapp.sandbox.models import Behaviour

    for service in ("xero", "procore"):
        Behaviour.set(service, hang_seconds=HANG)
    settings.SANDBOX_SLOW_ANSWER_RATE = 0.15  # held past the client's timeout, then processed: creates too


FAULTS = {
    "20% 5xx and timeouts": _five_xx_and_timeouts,
    "429 storm": _429_storm,
    "commit then fail": _commit_then_fail,
    "answers slower than the timeout": _slower_than_the_timeout,
}
FAULT_PARAMS = list(FAULTS)


def faults_off(settings) -> None:
    from syncapp.sandbox.models import Behaviour

    for service in ("xero", "procore"):
        Behaviour.set(service, error_rate=0, throttle_rate=0, commit_then_fail="", spike_limit=10_000)
    settings.SANDBOX_SLOW_ANSWER_RATE = 0
    time.sleep(HANG + 0.5)  # requests the sandbox still holds land before anyone counts


@pytest.mark.parametrize("seed", seeds(share=7))
@pytest.mark.parametrize("fault", FAULT_PARAMS)
def test_under_faults_every_payment_reaches_procore_once(torture, settings, fault, seed):
    from syncapp.sandbox.procore.models import ContractPayment

    started = time.monotonic()
    summary = torture.world(seed)
    torture.workers.default_env["HTTP_TIMEOUT"] = str(CLIENT_TIMEOUT)
    # The sandbox carries out a create it holds at most HANG seconds after it arrived: the bound
    # the product is told (a real Procore's is README's doubt).
    torture.workers.default_env["SYNC_UNANSWERED_SETTLE_SECONDS"] = str(HANG)
    FAULTS[fault](settings)
    try:
        run, runs = sync_until_done(torture.workers)
    finally:
        faults_off(settings)
    created = ContractPayment.objects.exclude(origin_id="").count()
    comparison = compare_with_expected(summary.expected)
    report(fault, seed, comparison, started=started, note=f"{runs} run(s), {run.throttled} 429s in the last")
    assert created and run.state == RunState.SUCCEEDED
    assert_clean(comparison, payments_left_unfinished())


# --- 10 "Get All Payments" clicks at the same moment, two worker processes ------------------------------

CLICKS = 10


def finance_users(n: int) -> list:
    from django.contrib.auth.models import Group, User

    from syncapp.core.roles import FINANCE

    group = Group.objects.get_or_create(name=FINANCE)[0]  # transactional tests flush the data migration's
    users = [User.objects.create_user(username=f"clerk-{i}", password="pw-for-tests") for i in range(n)]
    for user in users:
        user.groups.add(group)
    return users


def click_all_at_once(users) -> list[int]:
    """Each user in a session of their own presses Get All Payments (the dashboard's form posts to
    `start-sync`), all released by one barrier. Returns the status codes."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections
    from django.test import Client
    from django.urls import reverse

    barrier = threading.Barrier(len(users))

    def click(user) -> int:
        try:
            client = Client()
            client.force_login(user)
            barrier.wait(timeout=30)
            return client.post(reverse("start-sync")).status_code
        finally:
            connections.close_all()  # this thread's connection, before the test database is flushed

    with ThreadPoolExecutor(len(users)) as pool:
        return list(pool.map(click, users))


def wait_for_cluster(cluster: Worker) -> None:
    wait_until(lambda: "running" in cluster.output() or not cluster.alive(), timeout=60, what="qcluster to start")
    assert cluster.alive(), cluster.tail()


def finished_runs():
    from syncapp.sync.models import ACTIVE_RUN_STATES, SyncRun

    if SyncRun.objects.filter(state__in=ACTIVE_RUN_STATES).exists():
        return []
    return list(SyncRun.objects.order_by("pk"))


@pytest.mark.parametrize("seed", seeds(share=7))
def test_ten_clicks_at_once_with_two_workers_make_one_run_that_sends_every_payment_once(torture, seed):
    from django_q.models import OrmQ

    started = time.monotonic()
    summary = torture.world(seed)
    users = finance_users(CLICKS)
    cluster = torture.workers.qcluster(workers=2, LOG_LEVEL="INFO")
    wait_for_cluster(cluster)

    statuses = click_all_at_once(users)
    runs = wait_until(finished_runs, timeout=RUN_TIMEOUT, interval=0.2, what="the run to end")
    time.sleep(2)  # a second task or run would show up by now
    runs = finished_runs()
    torture.workers.stop_cluster(cluster)

    comparison = compare_with_expected(summary.expected)
    report(f"{CLICKS} clicks, 2 workers", seed, comparison, started=started, note=f"{len(runs)} run(s)")
    assert statuses == [302] * CLICKS
    assert [run.state for run in runs] == [RunState.SUCCEEDED], [(r.pk, r.state, r.error) for r in runs]
    assert not OrmQ.objects.exists()  # no task left queued behind it
    assert_clean(comparison, payments_left_unfinished())


# --- Procore's hour spent in the middle of a backfill -----------------------------------------------------


def procore_reads_before_sending(torture) -> int:
    """A dry run makes exactly the Procore reads a run makes before its first POST."""
    worker = torture.workers.sync_payments("dry-run", "--dry-run")
    assert worker.wait(RUN_TIMEOUT) == 0, worker.tail()
    return latest_run().api_calls_procore


def run_ends(after_pk: int):
    """The first run newer than `after_pk` once it has ended (paused, succeeded or failed)."""
    from syncapp.sync.models import ACTIVE_RUN_STATES, SyncRun

    return SyncRun.objects.filter(pk__gt=after_pk).exclude(state__in=ACTIVE_RUN_STATES).order_by("pk").first()


@pytest.mark.parametrize("seed", seeds(share=7))
def test_procore_hour_spent_mid_backfill_pauses_then_resumes_with_nothing_failed(torture, seed):
    """The button's run in a qcluster worker meets Procore's hourly limit part-way through its
    sends: it pauses (no payment failed), django-q's own scheduler (ticked here instead of its
    30-second loop) starts the resume once the hour is over, until everything is sent once."""
    from django.utils import timezone
    from django_q.brokers import get_broker
    from django_q.models import Schedule
    from django_q.scheduler import scheduler

    from syncapp.connections.models import Integration
    from syncapp.sandbox.models import Behaviour
    from syncapp.sandbox.procore import ratelimit
    from syncapp.sync.models import Payment, PaymentState
    from syncapp.sync.runs import request_run

    started = time.monotonic()
    summary = torture.world(seed)
    sends_in_the_hour = rng(seed, "hour").randint(8, 25)
    budget = procore_reads_before_sending(torture) + sends_in_the_hour
    ratelimit.reset_rate_limits()
    Behaviour.set("procore", hourly_limit=budget)
    cluster = torture.workers.qcluster(workers=2, LOG_LEVEL="INFO")
    wait_for_cluster(cluster)

    last = latest_run().pk
    request_run(integration=Integration.objects.get(name="northwind"))
    run = wait_until(lambda: run_ends(last), timeout=RUN_TIMEOUT, interval=0.2, what="the run to pause")
    assert run.state == RunState.PAUSED, (run.state, run.error)
    payments = Payment.objects.all()
    assert 0 < payments.filter(state=PaymentState.SENT).count() < payments.count()
    pauses = 1
    for _ in range(15):  # each hour sends `sends_in_the_hour` more; a world of 60 needs a few
        assert not payments.filter(state=PaymentState.FAILED).exists()  # a rate limit fails no payment
        ratelimit.end_hours()
        # The worker records the pause, then (in tasks.run_sync) creates the resume schedule:
        # moving it before it exists would move nothing and leave the run waiting an hour.
        resume = Schedule.objects.filter(name=f"resume-sync-run-{run.pk}")
        wait_until(resume.exists, timeout=RUN_TIMEOUT, interval=0.1, what="the resume schedule")
        resume.update(next_run=timezone.now())
        scheduler(broker=get_broker())
        run = wait_until(lambda prev=run.pk: run_ends(prev), timeout=RUN_TIMEOUT, interval=0.2, what="the resume")
        if run.state != RunState.PAUSED:
            break
        pauses += 1
    torture.workers.stop_cluster(cluster)

    comparison = compare_with_expected(summary.expected)
    note = f"{sends_in_the_hour} sends an hour after the reads: {pauses} pause(s)"
    report("Procore's hour spent mid-backfill", seed, comparison, started=started, note=note)
    assert run.state == RunState.SUCCEEDED and run.trigger == "resume", (run.state, run.error)
    assert_clean(comparison, payments_left_unfinished())


# --- A token that expires mid-run while four workers need it ------------------------------------------------

READERS = 3  # beside the sync run: four processes want the new token at the same moment


def expire_procore_token(*, our_clock: bool) -> None:
    """The Procore access token expires now: at the sandbox (its answer becomes 401) and, when
    `our_clock`, in our store too (workers renew before calling; else they learn it from the 401)."""
    from django.utils import timezone

    from syncapp.connections.models import Connection
    from syncapp.sandbox.procore.models import Token

    now = timezone.now()
    Token.objects.filter(revoked=False, expires_at__gt=now).update(expires_at=now)
    if our_clock:
        Connection.objects.filter(provider="procore").update(expires_at=now)


@pytest.mark.parametrize("seed", seeds(share=7))
def test_a_token_expiring_mid_run_is_renewed_once_for_four_workers_and_the_connection_stays(torture, seed):
    from syncapp.connections.models import Connection, ConnectionStatus
    from syncapp.sandbox.procore.models import Token

    started = time.monotonic()
    summary = torture.world(seed)
    dice = rng(seed, "token")
    our_clock = dice.random() < 0.5
    sends_before = dice.randint(2, 15)

    readers = [torture.workers.procore_reader(f"reader-{i}", seconds=12) for i in range(READERS)]
    before = procore_payment_count()
    run_worker = torture.workers.sync_payments("sync")
    wait_until(
        lambda: all("reading" in r.output() for r in readers) and procore_payment_count() >= before + sends_before,
        timeout=RUN_TIMEOUT,
        interval=0.01,
        what="the readers and the run's sends",
    )
    tokens_before = Token.objects.count()
    expire_procore_token(our_clock=our_clock)
    mid_run = run_worker.alive()
    assert run_worker.wait(RUN_TIMEOUT) == 0, run_worker.tail()
    for reader in readers:
        assert reader.wait(60) == 0, reader.tail()

    refreshes = Token.objects.count() - tokens_before  # token endpoint calls answered with a token
    connection = Connection.objects.get(provider="procore")
    comparison = compare_with_expected(summary.expected)
    how = "expiry reached on our clock" if our_clock else "refused with 401"
    note = f"{how} after {sends_before} sends{'' if mid_run else ' (the run had ended)'}; {refreshes} refresh call(s)"
    report("token expires, 4 workers", seed, comparison, started=started, note=note)
    assert refreshes == 1
    assert connection.status == ConnectionStatus.CONNECTED, connection.status_reason
    assert latest_run().state == RunState.SUCCEEDED
    assert_clean(comparison, payments_left_unfinished())


# --- A stalled worker that wakes after its run was declared dead --------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """What a woken worker must not change: Procore's payments, our payments, their events."""

    procore: list
    payments: list
    events: list

    @classmethod
    def now(cls) -> Snapshot:
        from syncapp.sandbox.procore.models import ContractPayment
        from syncapp.sync.models import Payment, PaymentEvent

        return cls(
            sorted(ContractPayment.objects.values_list("pk", "origin_id", "amount")),
            sorted(Payment.objects.values_list("pk", "state", "procore_payment_id", "last_error")),
            list(PaymentEvent.objects.order_by("pk").values_list("pk", "kind", "message", "run_id")),
        )

    def added_since(self, before: Snapshot) -> dict[str, list]:
        return {
            name: sorted(set(getattr(self, name)) - set(getattr(before, name)))
            for name in ("procore", "payments", "events")
            if getattr(self, name) != getattr(before, name)
        }


class WokenWorkerWrote(AssertionError):
    """The worker of a run declared dead wrote after it woke: what the xfail of that known gap expects."""


def stall_replace_and_wake(torture, stalled: Worker) -> tuple:
    """The stalled worker's run is declared dead, a new run finishes, then the stalled one wakes
    and ends. Returns (its run, the new run, runs it took, what the woken worker added)."""
    stalled_run = latest_run()
    declare_stalled_runs_dead()
    run, runs = sync_until_done(torture.workers)
    before = Snapshot.now()
    stalled.send(signal.SIGCONT)
    stalled.wait(RUN_TIMEOUT)
    time.sleep(1)  # a request it sent on waking lands
    return stalled_run, run, runs, Snapshot.now().added_since(before)


LATE_SENT_EVENT = "sent"  # see test_a_worker_stalled_between_marking_a_payment_sent_and_its_event_...


def assert_woken_worker_wrote_nothing(added: dict[str, list], stalled_run, *, tolerate_late_sent_event: bool) -> None:
    events = added.get("events", [])
    if tolerate_late_sent_event:  # the known gap, proved on its own below: not this scenario's business
        events = [e for e in events if not (e[1] == LATE_SENT_EVENT and e[3] == stalled_run.pk)]
    wrote = {name: rows for name, rows in {**added, "events": events}.items() if rows}
    if wrote:
        raise WokenWorkerWrote(f"the woken worker of run #{stalled_run.pk} wrote: {wrote}")


@pytest.mark.parametrize("seed", seeds(share=4))
def test_a_stalled_worker_that_wakes_after_its_run_was_declared_dead_sends_and_writes_nothing(torture, seed):
    from syncapp.sync.models import SyncRun

    started = time.monotonic()
    summary = torture.world(seed)
    dice = rng(seed, "stall")
    if seed % 2:  # SIGSTOP from outside once Procore holds n payments, or the worker stops itself at a point
        moment = KillMoment(after_payments=dice.randint(1, 30), after_seconds=dice.uniform(0, 0.05))
    else:
        moment = KillMoment(crash_at=f"{dice.choice(PER_PAYMENT_POINTS)}:{dice.randint(1, 30)}:stop")
    before = procore_payment_count()
    env = {"TORTURE_CRASH_AT": moment.crash_at} if moment.crash_at else {}
    stalled = torture.workers.sync_payments("stalled", **env)
    if moment.crash_at:
        wait_until(lambda: stalled.stopped() or not stalled.alive(), timeout=RUN_TIMEOUT, what="the stop")
    else:
        wait_until(
            lambda: procore_payment_count() >= before + moment.after_payments or not stalled.alive(),
            timeout=RUN_TIMEOUT,
            interval=0.01,
        )
        time.sleep(moment.after_seconds)
        stalled.send(signal.SIGSTOP)
    landed = stalled.alive() and wait_until(stalled.stopped, timeout=5)

    stalled_run, run, runs, added = stall_replace_and_wake(torture, stalled)

    comparison = compare_with_expected(summary.expected)
    what = moment.describe().replace("SIGKILL", "SIGSTOP")
    late = f"; {len(added['events'])} late event(s)" if added.get("events") else ""
    note = f"{what}{'' if landed else ' (the run finished first)'}; {runs} more run(s){late}"
    report("stalled worker wakes", seed, comparison, started=started, note=note)
    assert_woken_worker_wrote_nothing(added, stalled_run, tolerate_late_sent_event=True)
    if landed:  # declared dead it stays: the woken worker did not finish it
        assert SyncRun.objects.get(pk=stalled_run.pk).state == RunState.FAILED
    assert run.state == RunState.SUCCEEDED
    assert_clean(comparison, payments_left_unfinished())


def stall_at_point_then_wake(
    torture, seed: int, *, point: str, rng_key: str, what: str, label: str, note: str
) -> tuple:
    """A worker SIGSTOPs itself the nth time (from the seed) it reaches `point`, its run is declared
    dead and replaced, then it wakes. Returns (its run, the new run, the comparison, what it added)."""
    started = time.monotonic()
    summary = torture.world(seed)
    nth = rng(seed, rng_key).randint(1, 20)
    stalled = torture.workers.sync_payments("stalled", TORTURE_CRASH_AT=f"{point}:{nth}:stop")
    wait_until(lambda: stalled.stopped() or not stalled.alive(), timeout=RUN_TIMEOUT, what=f"{what} #{nth}")
    assert stalled.stopped(), f"the run reached fewer than {nth} of {what}:\n{stalled.tail()}"

    stalled_run, run, runs, added = stall_replace_and_wake(torture, stalled)

    comparison = compare_with_expected(summary.expected)
    report(label, seed, comparison, started=started, note=note.format(nth=nth) + f"; {runs} more run(s)")
    return stalled_run, run, comparison, added


@pytest.mark.xfail(
    strict=True,
    raises=WokenWorkerWrote,
    reason=(
        "Reported to the lead (minor, no duplicate): send._mark_sent updates the payment to sent and "
        "writes its 'sent' event in two statements, not one transaction; a worker stalled between them "
        "and declared dead writes the event when it wakes, after the run that replaced it"
    ),
)
@pytest.mark.parametrize("seed", seeds(share=7))
def test_a_worker_stalled_between_marking_a_payment_sent_and_its_event_writes_nothing_after_waking(torture, seed):
    stalled_run, run, comparison, added = stall_at_point_then_wake(
        torture, seed, point="sent_event", rng_key="stall-event", what="sent event",
        label="stalled before its sent event", note="SIGSTOP between payment #{nth}'s sent state and its event",
    )  # fmt: skip
    assert run.state == RunState.SUCCEEDED
    assert_clean(comparison, payments_left_unfinished())
    assert_woken_worker_wrote_nothing(added, stalled_run, tolerate_late_sent_event=False)


@pytest.mark.parametrize("seed", seeds(share=7))
def test_a_worker_stalled_as_its_payment_create_leaves_sends_nothing_after_waking(torture, seed):
    stalled_run, run, comparison, added = stall_at_point_then_wake(
        torture, seed, point="post", rng_key="stall-post", what="create", label="stalled as its create leaves",
        note="SIGSTOP as payment create #{nth} leaves",
    )  # fmt: skip
    assert run.state == RunState.SUCCEEDED
    assert_clean(comparison, payments_left_unfinished())
    assert_woken_worker_wrote_nothing(added, stalled_run, tolerate_late_sent_event=True)

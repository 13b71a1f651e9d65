"""The torture suite's harness: real worker processes against the sandbox, and the one comparison
every scenario ends with.

Workers are OS processes (`manage.py sync_payments`, `manage.py qcluster`, the Procore reader of
tests/torture/procore_reader.py), each in a session of its own, so a scenario can SIGKILL, SIGSTOP
and SIGCONT them as the kernel or an operator would. They use pytest-django's test database (their
DATABASE_URL names it) and reach the sandbox, served by the test's live server thread, over HTTP
exactly as the product reaches Xero and Procore. The sandbox staying in the test process is what
lets a scenario end Procore's hour (`ratelimit.end_hours()`) or flip a fault while a run goes on.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from syncapp.settings import SERVICE_URLS, sandbox_url
from tests.processes import database_url

ROOT = Path(__file__).resolve().parents[2]
WORKER_SETTINGS = "tests.torture.worker_settings"
IN_PROCORE = ("sent", "already_sent")  # the outcomes of SeedSummary.expected that end in Procore


# --- Seeds ---------------------------------------------------------------------------------------

SHORT_SEEDS = 3  # `make test`: CI guards every scenario with a few seeds


def seed_count() -> int:
    """TORTURE_SEEDS: how many seeds the kill -9 scenario runs (`make torture` sets 20 or more)."""
    return max(1, int(os.environ.get("TORTURE_SEEDS", SHORT_SEEDS)))


def seeds(*, share: int = 1) -> list[int]:
    """The seeds of a scenario: all TORTURE_SEEDS of them (share=1), or one in `share` of them,
    at least one, for the slower scenarios. TORTURE_SEED=<n> replays that one seed everywhere."""
    if os.environ.get("TORTURE_SEED"):
        return [int(os.environ["TORTURE_SEED"])]
    count = seed_count()
    return list(range(1, max(1, -(-count // share)) + 1))


def rng(seed: int, scenario: str) -> random.Random:
    """The seed's own dice for one scenario: the same seed always picks the same moment."""
    return random.Random(f"{scenario}:{seed}")


# --- The comparison every scenario ends with ------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """Procore's payments against the world's expected outcomes. Each list holds one line a person
    can read per problem; all three empty is the only good end."""

    duplicates: list[str]
    missing: list[str]
    wrong: list[str]
    expected: int

    @property
    def clean(self) -> bool:
        return not (self.duplicates or self.missing or self.wrong)

    def line(self) -> str:
        return (
            f"duplicates={len(self.duplicates)} missing={len(self.missing)} wrong={len(self.wrong)} "
            f"(of {self.expected} payments expected in Procore)"
        )

    def details(self) -> str:
        return "\n".join(
            f"  {kind}: {item}"
            for kind, items in (("duplicate", self.duplicates), ("missing", self.missing), ("wrong", self.wrong))
            for item in items
        )


def compare_with_expected(expected: dict[str, str]) -> Comparison:
    """Procore's contract payments (the sandbox's rows) against `SeedSummary.expected`: every
    payment expected there ("sent", "already_sent") exactly once with the Xero payment's amount,
    date and bill number; no payment of another outcome there at all."""
    from syncapp.sandbox.procore.models import ContractPayment
    from syncapp.sandbox.xero.models import Payment as XeroPayment

    in_procore: dict[str, list[ContractPayment]] = {}
    for remote in ContractPayment.objects.exclude(origin_id="").order_by("created_at"):
        in_procore.setdefault(remote.origin_id, []).append(remote)
    should = {pid for pid, outcome in expected.items() if outcome in IN_PROCORE}
    xero = {str(p.payment_id): p for p in XeroPayment.objects.filter(payment_id__in=should).select_related("invoice")}

    duplicates = [f"{pid} x{len(rows)} (ids {[r.pk for r in rows]})" for pid, rows in in_procore.items() if rows[1:]]
    missing = sorted(pid for pid in should if pid not in in_procore)
    wrong = []
    for pid in sorted(should & set(in_procore)):
        source, remote = xero[pid], in_procore[pid][0]
        bill_number = source.invoice.invoice_number if source.invoice else ""
        for what, want, got in (
            ("amount", source.amount, remote.amount),
            ("date", source.date, remote.date),
            ("invoice", bill_number or "", remote.invoice_number),
        ):
            if want != got:
                wrong.append(f"{pid}: {what} {got} in Procore, {want} in Xero")
    for pid in sorted(set(in_procore) - should):
        if pid in expected:  # origin_ids we do not know are not ours (hand-entered, another app)
            wrong.append(f"{pid}: in Procore, but the world expects it {expected[pid]}")
    return Comparison(duplicates=duplicates, missing=missing, wrong=wrong, expected=len(should))


@dataclass
class Result:
    scenario: str
    seed: int
    comparison: Comparison
    seconds: float
    note: str = ""

    def line(self) -> str:
        note = f"; {self.note}" if self.note else ""
        return f"{self.scenario:<34} seed {self.seed:>3}: {self.comparison.line()} in {self.seconds:.1f}s{note}"


RESULTS: list[Result] = []  # printed at the end of the session (conftest.pytest_terminal_summary)


def report(scenario: str, seed: int, comparison: Comparison, *, started: float, note: str = "") -> Result:
    result = Result(scenario, seed, comparison, time.monotonic() - started, note)
    RESULTS.append(result)
    print(result.line())
    if not comparison.clean:
        print(comparison.details())
    return result


# --- Worker processes -------------------------------------------------------------------------------


def worker_env(site_url: str, **extra: str) -> dict[str, str]:
    """The parent's environment (its generated secrets included, so stored tokens decrypt), the
    test database, and every service URL pointing at the live sandbox."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE=WORKER_SETTINGS,
        DATABASE_URL=database_url(),
        SITE_URL=site_url,
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="WARNING",
    )
    for name in SERVICE_URLS:
        env[name] = sandbox_url(name, site_url)
    env.update(extra)
    return env


class WorkerHung(AssertionError):
    pass


@dataclass
class Worker:
    name: str
    popen: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def send(self, sig: int) -> None:
        """A signal to the worker process itself (kill -9 is `send(signal.SIGKILL)`)."""
        if self.alive():
            os.kill(self.pid, sig)

    def send_group(self, sig: int) -> None:
        """A signal to every process the worker started (qcluster forks its workers)."""
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            pass

    def stopped(self) -> bool:
        """Whether the kernel holds it stopped (SIGSTOP): state T in /proc/<pid>/stat."""
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text()
        except FileNotFoundError:
            return False
        return stat.rpartition(")")[2].split()[0] in ("T", "t")

    def wait(self, timeout: float) -> int:
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            hung = f"{self.name} (pid {self.pid}) still running after {timeout:.0f}s"
            raise WorkerHung(f"{hung}:\n{self.tail()}") from None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.output().splitlines()[-lines:])


@dataclass
class Workers:
    """Starts worker processes; `end_all()` (the fixture's teardown) wakes and kills what is left,
    so no worker outlives its test or holds a lock on the test database's flush."""

    site_url: str
    log_dir: Path
    default_env: dict[str, str] = field(default_factory=dict)  # for every worker the scenario starts
    started: list[Worker] = field(default_factory=list)

    def start(self, name: str, argv: list[str], **env: str) -> Worker:
        log = self.log_dir / f"{len(self.started):02d}-{name}.log"
        with log.open("w") as out:
            popen = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=worker_env(self.site_url, **{**self.default_env, **env}),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: signals reach it and its children only
            )
        worker = Worker(name, popen, log)
        self.started.append(worker)
        return worker

    def sync_payments(self, name: str = "sync_payments", *options: str, **env: str) -> Worker:
        argv = [sys.executable, "manage.py", "sync_payments", "--integration", "northwind", *options]
        return self.start(name, argv, **env)

    def qcluster(self, *, workers: int = 2, **env: str) -> Worker:
        return self.start("qcluster", [sys.executable, "manage.py", "qcluster"], Q_WORKERS=str(workers), **env)

    def procore_reader(self, name: str, *, seconds: float) -> Worker:
        argv = [sys.executable, "-m", "tests.torture.procore_reader", "--seconds", str(seconds)]
        return self.start(name, argv)

    def stop_cluster(self, worker: Worker, timeout: float = 15) -> None:
        """qcluster stops on SIGTERM once its workers are idle; SIGKILL the group if it does not."""
        worker.send_group(signal.SIGTERM)
        try:
            worker.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        worker.send_group(signal.SIGKILL)
        worker.popen.wait()

    def end_all(self) -> None:
        for worker in self.started:
            worker.send_group(signal.SIGCONT)
            worker.send_group(signal.SIGKILL)
            worker.popen.wait()


# --- Waiting ---------------------------------------------------------------------------------------------


def wait_until(condition: Callable[[], object], *, timeout: float, interval: float = 0.05, what: str = "") -> object:
    """Poll `condition` until it is truthy (returned) or `timeout` seconds pass (AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what or condition}")
        time.sleep(interval)


def procore_payment_count() -> int:
    from syncapp.sandbox.procore.models import ContractPayment

    return ContractPayment.objects.count()


# --- Runs ------------------------------------------------------------------------------------------------


def declare_killed_runs_dead(*, timeout: float = 60) -> float:
    """Wait until runs.py itself declares the killed worker's run dead: its advisory lock is free
    (the process is gone) and any Procore request it sent is over (`write_until`). Nothing is aged
    or forced. Returns the seconds that took."""
    from syncapp.sync.models import ACTIVE_RUN_STATES, SyncRun
    from syncapp.sync.runs import recover_stale_runs

    started = time.monotonic()

    def over() -> bool:
        recover_stale_runs()
        return not SyncRun.objects.filter(state__in=ACTIVE_RUN_STATES).exists()

    wait_until(over, timeout=timeout, interval=0.2, what="the killed worker's run to be declared dead")
    return time.monotonic() - started


def declare_stalled_runs_dead(timeout: float = 120) -> float:
    """A stalled (SIGSTOPped) worker still holds its session and so the run's lock: only its
    silent heartbeat gives it away, after SYNC_HUNG_SECONDS, which a scenario ages instead of
    waiting for. The deadline of its last Procore request (`write_until`) is real time the stalled
    process also sees, so it is waited for, not aged. Returns the seconds it took."""
    from syncapp.sync.models import ACTIVE_RUN_STATES, RunState, SyncRun
    from syncapp.sync.runs import recover_stale_runs

    started = time.monotonic()
    SyncRun.objects.filter(state=RunState.RUNNING).update(heartbeat_at="2000-01-01T00:00:00Z")

    def over() -> bool:
        recover_stale_runs()
        return not SyncRun.objects.filter(state__in=ACTIVE_RUN_STATES).exists()

    wait_until(over, timeout=timeout, interval=0.2, what="the stalled worker's run to be declared dead")
    return time.monotonic() - started


def latest_run():
    from syncapp.sync.models import SyncRun

    return SyncRun.objects.order_by("-pk").first()


def sync_until_done(workers: Workers, *, attempts: int = 4, timeout: float = 300):
    """`manage.py sync_payments` until a run succeeds with no payment failed, pressing Retry on
    failed payments between runs (a run gives up on a payment after its retries; a person retries
    it). Returns (the last run, how many runs it took)."""
    from syncapp.sync import services
    from syncapp.sync.models import Payment, PaymentState, RunState

    for attempt in range(1, attempts + 1):
        worker = workers.sync_payments(f"sync-{attempt}")
        worker.wait(timeout)
        run = latest_run()
        failed = list(Payment.objects.filter(state=PaymentState.FAILED))
        if run.state == RunState.SUCCEEDED and not failed:
            return run, attempt
        for payment in failed:
            services.retry_payment(payment=payment)
    raise AssertionError(f"no clean run after {attempts} runs; the last: {run.state} {run.error}\n{worker.tail()}")


def payments_left_unfinished() -> list[str]:
    """Our side of the end state: no payment still sending, failed or ready after the last run."""
    from syncapp.sync.models import Payment, PaymentState

    rows = Payment.objects.filter(state__in=(PaymentState.SENDING, PaymentState.FAILED, PaymentState.READY))
    return [f"{p.xero_payment_id}: {p.state} {p.last_error}" for p in rows]

"""The sync engine end to end: N seeded payments fetched from the sandbox Xero and sent to the
sandbox Procore, over real HTTP, with the sandbox served by a separate process.

Phase 1 (throughput): a fresh PostgreSQL database, `sandbox_seed --payments N` (in a subprocess),
the sandbox served by `manage.py runserver --noreload` on a free port, an integration connected
headlessly (client credentials), then one run in this process with no added latency and the
rate limits lifted. Prints payments/s, our own overhead per payment (run time minus time spent
waiting on HTTP), peak memory of this process, API calls per payment.

Phase 2 (pacing): a new world of --paced-payments payments and Procore's spike limit set to
--spike-limit calls per --window seconds; prints the achieved Procore call rate as a share of that
ceiling, and the number of 429s.

    .venv/bin/python bench/sync_end_to_end.py                       # N=10,000, then 300 paced
    .venv/bin/python bench/sync_end_to_end.py --payments 2000 --paced-payments 0
    PGURL=postgres://postgres@127.0.0.1:5432 .venv/bin/python bench/sync_end_to_end.py --database bench_sync
"""

from __future__ import annotations

import argparse
import base64
import os
import resource
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from procore_pacing import configure_environment, free_port  # noqa: E402


class HttpClock:
    """Wraps httpx (Procore, tokens) and urllib3 (the Xero SDK) to add up time spent waiting on HTTP,
    and records Procore calls and 429s (with timestamps) for the pacing phase."""

    def __init__(self):
        self.seconds = 0.0
        self.procore_calls: list[float] = []
        self.procore_429 = 0
        self._lock = threading.Lock()

    def install(self) -> None:
        import httpx
        import urllib3.connectionpool

        clock = self
        original_send = httpx.Client.send

        def send(self, request, *args, **kwargs):
            started = time.perf_counter()
            try:
                response = original_send(self, request, *args, **kwargs)
            finally:
                clock._add(time.perf_counter() - started)
            if "/procore/api/" in str(request.url):
                with clock._lock:
                    clock.procore_calls.append(time.monotonic())
                    clock.procore_429 += response.status_code == 429
            return response

        httpx.Client.send = send
        original_urlopen = urllib3.connectionpool.HTTPConnectionPool.urlopen

        def urlopen(self, *args, **kwargs):
            started = time.perf_counter()
            try:
                return original_urlopen(self, *args, **kwargs)
            finally:
                clock._add(time.perf_counter() - started)

        urllib3.connectionpool.HTTPConnectionPool.urlopen = urlopen

    def _add(self, seconds: float) -> None:
        with self._lock:
            self.seconds += seconds

    def reset(self) -> None:
        self.seconds, self.procore_calls, self.procore_429 = 0.0, [], 0


def fresh_database(pg_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"{pg_url}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{pg_url}/{name}"


def manage(*args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], check=True, cwd=ROOT)


def start_server(port: int) -> subprocess.Popen:
    import socket

    server = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("the sandbox server did not start")


def seed(payments: int, seed_value: int) -> float:
    started = time.perf_counter()
    manage("sandbox_seed", "--payments", str(payments), "--seed", str(seed_value), "--reset")
    return time.perf_counter() - started


def connected_integration(name: str):
    from syncapp.connections.models import Integration
    from syncapp.connections.services import connect_headless

    integration = Integration.objects.create(name=name)
    connect_headless(integration=integration, provider="xero")
    connect_headless(integration=integration, provider="procore")
    return integration


def sync(integration, clock: HttpClock):
    from syncapp.sync.runs import execute_run, start_run

    clock.reset()
    run, _ = start_run(integration=integration, trigger="command")
    started = time.perf_counter()
    run = execute_run(run.pk)
    return run, time.perf_counter() - started, clock.seconds


def phase_one(args, clock: HttpClock) -> dict:
    from syncapp.sandbox.models import Behaviour
    from syncapp.sync.models import Payment

    seconds_seeding = seed(args.payments, 1)
    Behaviour.reset()
    Behaviour.set("procore", hourly_limit=10_000_000, spike_limit=10_000_000)
    Behaviour.set("xero", minute_limit=100_000, day_limit=1_000_000)
    integration = connected_integration("bench")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    run, elapsed, http_seconds = sync(integration, clock)
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sent = run.counts.get("sent", 0)
    handled = Payment.objects.filter(integration=integration).count()
    second, second_elapsed, _ = sync(integration, clock)
    return {
        "payments_seeded": args.payments,
        "seed_seconds": round(seconds_seeding, 1),
        "run_state": run.state,
        "run_seconds": round(elapsed, 2),
        "payments_fetched": run.fetched,
        "payments_sent": sent,
        "payments_recorded": handled,
        "counts": run.counts,
        "payments_per_s(fetched)": round(run.fetched / elapsed, 1),
        "sent_per_s": round(sent / elapsed, 1),
        "http_wait_seconds": round(http_seconds, 2),
        "own_overhead_ms_per_payment": round((elapsed - http_seconds) * 1000 / max(run.fetched, 1), 2),
        "peak_rss_mb": round(rss_peak / 1024, 1),
        "rss_before_run_mb": round(rss_before / 1024, 1),
        "procore_calls": run.api_calls_procore,
        "procore_calls_per_payment_sent": round(run.api_calls_procore / max(sent, 1), 4),
        "xero_calls": run.api_calls_xero,
        "xero_calls_per_payment_fetched": round(run.api_calls_xero / max(run.fetched, 1), 4),
        "second_run_seconds": round(second_elapsed, 2),
        "second_run_sent": second.counts.get("sent", 0),
        "second_run_calls": {"xero": second.api_calls_xero, "procore": second.api_calls_procore},
    }


def phase_two(args, clock: HttpClock) -> dict:
    from syncapp.sandbox.models import Behaviour

    seed(args.paced_payments, 2)
    Behaviour.reset()
    Behaviour.set("xero", minute_limit=100_000, day_limit=1_000_000)
    Behaviour.set("procore", hourly_limit=10_000_000, spike_limit=args.spike_limit, spike_window_seconds=args.window)
    time.sleep(args.window)  # start with an empty window
    integration = connected_integration("bench-paced")
    run, elapsed, _ = sync(integration, clock)
    calls = sorted(clock.procore_calls)
    span = calls[-1] - calls[0] if len(calls) > 1 else 0.0
    ceiling = args.spike_limit / args.window
    # Over a span, a window-limited API admits at most limit * (span / window) + limit calls.
    achieved = (len(calls) - clock.procore_429) / span if span else 0.0
    return {
        "spike_limit": f"{args.spike_limit} per {args.window} s",
        "run_state": run.state,
        "run_seconds": round(elapsed, 1),
        "payments_sent": run.counts.get("sent", 0),
        "procore_calls": len(calls),
        "procore_429s": clock.procore_429,
        "procore_calls_per_s": round(achieved, 3),
        "ceiling_per_s": round(ceiling, 3),
        "share_of_ceiling": f"{achieved / ceiling:.1%}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--payments", type=int, default=10_000)
    parser.add_argument("--paced-payments", type=int, default=300)
    parser.add_argument("--spike-limit", type=int, default=25)
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--database", default="bench_sync")
    args = parser.parse_args()

    pg_url = os.environ.get("PGURL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
    database_url = fresh_database(pg_url, args.database)
    port = free_port()
    configure_environment(f"http://127.0.0.1:{port}", database_url)
    os.environ.setdefault("XERO_CLIENT_ID", "bench-xero")
    os.environ.setdefault("XERO_CLIENT_SECRET", secrets.token_urlsafe(16))
    os.environ.setdefault("PROCORE_CLIENT_ID", "bench-procore")
    os.environ.setdefault("PROCORE_CLIENT_SECRET", secrets.token_urlsafe(16))
    os.environ.setdefault("TOKEN_ENCRYPTION_KEYS", base64.urlsafe_b64encode(os.urandom(32)).decode())
    manage("migrate", "--noinput", "-v", "0")
    server = start_server(port)
    try:
        import django

        django.setup()
        clock = HttpClock()
        clock.install()
        results = {}
        if args.payments:
            results["phase 1: throughput"] = phase_one(args, clock)
        if args.paced_payments:
            results["phase 2: pacing"] = phase_two(args, clock)
    finally:
        server.terminate()
        server.wait(timeout=10)
    for phase, result in results.items():
        print(f"== {phase}")
        width = max(len(k) for k in result)
        for key, value in result.items():
            print(f"  {key:<{width}}  {value}")


if __name__ == "__main__":
    main()

"""How long does seeding the sandbox take at demo and stress sizes, and how long does a reset take?

Migrates the database named by DATABASE_URL (a throwaway SQLite file when unset), then for each
size: resets the sandbox, seeds it with `seed_world()`, and prints seconds, payments per second
and the row counts. The last world is left in place (useful for a manual look or a sync bench).
The seconds per size go to bench/RESULTS.md with a bar of 1 s per 1,000 payments (bench/report.py).

    createdb -h 127.0.0.1 -U postgres h_seed
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_seed .venv/bin/python bench/seed_sandbox.py --payments 100000
    .venv/bin/python bench/seed_sandbox.py --payments 10000 100000 --seed 1
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def configure_environment() -> str:
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='seed-bench-')}/bench.sqlite3"
    os.environ.update(DJANGO_SETTINGS_MODULE="syncapp.settings", SANDBOX_ENABLED="true", LOG_LEVEL="WARNING")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("TOKEN_ENCRYPTION_KEYS", base64.urlsafe_b64encode(os.urandom(32)).decode())
    return os.environ["DATABASE_URL"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    database_url = configure_environment()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from report import Section, figure, record

    from syncapp.sandbox.seed import reset_world, seed_world

    section = Section("seed", "Seeding the sandbox")
    call_command("migrate", "--noinput", verbosity=0)
    print(f"database: {connection.vendor} ({database_url.split('@')[-1]})")
    for payments in options.payments:
        started = time.perf_counter()
        with transaction.atomic():
            reset_world()
        reset_seconds = time.perf_counter() - started
        summary = seed_world(payments=payments, seed=options.seed)
        rows = sum(summary.counts.values())
        print(
            f"payments={payments:,} seed={options.seed}: seeded in {summary.seconds:.1f} s "
            f"({payments / summary.seconds:,.0f} payments/s, {rows:,} rows, {rows / summary.seconds:,.0f} rows/s); "
            f"reset of the previous world {reset_seconds:.1f} s"
        )
        print("  " + ", ".join(f"{name} {value:.1f} s" for name, value in summary.phases.items()))
        print("  " + ", ".join(f"{name} {count:,}" for name, count in summary.counts.items()))
        print(f"  commitments per payment: {summary.counts['procore_commitments'] / payments:.4f}")
        section.add(
            figure(
                f"seed {payments:,} payments",
                summary.seconds,
                unit="s",
                at_most=payments / 1000,
                note=f"{rows:,} rows, {payments / summary.seconds:,.0f} payments/s; reset of the previous world "
                f"{reset_seconds:.1f} s. The bar: 1 s per 1,000 payments, so the benches and the demo wait little.",
            )
        )
    record(section)


if __name__ == "__main__":
    main()

"""How fast are the dashboard pages at 100,000 payments, and do their queries stay constant with rows?

Migrates the database named by DATABASE_URL (a throwaway SQLite file when unset), bulk-creates
local Payment rows (no sandbox, no HTTP: this measures the pages, not the sync), then requests each
page through Django's test client as an Admin at every size of --sizes (rows are added, never
rebuilt): p50 and p95 milliseconds and the number of SQL queries per page. The figures (slowest
p95 at the largest size; query counts equal at every size) go to bench/RESULTS.md with their
targets (bench/report.py).

    createdb -h 127.0.0.1 -U postgres h_dash_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_dash_bench .venv/bin/python bench/dashboard_pages.py
    .venv/bin/python bench/dashboard_pages.py --sizes 2000 20000 --repeat 5
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import math
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

STATES = ["sent"] * 80 + ["blocked"] * 10 + ["failed"] * 4 + ["ready"] * 3 + ["ignored"] * 2 + ["skipped"]
REASONS = {"blocked": ["vendor_not_linked", "invoice_not_found", "currency_mismatch"], "failed": ["procore_refused"]}


def configure_environment() -> None:
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='dash-bench-')}/bench.sqlite3"
    os.environ.update(DJANGO_SETTINGS_MODULE="syncapp.settings", LOG_LEVEL="WARNING", DEBUG="false")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("TOKEN_ENCRYPTION_KEYS", base64.urlsafe_b64encode(os.urandom(32)).decode())
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")


def seed(payments: int) -> object:
    """Top the bench integration up to `payments` rows (existing rows stay: sizes grow in turn)."""
    from syncapp.connections.models import Connection, Integration
    from syncapp.sync.models import Payment, SyncRun

    integration, created = Integration.objects.get_or_create(name="bench")
    have = Payment.objects.filter(integration=integration).count()
    for provider in ("xero", "procore"):
        Connection.objects.get_or_create(
            integration=integration, provider=provider, defaults={"tenant_id": "1", "tenant_name": "Bench"}
        )
    rng = random.Random(have + 1)
    today = dt.date.today()
    rows = []
    for n in range(have, payments):
        rows.append(bench_payment(integration, n, rng, today))
        if len(rows) == 5000:
            Payment.objects.bulk_create(rows)
            rows = []
    Payment.objects.bulk_create(rows)
    analyze()
    if created:
        SyncRun.objects.bulk_create(
            [
                SyncRun(integration=integration, trigger="button", state="succeeded", counts={"sent": 10})
                for _ in range(200)
            ]
        )
    return integration


def analyze() -> None:
    """Fresh planner statistics, as a database that grew over months has (autovacuum may lag a bulk load)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def bench_payment(integration, n: int, rng: random.Random, today: dt.date):
    from syncapp.sync.models import Payment

    state = rng.choice(STATES)
    return Payment(
        integration=integration,
        xero_payment_id=f"bench-{n:08d}",
        payment_type="ACCPAYPAYMENT",
        xero_status="AUTHORISED",
        date=today - dt.timedelta(days=rng.randrange(365)),
        amount=Decimal(rng.randrange(1000, 5_000_000)) / 100,
        currency_code="AUD",
        reference=f"EFT{n:07d}",
        xero_invoice_id=f"inv-{n // 2:08d}",
        invoice_number=f"INV-{n // 2:07d}",
        xero_contact_id=f"c-{n % 400}",
        vendor_name=f"Vendor {n % 400:03d} Pty Ltd",
        project_name=f"P-{1000 + n % 12} Project",
        commitment_number=f"SC-{n % 900:03d}",
        state=state,
        reason_code=rng.choice(REASONS.get(state, [""])),
        message="Blocked for a reason people can act on." if state in REASONS else "",
        procore_payment_id=10_000_000_000 + n if state == "sent" else None,
    )


@dataclass
class PageTimes:
    p50: float
    p95: float
    queries: int


def measure(client, url: str, repeat: int) -> PageTimes:
    """`repeat` timed requests after one untimed warm-up (template loading, first connection)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert client.get(url).status_code == 200, url
    times = []
    queries = set()
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries.add(len(ctx.captured_queries))
    return PageTimes(statistics.median(times), nearest_rank(times, 0.95), max(queries))


def nearest_rank(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def pages() -> list[tuple[str, str]]:
    from syncapp.sync.models import Payment

    some = Payment.objects.filter(state="blocked").order_by("id").values_list("id", flat=True).first()
    recent = dt.date.today() - dt.timedelta(days=90)
    return [
        ("home", "/"),
        ("payments", "/payments/"),
        ("payments page 100", "/payments/?page=100"),
        ("payments state=blocked", "/payments/?state=blocked"),
        ("payments vendor + dates", f"/payments/?vendor=Vendor+007+Pty+Ltd&date_from={recent}"),
        ("payments amount range, by amount", "/payments/?amount_min=100&amount_max=2000&sort=-amount"),
        ("payments search invoice", "/payments/?q=INV-0012345"),
        ("payments search Xero id", "/payments/?q=bench-00054321"),
        ("payment detail", f"/payments/{some}/"),
        ("runs", "/runs/"),
        ("failures", "/failures/"),
        ("audit", "/audit/"),
    ]


P95_BAR_MS = 500  # a page a person waits for; no number in the issue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="payments, ascending")
    parser.add_argument("--repeat", type=int, default=20)
    options = parser.parse_args()
    configure_environment()
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client
    from report import Section, record

    section = Section("pages", f"Dashboard pages at {options.sizes[-1]:,} payments")
    call_command("migrate", verbosity=0)
    admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"is_superuser": True})
    client = Client()
    client.force_login(admin)
    measured: dict[int, dict[str, PageTimes]] = {}
    for size in sorted(options.sizes):
        started = time.perf_counter()
        seed(size)
        print(f"{size:,} payments ready in {time.perf_counter() - started:.1f} s")
        measured[size] = {label: measure(client, url, options.repeat) for label, url in pages()}
    with_figures(section, measured, options.repeat)
    record(section)


def with_figures(section, measured: dict[int, dict[str, PageTimes]], repeat: int) -> None:
    from report import Table, check, figure

    sizes = sorted(measured)
    largest = measured[sizes[-1]]
    slowest = max(largest, key=lambda label: largest[label].p95)
    changed = [label for label in largest if len({measured[size][label].queries for size in sizes}) > 1]
    section.add(
        figure(
            f"slowest page p95 at {sizes[-1]:,} payments",
            round(largest[slowest].p95, 1),
            unit="ms",
            at_most=P95_BAR_MS,
            note=f"{slowest}; {repeat} requests a page through Django's test client (no browser, no network)",
        ),
        check(
            "queries per page constant with rows",
            not changed,
            value="same at " + " and ".join(f"{size:,}" for size in sizes)
            if not changed
            else "changes: " + ", ".join(changed),
            target="the same count at every size",
            note="SQL queries of one request, counted with CaptureQueriesContext",
        ),
    )
    columns = ["page"] + [f"{name} at {size:,}" for size in sizes for name in ("p50 ms", "p95 ms", "queries")]
    rows = [[label] + [value for size in sizes for value in _cells(measured[size][label])] for label in largest]
    section.tables.append(
        Table(
            "every page",
            columns + [f"p95 ≤ {P95_BAR_MS} ms"],
            [row + ["PASS" if largest[row[0]].p95 <= P95_BAR_MS else "MISS"] for row in rows],
        )
    )


def _cells(times: PageTimes) -> list:
    return [f"{times.p50:.1f}", f"{times.p95:.1f}", times.queries]


if __name__ == "__main__":
    main()

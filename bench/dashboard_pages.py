"""How fast are the dashboard pages at 100,000 payments? Milliseconds per page, and queries per page.

Migrates the database named by DATABASE_URL (a throwaway SQLite file when unset), bulk-creates
local Payment rows (no sandbox, no HTTP: this measures the pages, not the sync), then requests each
page several times through Django's test client as an Admin and prints the median and worst time.

    createdb -h 127.0.0.1 -U postgres h_dash_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_dash_bench .venv/bin/python bench/dashboard_pages.py
    .venv/bin/python bench/dashboard_pages.py --payments 20000 --repeat 5
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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
    from syncapp.connections.models import Connection, Integration
    from syncapp.sync.models import Payment, SyncRun

    integration, _ = Integration.objects.get_or_create(name="bench")
    if Payment.objects.filter(integration=integration).count() >= payments:
        return integration
    Payment.objects.filter(integration=integration).delete()
    for provider in ("xero", "procore"):
        Connection.objects.get_or_create(
            integration=integration, provider=provider, defaults={"tenant_id": "1", "tenant_name": "Bench"}
        )
    rng = random.Random(1)
    today = dt.date.today()
    rows = []
    for n in range(payments):
        state = rng.choice(STATES)
        rows.append(
            Payment(
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
        )
        if len(rows) == 5000:
            Payment.objects.bulk_create(rows)
            rows = []
    Payment.objects.bulk_create(rows)
    SyncRun.objects.bulk_create(
        [SyncRun(integration=integration, trigger="button", state="succeeded", counts={"sent": 10}) for _ in range(200)]
    )
    return integration


def measure(client, url: str, repeat: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    queries = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(ctx.captured_queries)
    return statistics.median(times), max(times), queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    options = parser.parse_args()
    configure_environment()
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    seed(options.payments)
    print(
        f"database: {os.environ['DATABASE_URL'].split('@')[-1]}; {options.payments:,} payments ready in "
        f"{time.perf_counter() - started:.1f} s"
    )
    admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"is_superuser": True})
    client = Client()
    client.force_login(admin)
    from syncapp.sync.models import Payment

    some = Payment.objects.filter(state="blocked").order_by("id").values_list("id", flat=True).first()
    pages = [
        ("home", "/"),
        ("payments", "/payments/"),
        ("payments page 100", "/payments/?page=100"),
        ("payments state=blocked", "/payments/?state=blocked"),
        (
            "payments vendor + dates",
            f"/payments/?vendor=Vendor+007+Pty+Ltd&date_from={dt.date.today() - dt.timedelta(days=90)}",
        ),
        ("payments amount range, by amount", "/payments/?amount_min=100&amount_max=2000&sort=-amount"),
        ("payments search invoice", "/payments/?q=INV-0012345"),
        ("payments search Xero id", "/payments/?q=bench-00054321"),
        ("payment detail", f"/payments/{some}/"),
        ("runs", "/runs/"),
        ("failures", "/failures/"),
        ("audit", "/audit/"),
    ]
    print(f"{'page':38} {'median ms':>10} {'worst ms':>10} {'queries':>8}")
    for label, url in pages:
        median, worst, queries = measure(client, url, options.repeat)
        print(f"{label:38} {median:10.1f} {worst:10.1f} {queries:8d}")


if __name__ == "__main__":
    main()

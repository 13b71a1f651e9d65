"""How long does a month-end reconciliation of 100,000 payments take to build and to download, and
does the memory of a download stay flat as rows grow?

Migrates the database named by DATABASE_URL (a throwaway SQLite file when unset), bulk-creates
local Payment rows and, for each size, the Procore side as a fresh read would return it (no sandbox,
no HTTP: Procore's own pace is measured by bench/procore_pacing.py): most payments matched, some
with an edited amount or date, some missing, duplicated or entered by hand. Then:

- build: `compare` and the report's save, as `execute_report` does after reading Procore;
- CSV and XLSX: each file written in full from the report, as the download streams it, timed
  without tracing; then written again under tracemalloc for the peak of Python allocations.

Memory is "flat with rows" when the peak at the largest size is at most 1.5 times the peak at the
smallest (rows x10). The figures go to bench/RESULTS.md with their targets (bench/report.py).

    .venv/bin/python bench/reconcile_export.py --database bench_reconcile   (as `make bench` runs it)
    .venv/bin/python bench/reconcile_export.py --sizes 10000 30000   (SQLite, a quicker look)

Sizes below 2,000 lines are read in one chunk, so they cannot show whether memory is flat.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from dashboard_pages import analyze, configure_environment  # noqa: E402
from report import peak, timed  # noqa: E402

CSV_BAR_SECONDS = 10.0  # issue 11: "CSV under 10 s here" at 100,000 payments
FLAT_RATIO = 1.5  # peak at the largest size over the peak at the smallest
STATES = ["sent"] * 90 + ["blocked"] * 5 + ["failed"] * 2 + ["ready"] * 2 + ["ignored"]


@dataclass
class Measured:
    lines: int
    build_s: float
    csv_s: float
    csv_mb: float
    csv_peak_mb: float
    xlsx_s: float
    xlsx_mb: float
    xlsx_peak_mb: float


def make_world(size: int):
    """An integration with `size` payments and the Procore read that goes with them."""
    from syncapp.connections.models import Integration
    from syncapp.connectors.types import ProcorePayment
    from syncapp.reconcile.compare import CommitmentKey, CommitmentRead
    from syncapp.sync.models import Payment

    integration = Integration.objects.create(name=f"bench-{size}")
    rng = random.Random(size)
    start = dt.date(2026, 1, 1)
    rows = []
    for n in range(size):
        state = rng.choice(STATES)
        commitment = n % 900
        rows.append(
            Payment(
                integration=integration,
                xero_payment_id=f"{n:08x}-0000-4000-8000-{size:012x}",
                payment_type="ACCPAYPAYMENT",
                xero_status="AUTHORISED",
                date=start + dt.timedelta(days=rng.randrange(330)),
                amount=Decimal(rng.randrange(1000, 5_000_000)) / 100,
                currency_code="USD" if n % 50 == 0 else "AUD",
                xero_invoice_id=f"inv-{n // 2:08d}",
                invoice_number=f"INV-{n // 2:07d}",
                xero_contact_id=f"c-{n % 400}",
                vendor_name=f"Vendor {n % 400:03d} Pty Ltd",
                procore_project_id=1000 + commitment % 12,
                project_name=f"P-{1000 + commitment % 12} Project",
                procore_commitment_id=50_000 + commitment,
                commitment_number=f"SC-{commitment:03d}",
                state=state,
                message="Vendor not linked." if state == "blocked" else "",
                procore_payment_id=10_000_000_000 + n if state == "sent" else None,
            )
        )
    Payment.objects.bulk_create(rows, batch_size=5000)
    analyze()
    reads: dict[CommitmentKey, list] = {}
    for n, payment in enumerate(rows):
        key = CommitmentKey(payment.procore_project_id, payment.procore_commitment_id)
        found = reads.setdefault(key, [])
        if payment.state != "sent" or n % 500 == 1:  # not sent, or deleted in Procore by hand
            continue
        amount = payment.amount - Decimal("10.00") if n % 400 == 3 else payment.amount
        day = payment.date + dt.timedelta(days=2) if n % 400 == 5 else payment.date
        remote = ProcorePayment(payment.procore_payment_id, key.commitment_id, amount, day, payment.invoice_number,
                                origin_id=payment.xero_payment_id)  # fmt: skip
        found.append(remote)
        if n % 1000 == 7:  # entered again by hand
            found.append(ProcorePayment(20_000_000_000 + n, key.commitment_id, amount, day, payment.invoice_number))
        if n % 1000 == 9:  # someone else's payment on the commitment
            found.append(ProcorePayment(30_000_000_000 + n, key.commitment_id, Decimal("99.00"), day, "BY-HAND"))
    return integration, [CommitmentRead(key=key, payments=found) for key, found in reads.items()]


def measure(size: int) -> Measured:
    from django.utils import timezone

    from syncapp.reconcile import export
    from syncapp.reconcile.compare import compare
    from syncapp.reconcile.models import ReconciliationReport
    from syncapp.reconcile.reports import _PAYMENT_FIELDS, _save
    from syncapp.sync.models import Payment

    integration, reads = make_world(size)
    report = ReconciliationReport.objects.create(integration=integration, state="running", started_at=timezone.now())
    started = time.perf_counter()
    payments = list(Payment.objects.filter(integration=integration).only(*_PAYMENT_FIELDS).order_by("date", "id"))
    comparison = compare(payments=payments, reads=reads)
    _save(report, comparison, calls=len(reads))
    build = time.perf_counter() - started
    del payments, comparison, reads
    report.refresh_from_db()
    print(f"{size:,} payments: report #{report.pk} built in {build:.1f} s")

    def write_csv() -> int:
        written = 0
        for chunk in export.iter_csv(report):
            written += len(chunk)
        return written

    def write_xlsx() -> int:
        with tempfile.TemporaryFile() as out:
            export.write_xlsx(report, out)
            return out.tell()

    csv_s, csv_bytes = timed(write_csv)
    xlsx_s, xlsx_bytes = timed(write_xlsx)
    measured = Measured(
        lines=report.lines.count(),
        build_s=build,
        csv_s=csv_s,
        csv_mb=csv_bytes / 1e6,
        csv_peak_mb=peak(write_csv),
        xlsx_s=xlsx_s,
        xlsx_mb=xlsx_bytes / 1e6,
        xlsx_peak_mb=peak(write_xlsx),
    )
    print(f"  {measured}")
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="payments, ascending")
    parser.add_argument("--database", help="a PostgreSQL database to (re)create and use instead of DATABASE_URL")
    options = parser.parse_args()
    if options.database:
        from report import PG_URL
        from sync_end_to_end import fresh_database

        os.environ["DATABASE_URL"] = fresh_database(PG_URL, options.database)
    configure_environment()
    import django

    django.setup()
    from django.core.management import call_command
    from report import Section, Table, check, figure, record

    section = Section("reconcile", f"Reconciliation build and downloads at {options.sizes[-1]:,} payments")
    call_command("migrate", verbosity=0)
    sizes = sorted(options.sizes)
    measured = {size: measure(size) for size in sizes}
    small, large = measured[sizes[0]], measured[sizes[-1]]
    at = f"at {sizes[-1]:,} payments"
    section.add(
        figure(f"build {at}", round(large.build_s, 1), unit="s", at_most=60.0,
               note="compare + save of the lines and totals; the Procore read is paced by Procore (not here)"),
        figure(f"CSV {at}", round(large.csv_s, 1), unit="s", at_most=CSV_BAR_SECONDS, source="issue 11",
               note=f"{large.lines:,} lines, {large.csv_mb:.1f} MB, written in full as the download streams"),
        figure(f"XLSX {at}", round(large.xlsx_s, 1), unit="s", at_most=60.0,
               note=f"write-only workbook, {large.xlsx_mb:.1f} MB"),
        check("CSV memory flat with rows", large.csv_peak_mb <= FLAT_RATIO * max(small.csv_peak_mb, 1.0),
              value=f"{small.csv_peak_mb:.1f} MB -> {large.csv_peak_mb:.1f} MB",
              target=f"peak at {sizes[-1]:,} ≤ {FLAT_RATIO} × peak at {sizes[0]:,}", source="issue 11",
              note="tracemalloc peak of Python allocations while writing the file"),
        check("XLSX memory flat with rows", large.xlsx_peak_mb <= FLAT_RATIO * max(small.xlsx_peak_mb, 1.0),
              value=f"{small.xlsx_peak_mb:.1f} MB -> {large.xlsx_peak_mb:.1f} MB",
              target=f"peak at {sizes[-1]:,} ≤ {FLAT_RATIO} × peak at {sizes[0]:,}", source="issue 11",
              note="tracemalloc peak; openpyxl's write-only rows go to a temporary file"),
    )  # fmt: skip
    section.tables.append(
        Table(
            "every size",
            ["payments", "lines", "build s", "CSV s", "CSV MB", "CSV peak MB", "XLSX s", "XLSX MB", "XLSX peak MB"],
            [
                [
                    f"{size:,}",
                    f"{m.lines:,}",
                    f"{m.build_s:.1f}",
                    f"{m.csv_s:.1f}",
                    f"{m.csv_mb:.1f}",
                    f"{m.csv_peak_mb:.1f}",
                    f"{m.xlsx_s:.1f}",
                    f"{m.xlsx_mb:.1f}",
                    f"{m.xlsx_peak_mb:.1f}",
                ]
                for size, m in measured.items()
            ],  # fmt: skip
        )
    )
    record(section)


if __name__ == "__main__":
    main()

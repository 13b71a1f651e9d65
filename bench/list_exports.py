"""How long does the Payments list take to download at 100,000 payments, and does the memory of a
download stay flat as rows grow?

Migrates the database named by DATABASE_URL (a throwaway SQLite file when unset), tops the bench
integration up to each size (bench/dashboard_pages.py's payments), then downloads the whole list
through the export view, as a browser would (the streamed CSV consumed chunk by chunk; the XLSX
built to a temporary file and read back in blocks): timed without tracing, then again under
tracemalloc for the peak of Python allocations.

Memory is "flat with rows" when the peak at the largest size is at most 1.5 times the peak at the
smallest (rows x10). The figures go to bench/RESULTS.md with their targets (bench/report.py).

    .venv/bin/python bench/list_exports.py --database bench_exports   (as `make bench` runs it)
    .venv/bin/python bench/list_exports.py --sizes 5000 20000   (SQLite, a quicker look)
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from dashboard_pages import configure_environment, seed  # noqa: E402
from report import peak, timed  # noqa: E402

CSV_BAR_SECONDS = 10.0  # issue 11: "CSV under 10 s here" (said of the reconciliation; the same bar)
FLAT_RATIO = 1.5


@dataclass
class Measured:
    rows: int
    csv_s: float
    csv_mb: float
    csv_peak_mb: float
    xlsx_s: float
    xlsx_mb: float
    xlsx_peak_mb: float


def download(fmt: str) -> int:
    """The whole Payments list as `fmt`, through the view; returns the bytes received."""
    from django.contrib.auth.models import User
    from django.test import RequestFactory

    from syncapp.dashboard.views.exports import payments_export

    request = RequestFactory().get(f"/payments/download.{fmt}", {"integration": "bench"})
    request.user = User.objects.get(username="bench-admin")
    response = payments_export(request, fmt)
    received = sum(len(chunk) for chunk in response.streaming_content)
    response.close()
    return received


def measure(size: int) -> Measured:
    seed(size)
    csv_s, csv_bytes = timed(lambda: download("csv"))
    xlsx_s, xlsx_bytes = timed(lambda: download("xlsx"))
    measured = Measured(
        rows=size,
        csv_s=csv_s,
        csv_mb=csv_bytes / 1e6,
        csv_peak_mb=peak(lambda: download("csv")),
        xlsx_s=xlsx_s,
        xlsx_mb=xlsx_bytes / 1e6,
        xlsx_peak_mb=peak(lambda: download("xlsx")),
    )
    print(f"{size:,} payments: {measured}")
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
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from report import Section, Table, check, figure, record

    call_command("migrate", verbosity=0)
    if not User.objects.filter(username="bench-admin").exists():
        User.objects.create_superuser("bench-admin")
    sizes = sorted(options.sizes)
    measured = {size: measure(size) for size in sizes}
    small, large = measured[sizes[0]], measured[sizes[-1]]
    at = f"at {sizes[-1]:,} payments"
    section = Section("list-exports", f"Payments list downloads at {sizes[-1]:,} payments")
    section.add(
        figure(f"Payments CSV {at}", round(large.csv_s, 1), unit="s", at_most=CSV_BAR_SECONDS, source="issue 11",
               note=f"{large.csv_mb:.1f} MB through the view, streamed"),
        figure(f"Payments XLSX {at}", round(large.xlsx_s, 1), unit="s", at_most=60.0,
               note=f"write-only workbook spooled to disk, {large.xlsx_mb:.1f} MB"),
        check("Payments CSV memory flat with rows", large.csv_peak_mb <= FLAT_RATIO * max(small.csv_peak_mb, 1.0),
              value=f"{small.csv_peak_mb:.1f} MB -> {large.csv_peak_mb:.1f} MB",
              target=f"peak at {sizes[-1]:,} ≤ {FLAT_RATIO} × peak at {sizes[0]:,}", source="issue 11",
              note="tracemalloc peak of Python allocations during the whole download"),
        check("Payments XLSX memory flat with rows", large.xlsx_peak_mb <= FLAT_RATIO * max(small.xlsx_peak_mb, 1.0),
              value=f"{small.xlsx_peak_mb:.1f} MB -> {large.xlsx_peak_mb:.1f} MB",
              target=f"peak at {sizes[-1]:,} ≤ {FLAT_RATIO} × peak at {sizes[0]:,}", source="issue 11",
              note="tracemalloc peak; openpyxl's write-only rows and the zip go to temporary files"),
    )  # fmt: skip
    section.tables.append(
        Table(
            "every size",
            ["payments", "CSV s", "CSV MB", "CSV peak MB", "XLSX s", "XLSX MB", "XLSX peak MB"],
            [
                [
                    f"{size:,}",
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

"""A report, within a scope, as a file for accountants: CSV, or XLSX (openpyxl) with a Summary sheet
and a Details sheet. Both are written row by row from a database cursor, so memory does not grow
with the number of payments: the CSV is a generator of lines, the XLSX a write-only workbook
saved into a temporary file that is then streamed.

Details put what a person reads first (status, vendor, bill, commitment, date, amounts) and the ids
last; problems come before matched payments. The CSV is one header row and then data rows, so it
loads into a spreadsheet or pandas as is: the scope and the "as of" time are columns (and in the
file name), not a block above the table. The XLSX keeps them in the Summary sheet's header only.

Remote text (vendor names, invoice numbers, notes) is data, never a formula: in CSV a cell that a
spreadsheet would read as one (=, +, -, @, tab, CR) gets a leading apostrophe; in XLSX text cells are
written as strings whatever they start with. Procore ids are written as text: they can have 16
digits, more than a spreadsheet number keeps exactly.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any
from urllib.parse import quote

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from syncapp.core.exports import safe_text, xlsx_cell_maker
from syncapp.reconcile import selectors
from syncapp.reconcile.models import LineStatus, ReconciliationLine, ReconciliationReport
from syncapp.reconcile.selectors import LineFilters

DATETIME_FORMAT = "yyyy-mm-dd hh:mm"  # minutes: as of when the report was computed
CHUNK = 2000
EVERYTHING = LineFilters()  # no scope: every line of the report


@dataclass(frozen=True)
class Column:
    heading: str
    kind: str  # text | id | date | money | datetime
    value: Callable[[ReconciliationLine], Any]
    width: int


def _link_payment(line: ReconciliationLine) -> str:
    return f"{settings.SITE_URL}{reverse('payment', args=[line.payment_id])}" if line.payment_id else ""


def _link_xero(line: ReconciliationLine) -> str:
    if not line.xero_invoice_id:
        return ""
    return f"{settings.XERO_WEB_URL}/AccountsPayable/View.aspx?InvoiceID={quote(line.xero_invoice_id)}"


def _link_procore(line: ReconciliationLine) -> str:
    if not (line.procore_project_id and line.procore_commitment_id):
        return ""
    return f"{settings.PROCORE_WEB_URL}/{line.procore_project_id}/project/commitments/{line.procore_commitment_id}"


DETAIL_COLUMNS = [
    Column("Status", "text", lambda ln: ln.get_status_display(), 30),
    Column("Reason", "text", lambda ln: ln.get_reason_display() if ln.reason else "", 18),
    Column("Vendor", "text", lambda ln: ln.vendor, 30),
    Column("Bill number", "text", lambda ln: ln.invoice_number, 16),
    Column("Commitment", "text", lambda ln: ln.commitment, 16),
    Column("Project", "text", lambda ln: ln.project, 26),
    Column("Date", "date", lambda ln: ln.day, 12),
    Column("Currency", "text", lambda ln: ln.currency, 9),
    Column("Paid in Xero", "money", lambda ln: ln.xero_amount, 16),
    Column("Recorded in Procore", "money", lambda ln: ln.procore_amount, 18),
    Column("Difference (Xero - Procore)", "money", lambda ln: ln.difference, 18),
    Column("Xero date", "date", lambda ln: ln.xero_date, 12),
    Column("Procore date", "date", lambda ln: ln.procore_date, 12),
    Column("Bill total", "money", lambda ln: ln.bill_total, 16),
    Column("Note", "text", lambda ln: ln.note, 60),
    Column("Payment page", "text", _link_payment, 20),
    Column("Open in Xero", "text", _link_xero, 20),
    Column("Open in Procore", "text", _link_procore, 20),
    Column("Xero payment id", "text", lambda ln: ln.xero_payment_id, 38),
    Column("Procore payment id", "id", lambda ln: ln.procore_payment_id, 20),
    Column("Xero bill id", "text", lambda ln: ln.xero_invoice_id, 38),
    Column("Xero vendor id", "text", lambda ln: ln.vendor_id, 38),
    Column("Procore project id", "id", lambda ln: ln.procore_project_id, 18),
    Column("Procore commitment id", "id", lambda ln: ln.procore_commitment_id, 20),
]
SCOPE_HEADINGS = ["Scope", "Period from", "Period to", "As of", "Report"]


def as_of(report: ReconciliationReport) -> dt.datetime:
    """When the report was computed, in the site's time zone (naive: spreadsheets have no zones)."""
    moment = report.finished_at or report.created_at
    return timezone.localtime(moment).replace(tzinfo=None, microsecond=0)


def filename(report: ReconciliationReport, extension: str, filters: LineFilters = EVERYTHING) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", report.integration.name).strip("-") or "integration"
    stamp = as_of(report).strftime("%Y-%m-%dT%H%M")
    return f"reconciliation-{name}-{filters.scope.slug()}-as-of-{stamp}-{report.pk}.{extension}"


def _lines(report: ReconciliationReport, filters: LineFilters) -> Iterator[ReconciliationLine]:
    return selectors.report_lines(report=report, filters=filters).iterator(chunk_size=CHUNK)


def _scope_values(report: ReconciliationReport, filters: LineFilters) -> list[Any]:
    return [filters.scope.describe(), filters.date_from, filters.date_to, as_of(report), report.pk]


# --- CSV ---------------------------------------------------------------------------------------------


def _csv_cell(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "money":
        return f"{Decimal(value):.2f}"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if kind == "id" or isinstance(value, int):
        return str(value)
    return safe_text(str(value))


class _Echo:
    """A file that hands back what is written to it, so csv.writer makes one line at a time."""

    def write(self, value: str) -> str:
        return value


def iter_csv(report: ReconciliationReport, filters: LineFilters = EVERYTHING) -> Iterator[str]:
    """The CSV, line by line: one header row, then the lines, problems first."""
    writer = csv.writer(_Echo())
    yield writer.writerow([c.heading for c in DETAIL_COLUMNS] + SCOPE_HEADINGS)
    scope = [_csv_cell(v, "text") for v in _scope_values(report, filters)]
    for line in _lines(report, filters):
        yield writer.writerow([_csv_cell(c.value(line), c.kind) for c in DETAIL_COLUMNS] + scope)


def write_csv(report: ReconciliationReport, out: IO[str], filters: LineFilters = EVERYTHING) -> None:
    for chunk in iter_csv(report, filters):
        out.write(chunk)


# --- XLSX --------------------------------------------------------------------------------------------


def write_xlsx(report: ReconciliationReport, out: IO[bytes], filters: LineFilters = EVERYTHING) -> None:
    book = Workbook(write_only=True)  # rows go to a temporary file as they are appended
    _summary_sheet(book, report, filters)
    _details_sheet(book, report, filters)
    book.save(out)


def xlsx_file(report: ReconciliationReport, filters: LineFilters = EVERYTHING) -> IO[bytes]:
    """The workbook in a temporary file (on disk past a few MB), rewound, for streaming."""
    out = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)
    write_xlsx(report, out, filters)
    out.seek(0)
    return out


def _details_sheet(book, report: ReconciliationReport, filters: LineFilters) -> None:
    """One row per line. The scope and as-of time are in the Summary sheet's header, not repeated
    on every row as the CSV must."""
    sheet = book.create_sheet("Details")
    _widths(sheet, [c.width for c in DETAIL_COLUMNS])
    rows = selectors.report_lines(report=report, filters=filters).count()
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(DETAIL_COLUMNS))}{rows + 1}"
    cell = xlsx_cell_maker(sheet, datetime_format=DATETIME_FORMAT)
    sheet.append([cell(c.heading, "heading") for c in DETAIL_COLUMNS])
    for line in _lines(report, filters):  # a cell is written where it is appended: new ones each row
        sheet.append([cell(c.value(line), c.kind, line.currency) for c in DETAIL_COLUMNS])


def _summary_sheet(book, report: ReconciliationReport, filters: LineFilters) -> None:
    sheet = book.create_sheet("Summary")
    _widths(sheet, [34, 26, 12, 18, 18, 18, 12, 12] + [14] * len(LineStatus.values))
    cell = xlsx_cell_maker(sheet, datetime_format=DATETIME_FORMAT)
    for label, value, kind in _summary_header(report, filters):
        sheet.append([cell(label, "label"), cell(value if value is not None else "", kind)])
    sheet.append([])
    _currency_section(sheet, cell, report, filters)
    for by, title, first, second in (
        ("project", "By project", "name", ""),
        ("commitment", "By commitment", "name", "project"),
        ("vendor", "By vendor", "name", ""),
        ("bill", "Per bill", "name", "vendor"),
    ):
        _group_section(sheet, cell, report, filters, by=by, title=title, first=first, second=second)


def _summary_header(report: ReconciliationReport, filters: LineFilters) -> list[tuple[str, Any, str]]:
    """(label, value, kind) of what the report covers and who asked for it."""
    who = report.requested_by.get_username() if report.requested_by else f"the system ({report.get_trigger_display()})"
    return [
        ("Reconciliation report", f"#{report.pk}", "text"),
        ("Integration", report.integration.name, "text"),
        ("Xero organisation", report.organisation_name, "text"),
        ("Procore company", report.company_name, "text"),
        ("Scope", filters.scope.describe(), "text"),
        ("Period from", filters.date_from, "date"),
        ("Period to", filters.date_to, "date"),
        ("As of", as_of(report), "datetime"),
        ("Xero payments as of the sync of",
         timezone.localtime(report.xero_as_of).replace(tzinfo=None, microsecond=0) if report.xero_as_of else None,
         "datetime"),
        ("Requested by", who, "text"),
    ]  # fmt: skip


def _currency_section(sheet, cell, report: ReconciliationReport, filters: LineFilters) -> None:
    statuses = LineStatus.choices
    currencies = selectors.currency_totals(report=report, filters=filters)
    sheet.append([cell("Per currency (never summed across currencies)", "label")])
    sheet.append(
        [cell(h, "heading") for h in ("Currency", "", "", "Paid in Xero", "Recorded in Procore", "Difference")]
        + [cell("Payments", "heading"), cell("Problems", "heading")]
        + [cell(label, "heading") for _, label in statuses]
    )
    if not currencies:
        sheet.append([cell(f"No payment in this scope ({filters.scope.describe()}), on either side.", "text")])
    for row in currencies:
        sheet.append(_group_cells(cell, row, row["currency"], "", "", statuses))


def _group_section(
    sheet, cell, report: ReconciliationReport, filters: LineFilters, *, by: str, title: str, first: str, second: str
) -> None:
    """The totals by project, commitment, vendor or bill; a bill's row also has the bill's total."""
    statuses = LineStatus.choices
    sheet.append([])
    sheet.append([cell(title, "label")])
    third = "Bill total" if by == "bill" else ""
    sheet.append(
        [cell(h, "heading") for h in (title.split()[-1].title(), second.title(), third, "Paid in Xero",
                                      "Recorded in Procore", "Difference", "Payments", "Problems")]
        + [cell(label, "heading") for _, label in statuses]
    )  # fmt: skip
    for row in selectors.totals_by(report=report, filters=filters, by=by):
        extra = row.get("total") if by == "bill" else ""
        sheet.append(_group_cells(cell, row, row.get(first) or "(not matched yet)", row.get(second, ""), extra,
                                  statuses))  # fmt: skip


def _group_cells(cell, row: dict, first: str, second: str, third: Any, statuses) -> list:
    currency = row["currency"]
    return [
        cell(first, "text"),
        cell(second, "text"),
        cell(third, "money", currency) if third not in ("", None) else cell("", "text"),
        cell(row["xero"], "money", currency),
        cell(row["procore"], "money", currency),
        cell(row["difference"], "money", currency),
        cell(row["lines"], "int"),
        cell(row["problems"], "int"),
    ] + [cell(row["counts"].get(status, 0), "int") for status, _ in statuses]


def _widths(sheet, widths: list[int]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width

"""Lists as files people keep outside the tool: CSV and XLSX, streamed, one header row then rows.

Every export (payments, failure queue, audit log) declares its columns and hands over an iterator
of rows; this module writes them. Memory stays flat however many rows there are: CSV text is
yielded as it is written, and XLSX rows go through openpyxl's write-only worksheet (which keeps
them in a temporary file); the finished workbook is spooled to disk and sent in chunks.

Remote text (vendor names, invoice numbers, references, messages) is data, never a formula: in CSV
a cell that a spreadsheet would read as one (=, +, -, @, tab, CR) gets a leading apostrophe; in
XLSX text cells are written as strings whatever they start with. Procore ids are written as text:
they can have 16 digits, more than a spreadsheet number keeps exactly.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, BinaryIO

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

FORMATS = ("csv", "xlsx")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MONEY_FORMAT = "#,##0.00;-#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CHUNK = 64 * 1024  # characters gathered before a CSV chunk is sent
CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class Column:
    heading: str
    kind: str = "text"  # text | id | int | date | datetime | money
    width: int = 16  # XLSX column width, in characters


def safe_text(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def local_naive(value: dt.datetime) -> dt.datetime:
    """A stored (aware) time as the site's wall-clock time: spreadsheets know no timezones."""
    return timezone.localtime(value).replace(tzinfo=None, microsecond=0) if timezone.is_aware(value) else value


def file_stem(*parts: str, day: dt.date | None = None) -> str:
    """e.g. "payments-demo-builders-2026-12-01": what, which integration, which day."""
    words = [slugify(part) for part in parts]
    return "-".join([*[word for word in words if word], (day or timezone.localdate()).isoformat()])


# --- CSV ---------------------------------------------------------------------------------------------


def csv_cell(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "money":
        return f"{Decimal(value):.2f}"
    if kind == "datetime" and isinstance(value, dt.datetime):
        return local_naive(value).isoformat(sep=" ")
    if kind == "date" and isinstance(value, dt.date):
        return value.isoformat()
    if kind in ("id", "int"):
        return str(value)
    return safe_text(str(value))


def csv_chunks(columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """One header row, then the rows, as CSV text in chunks of about CSV_CHUNK characters."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column.heading for column in columns])
    kinds = [column.kind for column in columns]
    for row in rows:
        writer.writerow([csv_cell(value, kind) for value, kind in zip(row, kinds, strict=True)])
        if buffer.tell() >= CSV_CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# --- XLSX --------------------------------------------------------------------------------------------


def write_xlsx(columns: Sequence[Column], rows: Iterable[Sequence[Any]], out: BinaryIO, *, title: str) -> int:
    """A one-sheet workbook: bold frozen header row, autofilter over the table, real numbers and
    dates. Returns the number of rows written."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])  # Excel's limit on a sheet name
    sheet.freeze_panes = "A2"  # a write-only sheet takes views before its first row
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    cell = xlsx_cell_maker(sheet)
    sheet.append([cell(column.heading, "heading") for column in columns])
    kinds = [column.kind for column in columns]
    count = 0
    for row in rows:
        sheet.append([cell(value, kind) for value, kind in zip(row, kinds, strict=True)])
        count += 1
    # Written after the rows (the sheet's tail), so it can span them all.
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"
    book.save(out)
    return count


def money_format(currency: str = "") -> str:
    """#,##0.00, with the currency code after it when there is one ("1,234.50 AUD"): still a number
    to sum."""
    if not CURRENCY.match(currency or ""):
        return MONEY_FORMAT
    return f'#,##0.00 "{currency}";-#,##0.00 "{currency}"'


def xlsx_cell_maker(sheet, *, datetime_format: str = DATETIME_FORMAT):
    """cell(value, kind, currency="") for a write-only sheet: money as a number in the currency's
    format, dates and times as dates, text as a string (never a formula), headings and labels bold."""
    bold = Font(bold=True)
    formats: dict[str, str] = {}

    def cell(value: Any, kind: str, currency: str = ""):
        if value is None or value == "":
            return None
        if kind == "money":
            made = WriteOnlyCell(sheet, value=Decimal(value))
            made.number_format = formats.setdefault(currency, money_format(currency))
            return made
        if kind == "date" and isinstance(value, dt.date):
            made = WriteOnlyCell(sheet, value=value)
            made.number_format = DATE_FORMAT
            return made
        if kind == "datetime" and isinstance(value, dt.datetime):
            made = WriteOnlyCell(sheet, value=local_naive(value))
            made.number_format = datetime_format
            return made
        if kind == "int":
            return int(value)
        made = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", str(value)))
        made.data_type = "s"  # never a formula, whatever the text starts with
        if kind in ("heading", "label"):
            made.font = bold
        return made

    return cell


# --- Responses ---------------------------------------------------------------------------------------


def response(
    *, fmt: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]], stem: str, title: str
) -> StreamingHttpResponse:
    """The download of `rows` as `fmt` ("csv" or "xlsx"), named `stem` + extension.

    CSV is written while it is sent; XLSX (a zip, complete only at the end) is built into a temporary
    file first, then sent from disk in chunks."""
    if fmt == "csv":
        made = StreamingHttpResponse((chunk.encode() for chunk in csv_chunks(columns, rows)), content_type=CSV_TYPE)
        made["Content-Disposition"] = content_disposition_header(True, f"{stem}.csv")
        return made
    if fmt != "xlsx":
        raise ValueError(f"Unknown export format {fmt!r}")
    spool = tempfile.TemporaryFile()
    write_xlsx(columns, rows, spool, title=title)
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=f"{stem}.xlsx", content_type=XLSX_TYPE)

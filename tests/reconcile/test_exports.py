"""The downloadable files: CSV read back with the csv module, XLSX opened with openpyxl (cells,
number formats with the currency, dates as dates, frozen header, filter), the two giving the same
rows, the scope in columns and file name, and remote text that never becomes a formula."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from openpyxl.utils import get_column_letter

from syncapp.connections.models import Integration
from syncapp.reconcile import export
from syncapp.reconcile.selectors import LineFilters
from tests.reconcile.conftest import line, make_report

pytestmark = pytest.mark.django_db
EVERYTHING = LineFilters()

FORMULA = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture
def report():
    integration = Integration.objects.create(name="demo")
    user = User.objects.create_user(username="fin-finance")
    lines = [
        line("matched", 1),
        line(
            "amount_differs",
            2,
            procore_amount=Decimal("900.00"),
            difference=Decimal("102.50"),
            note="Xero 1,002.50, Procore 900.00.",
        ),
        line(
            "by_hand",
            3,
            xero_payment_id="",
            xero_amount=None,
            xero_date=None,
            vendor=FORMULA,
            difference=Decimal("-1003.50"),
            counts_in_xero=False,
        ),  # fmt: skip
        line(
            "not_sent",
            4,
            procore_payment_id=None,
            procore_amount=None,
            procore_date=None,
            vendor="-Minus Pty",
            difference=Decimal("1004.50"),
            note="Blocked: vendor not linked",
        ),  # fmt: skip
    ]
    return make_report(integration, lines=lines, user=user, xero_as_of=dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC))


USD_LINE = {"currency": "USD", "vendor": "Yankee Steel", "vendor_id": "contact-usd"}


@pytest.fixture
def mixed(report):
    """The report's lines plus one in USD (matched) and one in a later month."""
    from syncapp.reconcile.models import ReconciliationLine

    extra = [
        line("matched", 5, **USD_LINE, xero_amount=Decimal("50.00"), procore_amount=Decimal("50.00")),
        line("amount_differs", 6, **USD_LINE, xero_amount=Decimal("70.00"), procore_amount=Decimal("60.00"),
             difference=Decimal("10.00"), xero_date=dt.date(2026, 12, 1), procore_date=dt.date(2026, 12, 1)),
    ]  # fmt: skip
    for made in extra:
        ReconciliationLine.objects.create(
            report=report, day=made.day, **{k: v for k, v in vars(made).items() if k != "counts_in_xero"}
        )
    return report


def csv_rows(report, filters=EVERYTHING) -> list[dict[str, str]]:
    text = "".join(export.iter_csv(report, filters))
    return list(csv.DictReader(io.StringIO(text)))


def details(report, filters=EVERYTHING):
    from openpyxl import load_workbook

    out = io.BytesIO()
    export.write_xlsx(report, out, filters)
    book = load_workbook(out)
    return book


def test_the_csv_is_one_header_row_then_the_lines_problems_first_with_scope_and_as_of_in_columns(report):
    text = "".join(export.iter_csv(report, LineFilters(date_from=dt.date(2026, 10, 1), date_to=dt.date(2026, 10, 31))))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [c.heading for c in export.DETAIL_COLUMNS] + export.SCOPE_HEADINGS
    body = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [r["Status"] for r in body] == ["Amount differs", "Not sent yet", "Entered by hand in Procore", "Matched"]
    assert rows[0][:7] == ["Status", "Reason", "Vendor", "Bill number", "Commitment", "Project", "Date"]
    assert rows[0][-5:] == ["Scope", "Period from", "Period to", "As of", "Report"]
    differs = body[0]
    assert Decimal(differs["Paid in Xero"]) == Decimal("1002.50")  # a plain number: no thousands separator
    assert Decimal(differs["Recorded in Procore"]) == Decimal("900.00")
    assert Decimal(differs["Difference (Xero - Procore)"]) == Decimal("102.50")
    assert dt.date.fromisoformat(differs["Date"]) == dt.date(2026, 10, 3)
    assert differs["Procore payment id"] == str(2**52 + 2)  # every digit kept
    assert differs["Period from"] == "2026-10-01" and differs["Period to"] == "2026-10-31"
    assert differs["Scope"] == "paid 2026-10-01 to 2026-10-31" and differs["Report"] == str(report.pk)
    dt.datetime.fromisoformat(differs["As of"])
    by_hand = body[2]
    assert by_hand["Vendor"] == "'" + FORMULA  # a spreadsheet shows it as text, never runs it
    assert by_hand["Paid in Xero"] == "" and Decimal(by_hand["Difference (Xero - Procore)"]) == Decimal("-1003.50")
    assert body[1]["Vendor"] == "'-Minus Pty"


def test_the_xlsx_has_a_summary_with_scope_and_as_of_and_details_with_formats_filter_and_frozen_header(mixed):
    scope = LineFilters(date_from=dt.date(2026, 10, 1), date_to=dt.date(2026, 10, 31))
    book = details(mixed, scope)
    assert book.sheetnames == ["Summary", "Details"]
    summary = book["Summary"]
    header = {row[0].value: row[1].value for row in summary.iter_rows(max_row=10)}
    assert header["Integration"] == "demo" and header["Scope"] == "paid 2026-10-01 to 2026-10-31"
    assert header["Period from"] == dt.datetime(2026, 10, 1) and isinstance(header["As of"], dt.datetime)
    assert header["Requested by"] == "fin-finance"
    rows = [[c.value for c in row] for row in summary.iter_rows()]
    at = rows.index(["Per currency (never summed across currencies)"] + [None] * (len(rows[0]) - 1))
    currencies = {r[0]: r for r in rows[at + 2 : at + 4]}
    # In October: AUD 1001.50 + 1002.50 + 1004.50 paid (by hand does not count); USD 50 matched.
    assert currencies["AUD"][3:6] == [pytest.approx(3008.50), pytest.approx(1001.50 + 900 + 1003.50),
                                      pytest.approx(3008.50 - 2905.00)]  # fmt: skip
    assert currencies["USD"][3:6] == [pytest.approx(50.0), pytest.approx(50.0), pytest.approx(0.0)]

    sheet = book["Details"]
    assert sheet.freeze_panes == "A2"
    width = len(export.DETAIL_COLUMNS)
    assert sheet.auto_filter.ref == f"A1:{get_column_letter(width)}6"
    headings = [c.value for c in sheet[1]]
    col = {name: headings.index(name) for name in headings}
    body = list(sheet.iter_rows(min_row=2))
    assert [r[0].value for r in body] == ["Amount differs", "Not sent yet", "Entered by hand in Procore", "Matched",
                                          "Matched"]  # fmt: skip
    amount = body[0][col["Paid in Xero"]]
    assert amount.value == pytest.approx(1002.50) and amount.data_type == "n"
    assert amount.number_format == '#,##0.00 "AUD";-#,##0.00 "AUD"'
    usd = next(r for r in body if r[col["Currency"]].value == "USD")
    assert usd[col["Paid in Xero"]].number_format == '#,##0.00 "USD";-#,##0.00 "USD"'
    day = body[0][col["Date"]]
    assert isinstance(day.value, dt.datetime) and day.value.date() == dt.date(2026, 10, 3)
    assert day.number_format == "yyyy-mm-dd"
    assert body[0][col["Procore payment id"]].value == str(2**52 + 2)
    vendor = body[2][col["Vendor"]]
    assert vendor.value == FORMULA and vendor.data_type == "s"  # text, not a formula
    assert sheet.column_dimensions["C"].width == 30


def test_csv_and_xlsx_parse_back_to_the_same_rows(mixed):
    from_csv = csv_rows(mixed)
    sheet = details(mixed)["Details"]
    headings = [c.value for c in sheet[1]]
    money = {c.heading for c in export.DETAIL_COLUMNS if c.kind == "money"}
    dates = {c.heading for c in export.DETAIL_COLUMNS if c.kind == "date"} | {"Period from", "Period to"}

    def text(heading, value):
        if value is None:
            return ""
        if heading in money:
            return f"{Decimal(str(value)):.2f}"
        if heading in dates:
            return value.date().isoformat()
        return export.safe_text(str(value))

    from_xlsx = [
        {h: text(h, c.value) for h, c in zip(headings, row, strict=True)} for row in sheet.iter_rows(min_row=2)
    ]
    # The same rows and cells; the CSV adds the scope columns the XLSX has in its Summary sheet.
    assert headings == [c.heading for c in export.DETAIL_COLUMNS]
    assert len(from_csv) == 6 and from_xlsx == [{h: row[h] for h in headings} for row in from_csv]
    assert {(row["Scope"], row["Report"]) for row in from_csv} == {("every date", str(mixed.pk))}


def test_a_scope_with_no_payment_says_so(report):
    empty = LineFilters(date_from=dt.date(2030, 1, 1), date_to=dt.date(2030, 1, 31))
    assert csv_rows(report, empty) == []
    rows = [[c.value for c in row] for row in details(report, empty)["Summary"].iter_rows()]
    assert any(r[0] == "No payment in this scope (paid 2030-01-01 to 2030-01-31), on either side." for r in rows)


def test_the_file_name_says_which_integration_scope_and_as_of(report):
    name = export.filename(report, "xlsx", LineFilters(date_from=dt.date(2026, 11, 1), date_to=dt.date(2026, 11, 30),
                                                       project=5, vendor="ab/../c d"))  # fmt: skip
    stamp = export.as_of(report).strftime("%Y-%m-%dT%H%M")
    assert name == f"reconciliation-demo-2026-11-01_to_2026-11-30-project-5-vendor-abcd-as-of-{stamp}-{report.pk}.xlsx"
    assert export.filename(report, "csv").startswith("reconciliation-demo-start_to_now-as-of-")

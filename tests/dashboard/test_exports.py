"""Downloads of the Payments list and the failure queue: each file, parsed back with csv and
openpyxl, holds the rows the page shows under the same filters, readable columns first and ids
last; formula-looking text stays text; only who may see the page may download it; every download
is in the audit log."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from syncapp.connections.models import Integration
from syncapp.core import exports
from syncapp.core.models import AuditEntry
from syncapp.sync.models import Payment, PaymentState
from tests.dashboard.conftest import World, make_payment

FORMULA = '=HYPERLINK("http://evil.example","click")'
HEADINGS = ["Vendor", "Bill number", "Date", "Amount", "Currency", "State", "Reason"]


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def csv_rows(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(body(response).decode())))


def xlsx_sheet(response):
    assert response["Content-Type"] == exports.XLSX_TYPE
    return openpyxl.load_workbook(io.BytesIO(body(response))).active


def page_ids(client, url: str, params: dict) -> list[int]:
    response = client.get(url, params)
    assert response.status_code == 200
    return [p.pk for p in response.context["payments"]]


@pytest.fixture
def many(world: World) -> World:
    """More payments, in two currencies, one vendor named like a formula."""
    for n in range(10, 34):
        make_payment(
            world.integration,
            n,
            state=PaymentState.FAILED if n % 3 == 0 else PaymentState.SENT,
            reason_code="procore_refused" if n % 3 == 0 else "",
            message="Procore refused the payment (422)." if n % 3 == 0 else "",
            currency_code="USD" if n % 2 else "AUD",
        )
    make_payment(world.integration, 41, vendor_name=FORMULA, reference="+61 400 000 000", state=PaymentState.SENT)
    return world


# --- Payments list ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"state": "failed"},
        {"vendor": "Vendor 3", "sort": "amount"},
        {"date_from": (timezone.localdate() - dt.timedelta(days=5)).isoformat(), "amount_min": "120"},
    ],
)
def test_the_payments_csv_holds_the_rows_the_list_shows_under_the_same_filters(finance_client, many, params):
    shown = page_ids(finance_client, reverse("payments"), params)
    rows = csv_rows(finance_client.get(reverse("payments-export", args=["csv"]), params))
    header, data = rows[0], rows[1:]
    assert header[:7] == HEADINGS and header[-1] == "Payment id"
    assert [int(row[-1]) for row in data] == shown
    assert shown  # every filter above selects something


def test_the_payments_xlsx_holds_the_same_rows_with_real_numbers_and_dates(finance_client, many):
    params = {"state": "sent", "sort": "-amount"}
    shown = page_ids(finance_client, reverse("payments"), params)
    sheet = xlsx_sheet(finance_client.get(reverse("payments-export", args=["xlsx"]), params))
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0][:7]) == HEADINGS
    assert [row[-1] for row in rows[1:]] == shown
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(rows[0]))}{len(rows)}"
    first = Payment.objects.get(pk=shown[0])
    vendor, number, date, amount, currency, state = rows[1][:6]
    assert (vendor, number, currency, state) == (first.vendor_name, first.invoice_number, first.currency_code, "Sent")
    assert date == dt.datetime.combine(first.date, dt.time.min)  # a real date cell (openpyxl reads datetimes)
    assert isinstance(amount, int | float) and Decimal(str(amount)) == first.amount  # a number, not text
    assert sheet.cell(row=2, column=4).number_format == exports.MONEY_FORMAT
    assert all(isinstance(row[-2], str | None) for row in rows[1:])  # Procore ids stay exact, as text


def test_formula_looking_text_stays_text_in_both_files(finance_client, many):
    params = {"q": "INV-00041"}
    [row] = csv_rows(finance_client.get(reverse("payments-export", args=["csv"]), params))[1:]
    assert row[0] == "'" + FORMULA and "'+61 400 000 000" in row
    sheet = xlsx_sheet(finance_client.get(reverse("payments-export", args=["xlsx"]), params))
    cell = sheet.cell(row=2, column=1)
    assert cell.value == FORMULA and cell.data_type == "s"


def test_a_download_is_named_after_the_list_the_integration_and_the_day(finance_client, many):
    response = finance_client.get(reverse("payments-export", args=["xlsx"]))
    day = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="payments-demo-{day}.xlsx"'
    response = finance_client.get(reverse("failures-export", args=["csv"]))
    assert response.status_code == 403


def test_an_unknown_format_is_not_found(finance_client, many):
    assert finance_client.get("/payments/download.pdf").status_code == 404


def test_someone_without_a_role_cannot_download_payments(client, roleless_user, many):
    client.force_login(roleless_user)
    assert client.get(reverse("payments-export", args=["csv"])).status_code == 403
    assert not AuditEntry.objects.filter(action="payments.downloaded").exists()


def test_a_payments_download_is_in_the_audit_log_with_its_filters_and_row_count(finance_client, finance_user, many):
    params = {"state": "failed", "vendor": "Vendor 3"}
    rows = csv_rows(finance_client.get(reverse("payments-export", args=["csv"]), params))
    entry = AuditEntry.objects.get(action="payments.downloaded")
    assert entry.actor == finance_user and entry.integration == many.integration
    assert entry.details == {"format": "csv", "rows": len(rows) - 1, "filters": params}
    assert "payments list as CSV" in entry.summary and "state: failed" in entry.summary


def test_the_payments_page_offers_the_downloads_with_its_filters(finance_client, many):
    html = finance_client.get(reverse("payments"), {"state": "failed", "page": "1"}).content.decode()
    assert 'href="/payments/download.csv?state=failed"' in html
    assert 'href="/payments/download.xlsx?state=failed"' in html


def test_with_two_integrations_a_download_holds_the_chosen_one_only(finance_client, many):
    second = Integration.objects.create(name="second")
    only = make_payment(second, 777, vendor_name="Only In Second")
    html = finance_client.get(reverse("payments"), {"integration": "second"}).content.decode()
    assert 'href="/payments/download.csv?integration=second"' in html
    rows = csv_rows(finance_client.get(reverse("payments-export", args=["csv"]), {"integration": "second"}))
    assert [int(row[-1]) for row in rows[1:]] == [only.pk]
    assert AuditEntry.objects.get(action="payments.downloaded").integration == second


# --- Failure queue ------------------------------------------------------------------------------------


def test_finance_cannot_download_the_failure_queue(finance_client, many):
    for fmt in exports.FORMATS:
        assert finance_client.get(reverse("failures-export", args=[fmt])).status_code == 403
    assert not AuditEntry.objects.filter(action="failures.downloaded").exists()


def test_the_failure_queue_files_hold_every_row_of_every_group_in_the_page_order(admin_client, admin_user, many):
    page = admin_client.get(reverse("failures"))
    shown = [p.pk for group in page.context["groups"] for p in group.payments]
    assert all(len(group.payments) == group.count for group in page.context["groups"])  # all on the page
    rows = csv_rows(admin_client.get(reverse("failures-export", args=["csv"])))
    assert rows[0][:7] == HEADINGS and rows[0][7:9] == ["Fix", "Last error"]
    assert [int(row[-1]) for row in rows[1:]] == shown
    failed = next(row for row in rows[1:] if int(row[-1]) == many.failed.pk)
    assert failed[5:9] == ["Failed", many.failed.message, "", many.failed.last_error]
    sheet = xlsx_sheet(admin_client.get(reverse("failures-export", args=["xlsx"])))
    assert [row[-1] for row in sheet.iter_rows(min_row=2, values_only=True)] == shown
    entries = AuditEntry.objects.filter(action="failures.downloaded", actor=admin_user)
    assert sorted(e.details["format"] for e in entries) == ["csv", "xlsx"]
    assert {e.details["rows"] for e in entries} == {len(shown)}


def test_the_failure_queue_offers_the_downloads(admin_client, many):
    html = admin_client.get(reverse("failures")).content.decode()
    assert 'href="/failures/download.csv"' in html and 'href="/failures/download.xlsx"' in html


# --- The module ---------------------------------------------------------------------------------------


def test_csv_is_sent_while_rows_are_still_being_read():
    read = []

    def rows():
        for n in range(20_000):
            read.append(n)
            yield [f"Vendor {n}", Decimal("1.00")]

    chunks = exports.csv_chunks([exports.Column("Vendor"), exports.Column("Amount", "money")], rows())
    first = next(chunks)
    assert first.startswith("Vendor,Amount\r\n") and len(read) < 20_000
    assert len(first) + sum(len(chunk) for chunk in chunks) > exports.CSV_CHUNK * 3 and len(read) == 20_000


def _peak_bytes(write, rows: int) -> int:
    import tracemalloc

    def generated():
        for n in range(rows):
            yield [f"Vendor {n}", dt.date(2026, 1, 1) + dt.timedelta(days=n % 365), Decimal(n) / 100]

    tracemalloc.start()
    try:
        write(generated())
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("fmt,small,large", [("csv", 20_000, 100_000), ("xlsx", 1_000, 10_000)])
def test_memory_stays_flat_as_rows_grow(fmt, small, large):
    """Python's peak allocation while writing: no bigger at many rows than at few (CSV is measured
    beyond one CSV_CHUNK; XLSX goes to a file on disk, as the view spools it)."""
    import tempfile

    columns = [exports.Column("Vendor"), exports.Column("Date", "date"), exports.Column("Amount", "money")]

    def write(rows):
        if fmt == "csv":
            for _ in exports.csv_chunks(columns, rows):
                pass
        else:
            with tempfile.TemporaryFile() as out:
                exports.write_xlsx(columns, rows, out, title="T")

    few, many = _peak_bytes(write, small), _peak_bytes(write, large)
    assert many < few * 1.5, (few, many)

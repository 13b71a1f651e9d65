"""Month end in a real browser, as Finance: a report exists; pick a period with the date fields,
see the summary of that period, follow a count to the rows behind it, and download the period as
CSV (the file's name carries the period). Screenshot: reconciliation-month-end."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from syncapp.reconcile.reports import execute_report, start_report
from syncapp.sandbox.procore.models import ContractPayment
from syncapp.sync.models import Payment, PaymentState
from tests.browser.conftest import log_in, shoot
from tests.sync.conftest import fast_retries, world  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_finance_reconciles_a_period_and_downloads_it(page, finance_user, world):  # noqa: F811
    assert world.run().state == "succeeded"
    sent = Payment.objects.filter(integration=world.integration, state=PaymentState.SENT).order_by("date")
    first, last = sent.first().date, sent.last().date
    edited = sent.last()
    ContractPayment.objects.filter(origin_id=edited.xero_payment_id).update(amount=edited.amount + 10)
    report, _ = start_report(integration=world.integration)
    execute_report(report.pk)

    log_in(page, finance_user.username)
    page.goto("/reconciliation/")
    page.get_by_label("Paid in Xero from").fill(first.isoformat())
    page.get_by_label("to", exact=True).fill(last.isoformat())
    page.get_by_role("button", name="Apply").click()
    scope = f"Scope: paid {first.isoformat()} to {last.isoformat()}"
    expect(page.get_by_role("heading", name=scope)).to_be_visible()
    expect(page.get_by_role("img", name="Paid in Xero and recorded in Procore, per project")).to_be_visible()
    shoot(page, "reconciliation-month-end")

    summary = page.get_by_role("region", name="Summary")
    summary.get_by_role("link", name="1 Amount differs").click()
    expect(page.get_by_text("1 line matches the filters")).to_be_visible()
    expect(page.locator("#lines")).to_contain_text(edited.invoice_number)

    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    name = download.value.suggested_filename
    assert f"{first.isoformat()}_to_{last.isoformat()}" in name
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert [row["Status"] for row in rows] == ["Amount differs"]

"""The reconciliation page in a real browser, as Finance: after a sync and two changes made by hand in
Procore, click Reconcile now, watch the progress until the report replaces it (htmx, no reload),
filter by a status tile, and keep a screenshot of the page for people to look at."""

from __future__ import annotations

import datetime as dt
import re
import threading
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from syncapp.reconcile.models import ReconciliationReport
from syncapp.reconcile.reports import execute_report
from syncapp.sandbox.procore.models import ContractPayment
from tests.browser.conftest import log_in, shoot
from tests.sync.conftest import fast_retries, world  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_finance_reconciles_and_sees_what_differs(page, finance_user, world):  # noqa: F811
    assert world.run().state == "succeeded"
    full = world.summary.cases["full"]
    ContractPayment.objects.filter(origin_id=full[0]).delete()
    kept = ContractPayment.objects.get(origin_id=full[1])
    ContractPayment.objects.create(
        project=kept.project, commitment=kept.commitment, date=dt.date(2026, 11, 2), amount=Decimal("250.00")
    )

    log_in(page, finance_user.username)
    page.get_by_role("link", name="Reconciliation").click()
    expect(page.get_by_role("heading", name="Reconciliation", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Reconciliation")).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("No reconciliation yet")).to_be_visible()
    shoot(page, "reconciliation-empty")

    page.get_by_role("button", name="Reconcile now").click()
    report = ReconciliationReport.objects.get()
    expect(page.get_by_role("progressbar")).to_be_visible()
    worker = threading.Thread(target=execute_report, args=(report.pk,), daemon=True)
    worker.start()  # what the worker would do (tests run no qcluster)
    # The progress box is polled until the report is done, then the report takes its place.
    expect(page.get_by_text(f"Report #{report.pk}")).to_be_visible(timeout=60_000)
    worker.join(timeout=60)
    expect(page.get_by_role("progressbar")).to_have_count(0)
    summary = page.get_by_role("region", name="Summary")
    expect(summary.get_by_role("link", name=re.compile(r"Missing in Procore\s+1"))).to_be_visible()
    expect(page.get_by_role("button", name="Reconcile now")).to_be_enabled()
    shoot(page, "reconciliation")
    shoot(page, "reconciliation-top", full_page=False)

    summary.get_by_role("link", name=re.compile(r"^Entered by hand in Procore")).click()  # the tile
    expect(page.get_by_text(re.compile(r"\d+ lines? match(es)? the filters"))).to_be_visible()
    expect(page.locator("td", has_text="250.00").first).to_be_visible()

"""In a real browser: an Admin ticks "select all" on the Payments list, picks Retry and applies it;
every failed payment of the page is retried and the page says how many (static JS, no inline script)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from syncapp.connections.models import Integration
from syncapp.sync.models import Payment, PaymentState
from tests.browser.conftest import log_in, shoot
from tests.dashboard.conftest import make_payment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_select_all_then_retry_retries_every_failed_payment_on_the_page(page, admin_user):
    integration = Integration.objects.create(name="demo")
    failed = [
        make_payment(integration, n, state=PaymentState.FAILED, reason_code="procore_refused") for n in range(1, 4)
    ]
    log_in(page, admin_user.username)
    page.goto("/payments/?state=failed")

    select_all = page.get_by_label("Select all on this page")
    expect(select_all).to_be_visible()  # shown by app.js; hidden without JavaScript
    select_all.check()
    for payment in failed:
        expect(page.get_by_label(f"Select payment {payment.invoice_number}")).to_be_checked()
    page.get_by_label("With the selected payments").first.select_option("retry")
    page.get_by_role("button", name="Apply to selected").first.click()

    expect(page.get_by_text("3 retried")).to_be_visible()
    shoot(page, "payments-bulk-retried")
    assert set(Payment.objects.values_list("state", flat=True)) == {PaymentState.NEW}

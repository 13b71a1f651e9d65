"""The bill picker in a real browser: a bill's picker offers its vendor's commitments, typing a
number narrows it through htmx (no reload, no inline script under the CSP), linking shows the
commitment's number and title and moves the bill out of "needs attention"."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from syncapp.dashboard import procore_catalog
from syncapp.sync.models import BillLink, PaymentState, VendorLink, XeroBillRecord, XeroContactRecord
from tests.browser.conftest import log_in, shoot
from tests.dashboard.conftest import make_payment, make_world
from tests.dashboard.test_mapping_pickers import ACME, CHOICES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_search_a_bills_commitment_by_number_and_link_it(page, admin_user, sandbox):
    integration = make_world().integration
    XeroContactRecord.objects.create(integration=integration, contact_id="c-acme", name="Acme Pty Ltd")
    VendorLink.objects.create(
        integration=integration, xero_contact_id="c-acme", procore_vendor_id=ACME, vendor_name="Acme", how="manual"
    )
    XeroBillRecord.objects.create(integration=integration, invoice_id="inv-acme", invoice_number="INV-ACME")
    make_payment(
        integration,
        50,
        xero_invoice_id="inv-acme",
        invoice_number="INV-ACME",
        xero_contact_id="c-acme",
        vendor_name="Acme Pty Ltd",
        project_name="Riverside",
        state=PaymentState.BLOCKED,
        reason_code="invoice_not_found",
        message="No subcontractor invoice matches bill INV-ACME.",
    )
    # Procore's list as the catalog keeps it for a minute (the live server shares this process's cache).
    cache.set(procore_catalog._key(integration, "commitments"), CHOICES, 600)
    try:
        log_in(page, admin_user.username)
        page.goto("/mappings/bills/")
        picker = page.get_by_label("Commitment for bill INV-ACME")
        expect(picker.locator("option[value='6:80:']")).to_have_count(1)
        expect(picker.locator("option[value='6:81:']")).to_have_count(0)  # another vendor's: searched for only
        shoot(page, "bill-picker")
        page.set_viewport_size({"width": 390, "height": 844})
        shoot(page, "bill-picker-phone")
        page.set_viewport_size({"width": 1366, "height": 900})

        page.get_by_label("Search commitments by number for bill INV-ACME").fill("081")
        expect(picker.locator("option[value='6:81:']")).to_have_count(1)
        expect(picker.locator("option[value='6:80:']")).to_have_count(0)
        assert page.url.endswith("/mappings/bills/")  # htmx swapped the options, no reload
        picker.select_option("6:81:")
        shoot(page, "bill-picker-searched")

        page.get_by_role("button", name="Link").click()
        expect(page.get_by_text("Bill linked to SC-081 Glazing")).to_be_visible()
        linked = page.locator("section", has=page.get_by_role("heading", name="Linked, waiting for the next run"))
        expect(linked).to_contain_text("INV-ACME")
        expect(linked).to_contain_text("SC-081 Glazing")
        expect(page.get_by_text("Every bill has its commitment")).to_be_visible()
        shoot(page, "bill-picker-linked")
        assert BillLink.objects.get(xero_invoice_id="inv-acme").procore_commitment_id == 81
    finally:
        procore_catalog.forget(integration)

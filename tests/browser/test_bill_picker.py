"""The bill picker in a real browser: a bill's picker offers its vendor's commitments, typing a
number narrows it through htmx (no reload, no inline script under the CSP), linking shows the
commitment's number and title and moves the bill out of "needs attention"."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from syncapp.dashboard import procore_catalog
from syncapp.sync.models import BillLink
from tests.browser.conftest import log_in, shoot
from tests.dashboard.conftest import make_world
from tests.dashboard.test_mapping_pickers import plant_acme_bill

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_search_a_bills_commitment_by_number_and_link_it(page, admin_user, sandbox):
    integration = make_world().integration
    plant_acme_bill(integration)  # the live server shares this process's cache
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

"""In a real browser: an Admin finds the email alerts from Settings and turns the daily Finance
summary on for one integration (a plain form post, CSRF token and all)."""

from __future__ import annotations

import pytest

from syncapp.alerts.models import AlertSettings
from syncapp.connections.models import Integration
from tests.alerts.conftest import person
from tests.browser.conftest import log_in, shoot

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_admin_turns_the_finance_summary_on_from_the_settings_page(page):
    from syncapp.core.roles import ADMIN

    person("ada", ADMIN, email="ada@example.com")
    Integration.objects.create(name="northwind", label="Northwind AU")
    log_in(page, "ada")
    page.goto("/settings/")
    page.get_by_role("link", name="Email alerts").click()
    page.wait_for_url("**/alerts/settings/")
    assert page.get_by_text("Sent to: ada@example.com").is_visible()
    row = page.get_by_role("row", name="Northwind AU")
    assert row.get_by_role("cell", name="Off", exact=True).is_visible()
    row.get_by_role("button", name="Turn on").click()
    page.get_by_text("Daily summary for Finance on for Northwind AU.").wait_for()
    assert page.get_by_role("row", name="Northwind AU").get_by_role("cell", name="On", exact=True).is_visible()
    assert AlertSettings.objects.get().finance_summary is True
    shoot(page, "alerts-settings")

"""Several companies in a real browser: an Admin adds an integration and renames it, the switcher
on every page changes what Home and Payments show and the choice sticks from page to page, and
removing one asks for its short name. Screenshots at 1440 px go to artifacts/screenshots/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from syncapp.connections.models import Connection, ConnectionStatus, Integration
from syncapp.sync.models import PaymentState
from tests.browser.conftest import log_in, shoot
from tests.dashboard.conftest import make_payment, make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDE = {"width": 1440, "height": 900}


def two_integrations() -> Integration:
    make_world()  # "demo": a sent, a blocked and a failed payment
    Integration.objects.filter(name="demo").update(label="Demo Builders")
    second = Integration.objects.create(name="southbank", label="Southbank Builders")
    for provider, name in (("xero", "Southbank Builders Ltd"), ("procore", "Southbank Builders")):
        Connection.objects.create(
            integration=second, provider=provider, status=ConnectionStatus.CONNECTED, tenant_id="t-2", tenant_name=name
        )
    for n in range(700, 705):
        make_payment(second, n, vendor_name="Harbour Glass", state=PaymentState.SENT)
    return second


def test_an_admin_adds_an_integration_then_renames_it(page, admin_user):
    make_world()
    page.set_viewport_size(WIDE)
    log_in(page, admin_user.username)

    expect(page.locator("#integration-current")).to_have_text("demo")  # one integration: its name, no menu
    page.get_by_role("link", name="Manage integrations").click()
    page.get_by_label("Name", exact=True).fill("Southbank Builders (NZ)")
    shoot(page, "integrations-add")
    page.get_by_role("button", name="Add integration").click()

    page.wait_for_url("**/connections/?integration=southbank-builders-nz")
    expect(page.get_by_role("heading", name="Southbank Builders (NZ)")).to_be_visible()
    expect(page.get_by_role("button", name="Connect Xero")).to_be_visible()
    expect(page.get_by_label("Integration")).to_have_value("southbank-builders-nz")
    shoot(page, "integrations-connect-new")

    page.get_by_role("link", name="Manage integrations").click()
    row = page.locator("tr", has=page.get_by_role("button", name="Rename")).filter(
        has=page.locator("input[value='southbank-builders-nz']")
    )
    row.get_by_label(re.compile("^Name of")).fill("Southbank NZ")
    row.get_by_role("button", name="Rename").click()

    expect(page.get_by_role("status")).to_contain_text("Saved: “Southbank NZ” (southbank-builders-nz)")
    expect(page.get_by_label("Integration").locator("option:checked")).to_have_text("Southbank NZ")
    shoot(page, "integrations-list")
    assert Integration.objects.get(name="southbank-builders-nz").label == "Southbank NZ"


def test_the_switcher_changes_what_home_and_payments_show_and_the_choice_sticks(page, finance_user):
    two_integrations()
    page.set_viewport_size(WIDE)
    log_in(page, finance_user.username)

    page.goto("/payments/")
    expect(page.get_by_label("Integration")).to_have_value("demo")
    expect(page.get_by_role("cell", name="Vendor 1").first).to_be_visible()
    page.get_by_label("Integration").select_option(label="Southbank Builders")

    page.wait_for_url("**/payments/?integration=southbank")
    expect(page.get_by_role("cell", name="Harbour Glass").first).to_be_visible()
    expect(page.get_by_role("cell", name="Vendor 1")).to_have_count(0)
    shoot(page, "switcher-payments")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    page.wait_for_url("**/?integration=southbank")
    sent = page.locator(".stat", has_text="Sent")
    expect(sent.locator(".value")).to_have_text("5")
    shoot(page, "switcher-home")

    page.goto("/runs/")  # no integration in the URL: the session remembers the choice
    expect(page.get_by_label("Integration")).to_have_value("southbank")
    page.goto("/payments/")
    expect(page.get_by_role("cell", name="Harbour Glass").first).to_be_visible()

    page.get_by_label("Integration").select_option(label="Demo Builders")
    page.wait_for_url("**/payments/?integration=demo")
    page.goto("/")
    expect(page.locator(".stat", has_text="Sent").locator(".value")).to_have_text("1")


def test_removing_an_integration_needs_its_short_name_typed(page, admin_user):
    second = two_integrations()
    Connection.objects.filter(integration=second).update(access_token_encrypted="")
    page.set_viewport_size(WIDE)
    log_in(page, admin_user.username)

    page.goto("/integrations/")
    page.locator(f"#integration-{second.pk}").get_by_role("link", name="Remove").click()
    page.get_by_label("Type southbank to confirm").fill("Southbank Builders")
    page.get_by_role("button", name="Remove integration").click()
    expect(page.get_by_role("alert")).to_contain_text("Type southbank exactly")
    shoot(page, "integrations-remove")

    page.get_by_label("Type southbank to confirm").fill("southbank")
    page.get_by_role("button", name="Remove integration").click()

    page.wait_for_url("**/integrations/")
    expect(page.get_by_role("status")).to_contain_text("Removed “Southbank Builders”")
    expect(page.locator("#integration-current")).to_have_text("Demo Builders")
    assert list(Integration.objects.values_list("name", flat=True)) == ["demo"]


def test_a_second_integration_is_connected_to_the_second_company_from_its_connections_page(page, admin_user, sandbox):
    from syncapp.connections.services import connect_headless
    from syncapp.sandbox.seed import (
        COMPANY_ID,
        ORGANISATION_TENANT_ID,
        SECOND_COMPANY_ID,
        SECOND_TENANT_ID,
        register_oauth_clients,
        seed_second_company,
        seed_world,
    )

    seed_world(payments=40, seed=3, reset=True)
    seed_second_company(payments=40, seed=4)
    register_oauth_clients(site_url=sandbox)
    north = Integration.objects.create(name="northwind", label="Northwind")
    connect_headless(integration=north, provider="xero")
    connect_headless(integration=north, provider="procore", company_id=str(COMPANY_ID))
    page.set_viewport_size(WIDE)
    log_in(page, admin_user.username)

    page.goto("/integrations/")
    page.get_by_label("Name", exact=True).fill("Southbank")
    page.get_by_role("button", name="Add integration").click()
    page.wait_for_url("**/connections/?integration=southbank")

    page.get_by_role("button", name="Connect Xero").click()
    page.get_by_role("checkbox", name=re.compile("Northwind")).uncheck()  # grant only the second organisation
    page.get_by_role("button", name="Allow access").click()
    page.wait_for_url(re.compile(r"/connections/"))
    if "/choose/" in page.url:
        page.get_by_label("Southbank Builders Ltd").check()
        page.get_by_role("button", name="Use this organisation").click()
    page.get_by_role("button", name="Connect Procore").click()
    page.get_by_role("button", name="Allow access").click()
    page.wait_for_url(re.compile(r"/connections/\d+/choose/"))  # the sandbox user is in both companies
    page.get_by_label("Southbank Builders", exact=True).check()
    page.get_by_role("button", name="Use this company").click()

    page.wait_for_url("**/connections/?integration=southbank")
    expect(page.get_by_label("Integration")).to_have_value("southbank")
    expect(page.get_by_role("cell", name="Southbank Builders Ltd")).to_be_visible()
    expect(page.get_by_role("cell", name="Southbank Builders", exact=True)).to_be_visible()
    shoot(page, "integrations-second-connected")
    south = {c.provider: c.tenant_id for c in Connection.objects.filter(integration__name="southbank")}
    assert south == {"xero": str(SECOND_TENANT_ID), "procore": str(SECOND_COMPANY_ID)}
    northwind = {c.provider: c.tenant_id for c in Connection.objects.filter(integration=north)}
    assert northwind == {"xero": str(ORGANISATION_TENANT_ID), "procore": str(COMPANY_ID)}

"""The journeys people click, in a real browser against the sandbox over HTTP: connect Xero and
Procore through their consent pages, Get All Payments and watch the bar reach the end, fix a
blocked payment's vendor in Mappings and see it sent on the next run, retry a failed payment."""

from __future__ import annotations

import re
import threading

import pytest
from playwright.sync_api import expect

from syncapp.sandbox.seed import seed_world
from syncapp.sync.models import Payment, PaymentState, SyncRun
from syncapp.sync.runs import execute_run
from tests.browser.conftest import log_in, shoot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def connect_both(page) -> None:
    page.goto("/connections/")
    page.get_by_role("button", name="Connect Xero").click()
    page.get_by_role("button", name="Allow access").click()
    page.wait_for_url(re.compile(r"/connections/"))
    page.goto("/connections/")
    page.get_by_role("button", name=re.compile(r"^Connect Procore")).click()
    page.get_by_role("button", name="Allow access").click()
    page.wait_for_url(re.compile(r"/connections/"))
    # A login that sees several organisations or companies picks one.
    for word in ("organisation", "company"):
        page.goto("/connections/")
        choose = page.get_by_role("link", name=f"Choose {word}")
        if choose.count():
            choose.first.click()
            page.get_by_role("button", name=re.compile(r"^Use this")).first.click()


def run_in_background(run_id: int) -> threading.Thread:
    """Do the queued run as the worker would, while the browser watches (tests run no qcluster)."""
    thread = threading.Thread(target=execute_run, args=(run_id,), daemon=True)
    thread.start()
    return thread


def click_get_all_payments_and_watch(page) -> SyncRun:
    page.goto("/")
    page.get_by_role("button", name="Get All Payments").click()
    run = SyncRun.objects.order_by("-id").first()
    assert run is not None and run.state == "queued"
    bar = page.get_by_role("progressbar")
    expect(bar).to_be_visible()
    worker = run_in_background(run.pk)
    # The bar is polled by htmx (no reload) until the run ends, then shows 100% and the outcome.
    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=60_000)
    expect(page.get_by_text(re.compile(r"^Finished:"))).to_be_visible()
    # The end of the run brings the button back (no reload), ready for the next run.
    expect(page.get_by_role("button", name="Get All Payments")).to_be_enabled()
    worker.join(timeout=60)
    run.refresh_from_db()
    assert run.state == "succeeded", run.error
    return run


def test_connect_sync_fix_a_vendor_and_retry(page, admin_user, sandbox):
    summary = seed_world(payments=40, seed=3)
    log_in(page, admin_user.username)

    # 1. Connect both services through their consent pages.
    page.goto("/")
    expect(page.get_by_role("button", name="Get All Payments")).to_be_disabled()
    connect_both(page)
    page.goto("/")
    expect(page.get_by_role("button", name="Get All Payments")).to_be_enabled()
    shoot(page, "home-connected")

    # 2. Get All Payments; the progress bar reaches the end; the counts follow.
    run = click_get_all_payments_and_watch(page)
    assert run.counts.get("sent", 0) > 0
    sent_tile = page.locator("#state-tiles a.stat.ok .value")
    assert sent_tile.inner_text().replace(",", "") == str(Payment.objects.filter(state="sent").count())
    shoot(page, "home-after-run")
    page.goto(f"/runs/{run.pk}/")
    expect(page.locator("#log-body")).to_contain_text("Run finished")
    shoot(page, "run")

    # 3. A payment blocked because its contact's name only resembles a vendor's: open it, follow
    #    the fix to Mappings, confirm the suggestion.
    contact_id = summary.cases["name_mismatch"][0]
    blocked = Payment.objects.filter(xero_contact_id=contact_id, state=PaymentState.BLOCKED).first()
    assert blocked is not None, "a name-only match must wait for an Admin"
    page.goto(f"/payments/{blocked.pk}/")
    shoot(page, "payment-blocked")
    page.get_by_role("link", name="Link the vendor in Mappings").click()
    focus = page.locator("tr.focus")
    expect(focus).to_be_visible()
    shoot(page, "mappings-focus")
    focus.get_by_role("button", name=re.compile(r"^Confirm ")).click()
    expect(page.get_by_text(re.compile(r"^Confirmed: "))).to_be_visible()

    #    And a supplier Procore has never heard of: create the vendor there from the Xero contact.
    stranger = summary.cases["no_vendor"][0]
    page.goto(f"/mappings/?contact={stranger}")
    page.locator("tr.focus").get_by_role("button", name=re.compile(r"^Create .* in Procore")).click()
    expect(page.get_by_text(re.compile(r"Created vendor .* in Procore and linked it"))).to_be_visible()

    # 4. Run again: the confirmed vendor's payment is sent; the new vendor's payments get past the
    #    vendor step (they now wait for a commitment, which a new vendor does not have yet).
    click_get_all_payments_and_watch(page)
    blocked.refresh_from_db()
    assert blocked.state == PaymentState.SENT and blocked.procore_payment_id, (blocked.reason_code, blocked.message)
    page.goto(f"/payments/{blocked.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sent")
    shoot(page, "payment-sent")
    reasons = set(Payment.objects.filter(xero_contact_id=stranger).values_list("reason_code", flat=True))
    assert "vendor_not_linked" not in reasons and reasons

    # 5. A failed payment: retry it from the failure queue, run again, it is sent.
    failing = Payment.objects.filter(state=PaymentState.SENT).exclude(pk=blocked.pk).first()
    # Procore forgot it and the last try failed (as after a 422 that a person since fixed there).
    Payment.objects.filter(pk=failing.pk).update(
        state=PaymentState.FAILED,
        reason_code="procore_refused",
        message="Procore refused the payment (422).",
        procore_payment_id=None,
    )
    page.goto("/failures/")
    shoot(page, "failures-with-one")
    row = page.get_by_role("row").filter(has_text=failing.invoice_number or failing.vendor_name)
    row.get_by_role("button", name=re.compile(r"^Retry payment")).click()
    expect(page.get_by_text(re.compile(r"Queued again"))).to_be_visible()
    failing.refresh_from_db()
    assert failing.state == PaymentState.NEW
    click_get_all_payments_and_watch(page)
    failing.refresh_from_db()
    assert failing.state == PaymentState.SENT

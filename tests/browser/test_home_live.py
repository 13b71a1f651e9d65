"""Home follows a real run while it works (in Chromium, against the sandbox over HTTP, the run done
in a thread as the worker would): the card says what the run does, the counts, chart and last runs
fill in before the run ends, and polling stops at the end. A run that fails on Procore's 5xx
answers ends as "Stopped", not 100%, and Procore's card warns."""

from __future__ import annotations

import re
import threading

import pytest
from playwright.sync_api import expect

from syncapp.connections.models import Integration
from syncapp.connections.services import connect_headless
from syncapp.sandbox.models import Behaviour
from syncapp.sandbox.seed import register_oauth_clients, seed_world
from syncapp.sync.models import SyncRun
from syncapp.sync.runs import execute_run
from tests.browser.conftest import log_in, shoot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def connected(sandbox, settings) -> Integration:
    settings.SYNC_RETRY_BASE_SECONDS = 0.01
    seed_world(payments=40, seed=3, reset=True)
    register_oauth_clients(site_url=sandbox)
    Behaviour.set("xero", minute_limit=10_000, day_limit=100_000)
    Behaviour.set("procore", hourly_limit=100_000, spike_limit=10_000)
    integration = Integration.objects.create(name="demo")
    for provider in ("xero", "procore"):
        connect_headless(integration=integration, provider=provider)
    return integration


def start_from_home(page) -> tuple[SyncRun, threading.Thread]:
    page.goto("/")
    page.get_by_role("button", name="Get All Payments").click()
    run = SyncRun.objects.order_by("-id").first()
    assert run is not None and run.state == "queued"
    expect(page.locator(".run-step")).to_have_text(re.compile(r"^Queued: waiting for a worker"))
    expect(page.locator(".messages")).to_have_count(0)  # no "queued" notice to outlive the run
    worker = threading.Thread(target=execute_run, args=(run.pk,), daemon=True)
    worker.start()
    return run, worker


def test_home_fills_in_while_a_run_sends_and_stops_polling_when_it_ends(page, admin_user, connected):
    # Each Procore answer takes a little while, so the run sends for several polls.
    Behaviour.set("procore", latency_ms=120)
    log_in(page, admin_user.username)
    run, worker = start_from_home(page)

    # Mid-run: the card says "Sending to Procore…" while the Sent tile already counts payments
    # and the run's row in Last runs says Running (all from the same poll, no reload).
    page.wait_for_function(
        """() => {
            const step = document.querySelector('.run-step');
            const sent = document.querySelector('#state-tiles a.stat.ok .value');
            const row = document.querySelector('#recent-runs tbody tr');
            return step && step.textContent.startsWith('Sending to Procore')
                && sent && parseInt(sent.textContent.replace(/,/g, ''), 10) > 0
                && row && row.textContent.includes('Running');
        }""",
        timeout=60_000,
    )
    expect(page.get_by_role("img", name=re.compile("^Payments per day"))).to_be_visible()  # the chart draws
    expect(page.get_by_text("No payments yet")).to_have_count(0)
    bar = page.get_by_role("progressbar")
    assert 0 <= int(bar.get_attribute("aria-valuenow")) < 100
    shoot(page, "home-live-mid-run")

    # The end: 100%, the outcomes, the button back, and the card no longer polls.
    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=90_000)
    expect(page.get_by_text(re.compile(r"^Finished:"))).to_be_visible()
    expect(page.get_by_role("button", name="Get All Payments")).to_be_enabled()
    expect(page.locator(f"#run-progress-{run.pk}")).not_to_have_attribute("hx-get", re.compile("."))
    expect(page.locator("#recent-runs tbody tr").first).to_contain_text("Finished")
    worker.join(timeout=60)
    run.refresh_from_db()
    assert run.state == "succeeded", run.error
    sent = page.locator("#state-tiles a.stat.ok .value").inner_text()
    assert int(sent.replace(",", "")) >= run.counts.get("sent", 0) > 0
    expect(page.locator("#connection-cards")).to_contain_text("last successful call")
    shoot(page, "home-live-finished")


def test_a_run_failing_on_procore_server_errors_ends_stopped_and_procore_warns(
    page, admin_user, connected, server_errors_are
):
    server_errors_are(500)  # a 503 would pause the run instead
    Behaviour.set("procore", error_rate=1.0)  # every Procore answer is a 500
    log_in(page, admin_user.username)
    run, worker = start_from_home(page)
    step = page.locator(".run-step")
    expect(step).to_have_text(re.compile(r"^Stopped while "), timeout=90_000)
    worker.join(timeout=60)
    run.refresh_from_db()
    assert run.state == "failed"
    bar = page.get_by_role("progressbar")
    assert bar.get_attribute("aria-valuenow") != "100"
    expect(page.locator(".run-progress .progress-meta")).not_to_contain_text("100%")
    expect(page.locator(".run-progress .progress-meta")).to_contain_text("Stopped:")
    procore_card = page.locator("#connection-cards .card").nth(1)
    expect(procore_card).to_contain_text("Connected, recent errors")
    expect(procore_card).to_contain_text("Procore")
    shoot(page, "home-live-failed-run")
    Behaviour.set("procore", error_rate=0)

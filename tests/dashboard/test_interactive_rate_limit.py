"""No web request sleeps on a Procore rate limit: with the limit spent, the Mappings pickers, vendor
creation and the connection test answer at once, "Procore's rate limit is spent until HH:MM" (the
site's local time of X-Rate-Limit-Reset), against the sandbox over HTTP."""

from __future__ import annotations

import datetime as dt
import html
import threading
import time

import pytest
from django.utils import timezone

from syncapp.connections.models import Connection, ConnectionStatus, Integration
from syncapp.dashboard import procore_catalog
from syncapp.sandbox.models import Behaviour
from syncapp.sandbox.procore import ratelimit
from syncapp.sandbox.seed import register_oauth_clients, seed_world
from syncapp.sync.clients import procore_client
from syncapp.sync.models import VendorLink
from tests.sync.conftest import World, connect, fast_retries  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)

# "At once" is "without sleeping" (counted below); the wall-clock bound only catches a storm of
# calls, and stays far from the 10-second spike window or the minute a run would wait.
FAR_UNDER_ANY_WAIT = 5.0


@pytest.fixture
def synced(sandbox, settings, fast_retries) -> World:  # noqa: F811
    """The seeded sandbox after one sync: contacts to link, bills to pick a commitment for."""
    settings.TIME_ZONE = "Australia/Sydney"  # the site's local time is not UTC
    summary = seed_world(payments=60, seed=7, reset=True)
    register_oauth_clients(site_url=sandbox)
    Behaviour.set("xero", minute_limit=10_000, day_limit=100_000)
    Behaviour.set("procore", hourly_limit=100_000, spike_limit=10_000)
    integration = Integration.objects.create(name="northwind")
    connect(integration)
    world = World(url=sandbox, integration=integration, summary=summary)
    assert world.run().state == "succeeded"
    return world


def procore_connection(world: World) -> Connection:
    return Connection.objects.get(integration=world.integration, provider="procore")


def warm_up(client, admin_user) -> None:
    """Log in and draw the pages once, so that the timings below measure the answer, not the first
    compile of the templates."""
    client.force_login(admin_user)
    for url in ("/mappings/?show=all", "/mappings/bills/", "/connections/"):
        assert client.get(url).status_code == 200


def spend_the_hour(world: World) -> str:
    """Leave Procore's hourly window at zero; returns the HH:MM the product should name."""
    ratelimit.reset_rate_limits()
    Behaviour.set("procore", hourly_limit=1)
    procore_catalog.forget(world.integration)
    with procore_client(procore_connection(world)) as client:
        client.projects()
    [reset] = ratelimit.hour_resets().values()
    until = timezone.localtime(dt.datetime.fromtimestamp(reset, tz=dt.UTC))
    if until.second:
        until = until.replace(second=0) + dt.timedelta(minutes=1)
    return f"Procore's rate limit is spent until {until:%H:%M}"


@pytest.fixture
def timed(monkeypatch):
    """timed(call) -> (response, seconds, the sleeps the request's own thread made). The web
    request's clients are built during the call, so they take the watched `time.sleep`."""
    real_sleep = time.sleep

    def run(call):
        me = threading.get_ident()
        slept: list[float] = []

        def watched_sleep(seconds: float) -> None:
            if threading.get_ident() == me:
                slept.append(seconds)
            real_sleep(seconds)

        monkeypatch.setattr(time, "sleep", watched_sleep)
        started = time.monotonic()
        try:
            response = call()
        finally:
            monkeypatch.setattr(time, "sleep", real_sleep)
        return response, time.monotonic() - started, slept

    return run


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def test_the_mappings_pickers_answer_at_once_when_the_hour_is_spent(synced, client, admin_user, timed):
    warm_up(client, admin_user)
    said = spend_the_hour(synced)

    vendors, vendors_took, vendors_slept = timed(lambda: client.get("/mappings/?show=all"))
    bills, bills_took, bills_slept = timed(lambda: client.get("/mappings/bills/"))

    assert vendors.status_code == bills.status_code == 200
    assert said in page_text(vendors) and said in page_text(bills)
    assert vendors_slept == bills_slept == []
    assert vendors_took < FAR_UNDER_ANY_WAIT and bills_took < FAR_UNDER_ANY_WAIT


def test_creating_a_vendor_answers_at_once_and_creates_nothing_when_the_hour_is_spent(
    synced, client, admin_user, timed
):
    unlinked = VendorLink.objects.filter(integration=synced.integration).values_list("xero_contact_id", flat=True)
    from syncapp.sync.models import XeroContactRecord

    contact = XeroContactRecord.objects.filter(integration=synced.integration).exclude(contact_id__in=unlinked).first()
    assert contact is not None
    warm_up(client, admin_user)
    said = spend_the_hour(synced)

    response, took, slept = timed(
        lambda: client.post("/mappings/vendors/create/", {"contact_id": contact.contact_id}, follow=True)
    )

    assert slept == [] and took < FAR_UNDER_ANY_WAIT
    assert f"Procore did not create the vendor: {said}" in page_text(response)
    assert not VendorLink.objects.filter(integration=synced.integration, xero_contact_id=contact.contact_id).exists()


def test_the_connection_test_answers_at_once_and_leaves_the_connection_healthy(synced, client, admin_user, timed):
    warm_up(client, admin_user)
    said = spend_the_hour(synced)
    connection = procore_connection(synced)

    response, took, slept = timed(lambda: client.post(f"/connections/{connection.pk}/test/", follow=True))

    assert slept == [] and took < FAR_UNDER_ANY_WAIT
    assert said in page_text(response)
    connection.refresh_from_db()
    # A spent limit is not a broken connection: nothing recorded against it.
    assert connection.status == ConnectionStatus.CONNECTED and connection.last_error == ""


def test_a_picker_does_not_wait_out_the_spike_window_either(synced, client, admin_user, timed):
    """Ten seconds of Procore's spike window would be ten seconds of a spinning page."""
    warm_up(client, admin_user)
    ratelimit.reset_rate_limits()
    Behaviour.set("procore", spike_limit=3, spike_window_seconds=10)
    procore_catalog.forget(synced.integration)

    response, took, slept = timed(lambda: client.get("/mappings/bills/"))

    assert slept == [] and took < FAR_UNDER_ANY_WAIT
    assert "Procore's rate limit is spent until" in page_text(response)

"""A connection's health follows the calls its clients make: last success, last error, written
cheaply (the first call at once, then at most one UPDATE per HEALTH_WRITE_EVERY, the rest on close),
and the Home card warns after recent errors."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from syncapp.connections.health import ConnectionHealth, record_error
from syncapp.connections.models import Connection, ConnectionStatus, Integration

pytestmark = pytest.mark.django_db


@pytest.fixture
def procore() -> Connection:
    integration = Integration.objects.create(name="demo")
    Connection.objects.create(
        integration=integration, provider="xero", status=ConnectionStatus.CONNECTED, tenant_id="t", tenant_name="Org"
    )
    return Connection.objects.create(
        integration=integration, provider="procore", status=ConnectionStatus.CONNECTED, tenant_id="42", tenant_name="Co"
    )


def test_the_first_call_is_written_at_once_and_the_next_ones_at_most_once_per_interval(
    procore, django_assert_num_queries
):
    health = ConnectionHealth(procore, every=3600)
    with django_assert_num_queries(1):
        health.ok()
    procore.refresh_from_db()
    first = procore.last_success_at
    assert first is not None
    with django_assert_num_queries(0):
        for _ in range(300):
            health.ok()
        health.failed("Procore did not answer GET /projects after 4 tries (HTTP 502).")
    with django_assert_num_queries(1):
        health.flush()  # the client closes: the newest success and the error, in one UPDATE
    procore.refresh_from_db()
    assert procore.last_success_at > first
    assert procore.last_error == "Procore did not answer GET /projects after 4 tries (HTTP 502)."
    assert procore.last_error_at >= procore.last_success_at


def test_a_call_due_after_the_interval_writes_again(procore):
    health = ConnectionHealth(procore, every=0)
    health.ok()
    health.failed("Procore is overloaded (GET /vendors).")
    procore.refresh_from_db()
    assert procore.last_error == "Procore is overloaded (GET /vendors)."


def test_an_error_longer_than_the_column_is_kept_cut_to_it(procore):
    """An API can send an error page as its message; the column keeps its first 1000 characters."""
    ConnectionHealth(procore, every=0).failed("Procore answered 502: " + "<html>" * 500)
    procore.refresh_from_db()
    assert len(procore.last_error) == 1000 and procore.last_error.startswith("Procore answered 502: <html>")

    record_error(procore, message="Xero answered 503: " + "x" * 2000)
    procore.refresh_from_db()
    assert len(procore.last_error) == 1000 and procore.last_error.startswith("Xero answered 503: x")


def test_the_status_and_tokens_are_never_touched(procore):
    Connection.objects.filter(pk=procore.pk).update(status=ConnectionStatus.NEEDS_RECONNECT, status_reason="refused")
    ConnectionHealth(procore).ok()
    procore.refresh_from_db()
    assert procore.status == ConnectionStatus.NEEDS_RECONNECT and procore.status_reason == "refused"


# --- the card ------------------------------------------------------------------------------------


def home(client) -> str:
    return client.get(reverse("home")).content.decode()


def procore_card(html: str) -> str:
    return html.split('class="conn-logo procore"', 1)[1].split('class="conn-logo', 1)[0]


def test_the_card_says_when_the_last_call_worked(finance_client, procore):
    ConnectionHealth(procore).ok()
    card = procore_card(home(finance_client))
    assert "last successful call" in card and "Connected" in card and "recent errors" not in card


def test_the_card_warns_after_a_recent_error_even_if_calls_work_again(finance_client, procore):
    now = timezone.now()
    Connection.objects.filter(pk=procore.pk).update(
        last_error="Procore did not answer POST /payments after 4 tries (HTTP 502).",
        last_error_at=now - dt.timedelta(minutes=5),
        last_success_at=now,
    )
    card = procore_card(home(finance_client))
    assert "Connected, recent errors" in card and "HTTP 502" in card and "badge warn" in card


def test_the_card_warns_while_no_call_has_worked_since_the_error(finance_client, procore):
    now = timezone.now()
    Connection.objects.filter(pk=procore.pk).update(
        last_error="Procore is overloaded.",
        last_error_at=now - dt.timedelta(days=2),
        last_success_at=now - dt.timedelta(days=3),
    )
    assert "Connected, recent errors" in procore_card(home(finance_client))


def test_an_old_error_followed_by_working_calls_leaves_the_card_plain_connected(finance_client, procore):
    now = timezone.now()
    Connection.objects.filter(pk=procore.pk).update(
        last_error="Procore is overloaded.", last_error_at=now - dt.timedelta(hours=3), last_success_at=now
    )
    card = procore_card(home(finance_client))
    assert "recent errors" not in card and "Procore is overloaded." not in card and "Connected" in card

"""Every call a run makes moves its connection's health (against the sandbox over HTTP): a run of
successful calls sets "last successful call", a run stopped by Procore's 5xx answers leaves
Procore's last error and a warning on the Home card."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from syncapp.connections.models import Connection
from syncapp.sandbox.models import Behaviour
from syncapp.sync.models import RunState

pytestmark = pytest.mark.django_db(transaction=True)


def connection(world, provider: str) -> Connection:
    return Connection.objects.get(integration=world.integration, provider=provider)


def test_a_run_of_successful_calls_records_each_connections_last_success(world):
    Connection.objects.filter(integration=world.integration).update(last_success_at=None, last_error="")
    run = world.run()
    assert run.state == RunState.SUCCEEDED and run.api_calls_procore > 0
    for provider in ("xero", "procore"):
        row = connection(world, provider)
        assert row.last_success_at is not None and row.last_success_at >= run.started_at, provider
        assert row.last_error == ""


@pytest.mark.parametrize(
    ("status", "run_ends"),
    [(500, RunState.FAILED), (503, RunState.PAUSED)],  # a 503 says "come back later": the run waits
)
def test_a_run_stopped_by_procore_server_errors_leaves_the_error_and_a_warning(
    world, finance_user, server_errors_are, status, run_ends
):
    server_errors_are(status)
    Behaviour.set("procore", error_rate=1.0)  # every Procore answer is that error
    try:
        run = world.run()
    finally:
        Behaviour.set("procore", error_rate=0)
    procore = connection(world, "procore")
    assert run.state == run_ends
    assert procore.last_error_at is not None and procore.last_error_at >= run.started_at
    assert "Procore" in procore.last_error
    assert connection(world, "xero").last_error == ""  # Xero answered every call

    client = Client()
    client.force_login(finance_user)
    html = client.get(reverse("home")).content.decode()
    card = html.split('class="conn-logo procore"', 1)[1]
    assert "Connected, recent errors" in card and procore.last_error[:40] in card

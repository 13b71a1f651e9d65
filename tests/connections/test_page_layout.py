"""The Connections page speaks to who reads it: an Admin is shown the button to connect (not told
that "an Admin must"), anyone else is told an Admin must; each service's actions sit under the
table, and times read like every other date on the site."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import timezone

from syncapp.connections.models import Connection, ConnectionStatus, Integration


def _procore_missing() -> Integration:
    integration = Integration.objects.create(name="demo")
    Connection.objects.create(
        integration=integration,
        provider="xero",
        status=ConnectionStatus.CONNECTED,
        tenant_id="org-1",
        tenant_name="Demo Builders Pty Ltd",
        last_success_at=timezone.make_aware(dt.datetime(2026, 12, 1, 14, 5), dt.UTC),
    )
    return integration


def test_an_admin_is_told_to_connect_procore_and_given_the_button(admin_client):
    _procore_missing()
    page = admin_client.get("/connections/").content.decode()
    assert "Procore is not connected: connect it on the Connections page." in page
    assert "an Admin must" not in page
    assert "Connect Procore</button>" in page and "Test Xero connection</button>" in page


def test_a_finance_user_is_told_an_admin_must_connect_it_and_has_no_buttons(finance_user):
    _procore_missing()
    finance = Client()
    finance.force_login(finance_user)
    page = finance.get("/connections/").content.decode()
    assert "Procore is not connected: an Admin must connect it on the Connections page." in page
    assert "Connect Procore</button>" not in page and 'class="conn-actions"' not in page


def test_times_use_the_sites_one_date_format(admin_client, settings):
    settings.TIME_ZONE = "UTC"
    _procore_missing()
    page = admin_client.get("/connections/").content.decode()
    assert "1 Dec 2026, 14:05" in page
    assert "2026-12-01" not in page

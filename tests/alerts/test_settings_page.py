"""The alerts page: Admins only (checked on the server), CSRF-protected, one switch per integration."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from syncapp.alerts.models import AlertSettings
from syncapp.connections.models import Integration
from syncapp.core.models import AuditEntry

URL = "/alerts/settings/"


@pytest.fixture
def integrations(db) -> list[Integration]:
    return [Integration.objects.create(name="northwind"), Integration.objects.create(name="southwind")]


def test_the_page_is_at_its_named_url():
    assert reverse("alert-settings") == URL


def test_it_requires_admin(finance_user, roleless_user, integrations):
    response = Client().get(URL)
    assert response.status_code == 302 and response.url.startswith("/login/")
    for user in (finance_user, roleless_user):
        client = Client()
        client.force_login(user)
        assert client.get(URL).status_code == 403


def test_it_refuses_a_change_from_finance_on_the_server(finance_client, integrations):
    response = finance_client.post(URL, {"integration": "northwind", "finance_summary": "on"})
    assert response.status_code == 403
    assert not AlertSettings.objects.exists()


def test_an_admin_sees_each_integration_off_and_who_gets_the_alerts(admin_client, admin_user, integrations):
    admin_user.email = "ada@example.com"
    admin_user.save()
    page = admin_client.get(URL).content.decode()
    assert "northwind" in page and "southwind" in page
    assert page.count("Turn on") == 2
    assert "ada@example.com" in page


def test_it_says_when_the_daily_summary_goes_out_and_that_a_quiet_day_sends_none(admin_client, integrations, settings):
    from syncapp.sync.models import SyncSettings

    settings.TIME_ZONE = "UTC"
    SyncSettings.objects.create(integration=integrations[1], schedule_timezone="Pacific/Auckland")
    page = admin_client.get(URL).content.decode()
    assert "Daily summary for Finance" in page and "Run summary" not in page
    assert "<td>07:00 UTC</td>" in page and "<td>07:00 Pacific/Auckland</td>" in page
    quiet = "A day with nothing recorded in Procore, nothing newly blocked or failed and no failed run sends no mail."
    assert quiet in page


def test_it_warns_when_no_admin_has_an_address(admin_client, integrations):
    page = admin_client.get(URL).content.decode()
    assert "No active Admin has an email address" in page


def test_an_admin_turns_the_finance_summary_on_and_off_for_one_integration(admin_client, admin_user, integrations):
    response = admin_client.post(URL, {"integration": "northwind", "finance_summary": "on"})
    assert response.status_code == 302 and response.url == URL
    assert list(AlertSettings.objects.values_list("integration__name", "finance_summary")) == [("northwind", True)]
    page = admin_client.get(URL).content.decode()
    assert page.count("Turn on") == 1 and page.count("Turn off") == 1
    assert "Daily summary for Finance on for northwind." in page

    admin_client.post(URL, {"integration": "northwind"})
    assert AlertSettings.objects.get().finance_summary is False
    assert list(AuditEntry.objects.filter(action="alerts.finance_summary").values_list("actor", flat=True)) == [
        admin_user.pk,
        admin_user.pk,
    ]


def test_a_change_without_the_csrf_token_is_refused(admin_user, integrations):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post(URL, {"integration": "northwind", "finance_summary": "on"})
    assert response.status_code == 403
    assert not AlertSettings.objects.exists()


def test_an_unknown_integration_is_not_found(admin_client, integrations):
    assert admin_client.post(URL, {"integration": "nowhere", "finance_summary": "on"}).status_code == 404
    assert not AlertSettings.objects.exists()


def test_the_settings_page_links_admins_to_it(admin_client, finance_user, integrations):
    assert f'href="{URL}"' in admin_client.get("/settings/").content.decode()
    client = Client()
    client.force_login(finance_user)
    assert f'href="{URL}"' not in client.get("/settings/").content.decode()

"""Settings: everyone with a role sees the field mapping in force; only Admins change the
defaults, and each change is in the audit log and used by the next run."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from syncapp.connections.models import Integration
from syncapp.core.models import AuditEntry
from syncapp.sync.models import SyncSettings
from tests.dashboard.conftest import described_by_missing

pytestmark = pytest.mark.django_db


@pytest.fixture
def integration() -> Integration:
    return Integration.objects.create(name="northwind")


def test_it_requires_a_login(client, integration):
    response = client.get(reverse("settings"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_finance_sees_the_mapping_in_force_but_no_form(finance_client, integration):
    response = finance_client.get(reverse("settings"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Field mapping in force" in html and "check_number" in html
    assert "Electronic" in html and "Save settings" not in html


def test_finance_cannot_change_settings(finance_client, integration):
    response = finance_client.post(reverse("settings"), {"integration": "northwind", "payment_method": "check"})
    assert response.status_code == 403
    assert not SyncSettings.objects.exists()


def test_an_admin_changes_the_defaults_and_it_is_audited(admin_client, admin_user, integration):
    response = admin_client.post(
        reverse("settings"), {"integration": "northwind", "payment_method": "check", "start_date": "2026-07-01"}
    )
    assert response.status_code == 302
    saved = SyncSettings.objects.get(integration=integration)
    assert saved.payment_method == "check" and saved.start_date == dt.date(2026, 7, 1)
    entry = AuditEntry.objects.get(action="settings.changed")
    assert entry.actor == admin_user and entry.integration == integration
    assert "payment method from electronic to check" in entry.summary


def test_saving_unchanged_settings_records_nothing(admin_client, integration):
    SyncSettings.objects.create(integration=integration, payment_method="electronic")
    admin_client.post(reverse("settings"), {"integration": "northwind", "payment_method": "electronic"})
    assert not AuditEntry.objects.filter(action="settings.changed").exists()


def test_an_unknown_payment_method_is_refused_with_a_message(admin_client, integration):
    response = admin_client.post(reverse("settings"), {"integration": "northwind", "payment_method": "bitcoin"})
    assert response.status_code == 200 and b"Select a valid choice" in response.content
    assert not SyncSettings.objects.exists()


def test_everyone_sees_the_company_currency_and_where_it_comes_from(finance_client, integration):
    SyncSettings.objects.create(integration=integration, xero_base_currency="NZD")
    html = finance_client.get(reverse("settings")).content.decode()
    assert "<strong>NZD</strong>" in html and "the Xero organisation&#x27;s base currency" in html


def test_an_admin_sets_the_company_currency_and_it_is_audited(admin_client, integration):
    SyncSettings.objects.create(integration=integration, xero_base_currency="AUD")
    response = admin_client.post(
        reverse("settings"), {"integration": "northwind", "payment_method": "electronic", "company_currency": "usd"}
    )
    assert response.status_code == 302
    assert SyncSettings.objects.get(integration=integration).company_currency == "USD"
    assert "company currency from — to USD" in AuditEntry.objects.get(action="settings.changed").summary
    html = admin_client.get(reverse("settings")).content.decode()
    assert "<strong>USD</strong>" in html and "set by an Admin" in html


def test_a_company_currency_that_is_not_an_iso_code_is_refused(admin_client, integration):
    response = admin_client.post(
        reverse("settings"), {"integration": "northwind", "payment_method": "electronic", "company_currency": "dollars"}
    )
    assert response.status_code == 200
    assert "three-letter ISO currency code" in response.content.decode()
    assert not SyncSettings.objects.filter(company_currency__gt="").exists()


def test_each_field_s_help_and_error_are_the_ones_its_input_points_to(admin_client, integration):
    html = admin_client.get(reverse("settings")).content.decode()
    assert 'aria-describedby="id_company_currency_helptext"' in html and not described_by_missing(html)
    refused = admin_client.post(
        reverse("settings"), {"integration": "northwind", "payment_method": "electronic", "company_currency": "dollars"}
    ).content.decode()
    assert "id_company_currency_error" in refused and not described_by_missing(refused)
    assert 'Procore company&#x27;s currency <span class="muted">(optional)</span>' in html

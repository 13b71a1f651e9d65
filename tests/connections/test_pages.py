"""The Connections page, Test connection, Disconnect, and who may do what."""

import pytest
from django.test import Client

from syncapp.connections.models import Connection, ConnectionStatus, Integration
from syncapp.core.models import AuditEntry
from syncapp.sandbox.models import Behaviour
from syncapp.sandbox.procore import models as procore
from syncapp.sandbox.xero import models as xero
from tests.connections.conftest import connection_of, full_flow

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def both_connected(admin_client, xero_app, procore_app):
    full_flow(admin_client, "xero")
    full_flow(admin_client, "procore")
    return connection_of("xero"), connection_of("procore")


def test_the_page_shows_each_connections_health(admin_client, both_connected):
    page = admin_client.get("/connections/").content.decode()

    assert "Demo Builders Pty Ltd" in page and "Harbour Construction" in page
    assert "by ada-admin" in page
    assert "Both connections are ready." in page
    assert "Test Xero connection" in page and "Disconnect Procore" in page and "Reconnect Xero" in page


def test_finance_users_see_the_status_but_no_actions(finance_user, both_connected):
    finance = Client()
    finance.force_login(finance_user)

    page = finance.get("/connections/")

    assert page.status_code == 200
    assert b"Demo Builders Pty Ltd" in page.content
    assert b"Disconnect" not in page.content and b"Test Xero connection" not in page.content


def test_finance_users_get_403_on_every_admin_action(finance_user, both_connected):
    xero_conn, procore_conn = both_connected
    client = Client()
    client.force_login(finance_user)
    actions = [
        ("post", "/connections/xero/connect/"),
        ("post", "/connections/procore/connect/"),
        ("get", "/connections/xero/callback/?code=x&state=y"),
        ("get", "/connections/procore/callback/?code=x&state=y"),
        ("get", f"/connections/{xero_conn.pk}/choose/"),
        ("post", f"/connections/{xero_conn.pk}/choose/"),
        ("post", f"/connections/{xero_conn.pk}/test/"),
        ("post", f"/connections/{procore_conn.pk}/test/"),
        ("post", f"/connections/{xero_conn.pk}/disconnect/"),
        ("post", f"/connections/{procore_conn.pk}/disconnect/"),
    ]
    for method, url in actions:
        assert getattr(client, method)(url).status_code == 403, url
    assert Connection.objects.filter(status=ConnectionStatus.CONNECTED).count() == 2


def test_users_without_a_role_cannot_see_the_page(client, roleless_user):
    client.force_login(roleless_user)
    assert client.get("/connections/").status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/connections/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_connect_button_only_takes_a_post(admin_client):
    assert admin_client.get("/connections/xero/connect/").status_code == 405


def test_testing_the_connections_makes_a_cheap_read_and_records_success(admin_client, admin_user, both_connected):
    for connection in both_connected:
        response = admin_client.post(f"/connections/{connection.pk}/test/", follow=True)
        connection.refresh_from_db()
        assert connection.last_success_at is not None
        assert b"answered" in response.content
    assert AuditEntry.objects.filter(action="connection.tested", actor=admin_user).count() == 2


def test_testing_xero_after_it_dropped_the_authorisation_asks_for_a_reconnect(admin_client, both_connected):
    xero_conn, _ = both_connected
    xero.Token.objects.update(revoked=True)  # e.g. revoked from Xero's "Connected apps" page

    response = admin_client.post(f"/connections/{xero_conn.pk}/test/", follow=True)

    xero_conn.refresh_from_db()
    assert xero_conn.status == ConnectionStatus.NEEDS_RECONNECT
    assert "Reconnect needed" in response.content.decode()
    [entry] = AuditEntry.objects.filter(action="connection.tested")
    assert entry.details["ok"] is False


def test_reconnecting_clears_the_errors_of_the_old_authorisation(admin_client, both_connected):
    from syncapp.connections.services import mark_needs_reconnect, record_error

    _, procore_conn = both_connected
    record_error(procore_conn, message="Procore needs reconnecting: the refresh token was refused")
    mark_needs_reconnect(procore_conn, reason="the refresh token was refused")

    full_flow(admin_client, "procore")

    procore_conn.refresh_from_db()
    assert procore_conn.status == ConnectionStatus.CONNECTED
    assert procore_conn.last_error == "" and procore_conn.last_error_at is None
    home = admin_client.get("/").content.decode()
    assert "Connected, recent errors" not in home and "refresh token was refused" not in home
    # The old trouble stays on record in the audit log.
    assert AuditEntry.objects.filter(action="connection.needs_reconnect").exists()


def test_testing_procore_while_it_fails_records_the_error_on_the_card(admin_client, both_connected, server_errors_are):
    _, procore_conn = both_connected
    server_errors_are(500)
    Behaviour.set("procore", error_rate=1.0)

    response = admin_client.post(f"/connections/{procore_conn.pk}/test/", follow=True)

    procore_conn.refresh_from_db()
    assert procore_conn.status == ConnectionStatus.CONNECTED  # a server error is not a dead connection
    assert procore_conn.last_error == "Procore did not answer GET /rest/v1.0/projects (HTTP 500)."
    assert procore_conn.last_error in response.content.decode()


def test_disconnecting_xero_removes_the_tenant_and_revokes_the_tokens(admin_client, admin_user, both_connected):
    xero_conn, _ = both_connected

    admin_client.post(f"/connections/{xero_conn.pk}/disconnect/")

    xero_conn.refresh_from_db()
    assert xero_conn.status == ConnectionStatus.DISCONNECTED
    assert xero_conn.access_token_encrypted == "" and xero_conn.refresh_token_encrypted == ""
    assert not xero.TenantConnection.objects.exists()
    assert not xero.Token.objects.filter(revoked=False).exists()
    assert AuditEntry.objects.filter(action="connection.disconnected", actor=admin_user).exists()
    assert "Xero is not connected" in admin_client.get("/connections/").content.decode()


def test_disconnecting_procore_revokes_the_tokens(admin_client, both_connected):
    _, procore_conn = both_connected

    admin_client.post(f"/connections/{procore_conn.pk}/disconnect/")

    procore_conn.refresh_from_db()
    assert procore_conn.status == ConnectionStatus.DISCONNECTED
    assert not procore.Token.objects.filter(revoked=False).exists()


def test_a_connection_whose_tokens_the_keys_cannot_decrypt_still_disconnects_and_says_so(
    admin_client, admin_user, both_connected, settings
):
    from cryptography.fernet import Fernet

    _, procore_conn = both_connected
    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # the old key is gone

    response = admin_client.post(f"/connections/{procore_conn.pk}/disconnect/", follow=True)

    procore_conn.refresh_from_db()
    assert response.status_code == 200
    assert procore_conn.status == ConnectionStatus.DISCONNECTED and procore_conn.access_token_encrypted == ""
    [entry] = AuditEntry.objects.filter(action="connection.disconnected", actor=admin_user)
    assert "were not revoked at Procore" in str(entry.details)


def test_admins_see_a_banner_when_a_connection_needs_reconnecting(admin_client, finance_user, both_connected):
    from syncapp.connections.services import mark_needs_reconnect

    mark_needs_reconnect(both_connected[0], reason="Xero refused the saved authorisation")

    page = admin_client.get("/connections/").content.decode()
    assert "Reconnect needed" in page and "Xero refused the saved authorisation" in page
    # The banner every page shows Admins (base.html asks services.connection_problem()).
    assert "Xero needs reconnecting (Xero refused the saved authorisation)." in page
    assert AuditEntry.objects.filter(action="connection.needs_reconnect").count() == 1
    finance = Client()
    finance.force_login(finance_user)
    finance_page = finance.get("/connections/").content.decode()
    assert "Reconnect needed" not in finance_page and "saved authorisation)." not in finance_page
    assert "Xero needs reconnecting" in finance_page  # the status itself is theirs to see


def test_connect_starts_on_the_named_integration(admin_client, xero_app):
    Integration.objects.create(name="second")
    Integration.objects.create(name="default")

    response = admin_client.post("/connections/xero/connect/", {"integration": "second"})

    assert response.status_code == 302
    assert admin_client.session["oauth_flow_xero"]["integration"] == Integration.objects.get(name="second").pk


def test_connect_without_a_name_refuses_to_guess_between_integrations(admin_client, xero_app):
    Integration.objects.create(name="one")
    Integration.objects.create(name="two")

    response = admin_client.post("/connections/xero/connect/", follow=True)

    assert b"several integrations" in response.content
    assert "oauth_flow_xero" not in admin_client.session

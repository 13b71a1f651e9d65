"""Connecting Xero (authorization code + PKCE S256) through the sandbox's consent page."""

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest

from syncapp.connections.crypto import decrypt
from syncapp.connections.models import ConnectionStatus
from syncapp.core.models import AuditEntry
from syncapp.sandbox.xero import models as xero
from tests.connections.conftest import connection_of, consent, full_flow, local_path, start_flow

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_admin_connects_xero_and_the_only_organisation_is_chosen(admin_client, admin_user, xero_app, xero_org):
    response = full_flow(admin_client, "xero")

    assert response.status_code == 302 and response["Location"] == "/connections/"
    connection = connection_of("xero")
    assert connection.status == ConnectionStatus.CONNECTED
    assert connection.tenant_id == str(xero_org.tenant_id)
    assert connection.tenant_name == "Demo Builders Pty Ltd"
    tenant = xero.TenantConnection.objects.get(organisation=xero_org)
    assert connection.xero_connection_id == str(tenant.connection_id)
    issued = xero.Token.objects.get()
    assert decrypt(connection.access_token_encrypted) == issued.access_token
    assert decrypt(connection.refresh_token_encrypted) == issued.refresh_token
    assert "offline_access" in issued.scope and "accounting.payments.read" in issued.scope
    assert connection.expires_at is not None
    assert AuditEntry.objects.filter(action="connection.connected", actor=admin_user).exists()


def test_the_authorize_request_carries_an_s256_challenge_of_the_session_verifier(admin_client, xero_app):
    query = parse_qs(urlsplit(start_flow(admin_client, "xero")).query)

    verifier = admin_client.session["oauth_flow_xero"]["verifier"]
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"] == [expected]
    assert query["state"] == [admin_client.session["oauth_flow_xero"]["state"]]
    assert "verifier" not in query and verifier not in str(query)


def test_the_pkce_verifier_is_checked(admin_client, xero_app):
    back = consent(start_flow(admin_client, "xero"))
    session = admin_client.session
    session["oauth_flow_xero"]["verifier"] = "x" * 64  # not the one the challenge was made from
    session.save()

    response = admin_client.get(local_path(back))

    assert response.status_code == 400
    assert b"refused the authorization code" in response.content
    assert not xero.Token.objects.exists()


def test_several_organisations_are_offered_to_pick_from(admin_client, xero_app, xero_org):
    second = xero.Organisation.objects.create(name="Second Site Ltd")

    response = full_flow(admin_client, "xero")

    connection = connection_of("xero")
    assert response["Location"] == f"/connections/{connection.pk}/choose/"
    page = admin_client.get(response["Location"])
    assert b"Second Site Ltd" in page.content and b"Demo Builders" in page.content
    admin_client.post(response["Location"], {"tenant": str(second.tenant_id)})
    connection.refresh_from_db()
    assert connection.tenant_id == str(second.tenant_id)
    assert connection.xero_connection_id == str(xero.TenantConnection.objects.get(organisation=second).connection_id)


def test_a_callback_with_a_wrong_state_is_refused(admin_client, xero_app):
    back = consent(start_flow(admin_client, "xero"))

    response = admin_client.get(local_path(back).replace("state=", "state=forged"))

    assert response.status_code == 400
    assert not xero.Token.objects.exists()


def test_a_callback_after_the_state_was_used_is_refused(admin_client, xero_app):
    back = consent(start_flow(admin_client, "xero"))
    assert admin_client.get(local_path(back)).status_code == 302

    replay = admin_client.get(local_path(back))

    assert replay.status_code == 400
    assert xero.Token.objects.count() == 1


def test_a_reused_authorization_code_is_refused(admin_client, xero_app):
    back = consent(start_flow(admin_client, "xero"))
    assert admin_client.get(local_path(back)).status_code == 302
    old_code = parse_qs(urlsplit(back).query)["code"][0]
    # A fresh flow puts a valid state and verifier in the session; the old code must still fail.
    fresh = parse_qs(urlsplit(consent(start_flow(admin_client, "xero"))).query)

    response = admin_client.get(f"/connections/xero/callback/?code={old_code}&state={fresh['state'][0]}")

    assert response.status_code == 400
    assert b"refused the authorization code" in response.content
    assert xero.Token.objects.count() == 1

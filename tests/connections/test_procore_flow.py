"""Connecting Procore through the sandbox's consent page, over real HTTP."""

import pytest

from syncapp.connections.crypto import decrypt
from syncapp.connections.models import ConnectionStatus, Grant
from syncapp.core.models import AuditEntry
from syncapp.sandbox.procore import models as procore
from tests.connections.conftest import connection_of, consent, full_flow, local_path, start_flow

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_admin_connects_procore_and_the_only_company_is_chosen(admin_client, admin_user, procore_app,
                                                                    procore_company):
    response = full_flow(admin_client, "procore")

    assert response.status_code == 302
    assert response["Location"] == "/connections/"
    connection = connection_of("procore")
    assert connection.status == ConnectionStatus.CONNECTED
    assert connection.grant == Grant.AUTHORIZATION_CODE
    assert connection.tenant_id == str(procore_company.id)
    assert connection.tenant_id.isdigit() and int(connection.tenant_id) > 2**32
    assert connection.tenant_name == "Harbour Construction"
    assert connection.connected_by == admin_user
    issued = procore.Token.objects.get()
    assert decrypt(connection.access_token_encrypted) == issued.access_token
    assert decrypt(connection.refresh_token_encrypted) == issued.refresh_token
    assert AuditEntry.objects.filter(action="connection.connected", actor=admin_user).exists()


def test_several_companies_are_offered_to_pick_from(admin_client, procore_app, procore_user):
    second = procore.Company.objects.create(name="Bridge Works")
    procore_user.companies.add(second)
    procore_app.installed_in.add(second)

    response = full_flow(admin_client, "procore")

    connection = connection_of("procore")
    assert response["Location"] == f"/connections/{connection.pk}/choose/"
    assert connection.tenant_id == ""
    page = admin_client.get(response["Location"])
    assert b"Bridge Works" in page.content and b"Harbour Construction" in page.content
    admin_client.post(response["Location"], {"tenant": str(second.id)})
    connection.refresh_from_db()
    assert connection.tenant_id == str(second.id)
    assert connection.tenant_name == "Bridge Works"


def test_a_company_the_user_cannot_see_cannot_be_chosen(admin_client, procore_app, procore_user):
    procore_user.companies.add(procore.Company.objects.create(name="Bridge Works"))
    response = full_flow(admin_client, "procore")
    hidden = procore.Company.objects.create(name="Somebody Else")

    admin_client.post(response["Location"], {"tenant": str(hidden.id)})

    assert connection_of("procore").tenant_id == ""


def test_a_callback_with_a_wrong_state_is_refused(admin_client, procore_app):
    back = consent(start_flow(admin_client, "procore"))
    forged = back.replace("state=", "state=x")

    response = admin_client.get(local_path(forged))

    assert response.status_code == 400
    assert b"state" in response.content
    assert not procore.Token.objects.exists()  # the code was never exchanged


def test_a_callback_without_state_is_refused(admin_client, procore_app):
    back = consent(start_flow(admin_client, "procore"))
    path, query = local_path(back).split("?")
    without = "&".join(p for p in query.split("&") if not p.startswith("state="))

    response = admin_client.get(f"{path}?{without}")

    assert response.status_code == 400
    assert not procore.Token.objects.exists()


def test_a_reused_authorization_code_is_refused(admin_client, procore_app):
    back = consent(start_flow(admin_client, "procore"))
    assert admin_client.get(local_path(back)).status_code == 302
    # Start a new flow so the session holds a valid state, then come back with the old code.
    new_state_url = consent(start_flow(admin_client, "procore"))
    new_state = new_state_url.split("state=")[1].split("&")[0]
    old_code = back.split("code=")[1].split("&")[0]

    response = admin_client.get(f"/connections/procore/callback/?code={old_code}&state={new_state}")

    assert response.status_code == 400
    assert b"refused the authorization code" in response.content
    assert procore.Token.objects.count() == 1


def test_a_denied_consent_connects_nothing(admin_client, procore_app):
    back = consent(start_flow(admin_client, "procore"), allow=False)

    response = admin_client.get(local_path(back))

    assert response.status_code == 400
    assert b"did not grant access" in response.content


def test_procore_answering_app_not_connected_marks_the_connection(admin_client, procore_app, procore_company):
    full_flow(admin_client, "procore")
    procore_app.installed_in.remove(procore_company)
    connection = connection_of("procore")

    response = admin_client.post(f"/connections/{connection.pk}/test/", follow=True)

    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.NEEDS_RECONNECT
    assert "not connected to this company" in connection.status_reason
    assert b"not connected to this company" in response.content


def test_the_pkce_verifier_is_sent_and_checked_for_procore_too(admin_client, procore_app):
    back = consent(start_flow(admin_client, "procore"))
    session = admin_client.session
    session["oauth_flow_procore"]["verifier"] = "x" * 64  # not the one the challenge was made from
    session.save()

    response = admin_client.get(local_path(back))

    assert response.status_code == 400
    assert b"refused the authorization code" in response.content
    assert not procore.Token.objects.exists()

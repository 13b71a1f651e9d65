"""The sandbox Xero identity server over real HTTP: consent page, code + PKCE, refresh rotation,
client credentials, revocation and the connections endpoint."""

import base64
import datetime as dt
import re
import secrets
from html import unescape
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
from django.utils import timezone

from syncapp.sandbox.models import Behaviour
from syncapp.sandbox.xero.factories import make_organisation, make_world
from syncapp.sandbox.xero.identity import pkce_challenge
from syncapp.sandbox.xero.models import AuthorizationCode, TenantConnection, Token

pytestmark = pytest.mark.django_db(transaction=True)

REDIRECT_URI = "http://127.0.0.1:8000/connections/xero/callback"
SCOPE = "offline_access accounting.payments.read accounting.invoices.read accounting.contacts.read"


@pytest.fixture
def world():
    return make_world(redirect_uris=(REDIRECT_URI,))


@pytest.fixture
def http(sandbox):
    with httpx.Client(base_url=f"{sandbox}/sandbox/xero/", follow_redirects=False, timeout=10) as client:
        yield client


def authorize_params(world, **overrides) -> dict:
    params = {
        "response_type": "code",
        "client_id": world.client.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": SCOPE,
        "state": "st-" + secrets.token_hex(4),
    }
    params.update(overrides)
    return {name: value for name, value in params.items() if value is not None}


def form_fields(html: str) -> list[tuple[str, str]]:
    """The inputs a browser would submit (checked checkboxes and hidden fields)."""
    fields = []
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and ("checkbox" not in tag or "checked" in tag):
            fields.append((name.group(1), unescape(value.group(1)) if value else ""))
    return fields


def consent(http, world, *, button: str = "allow", **overrides) -> httpx.Response:
    """GET the consent page, then press a button, as a browser would."""
    page = http.get("identity/connect/authorize", params=authorize_params(world, **overrides))
    assert page.status_code == 200, page.text
    fields = form_fields(page.text) + [(button, "1")]
    return http.post(
        "identity/connect/authorize?" + urlencode(authorize_params(world, **overrides)),
        content=urlencode(fields),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def query_of(response: httpx.Response) -> dict:
    assert response.status_code == 302, response.text
    location = urlparse(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    return {name: values[0] for name, values in parse_qs(location.query).items()}


def basic(world) -> dict:
    raw = f"{world.client.client_id}:{world.client.client_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def exchange(http, world, code: str, **extra) -> httpx.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, **extra}
    return http.post("identity/connect/token", data=data, headers=basic(world))


def test_the_consent_page_names_the_app_the_organisations_and_the_scopes(http, world):
    other = make_organisation(name="Second Site Pty Ltd")

    page = http.get("identity/connect/authorize", params=authorize_params(world))

    assert page.status_code == 200
    assert "Procore Payments Sync" in page.text
    assert world.organisation.name in page.text and other.name in page.text
    assert "accounting.payments.read" in page.text
    assert ">Allow access</button>" in page.text and ">Cancel</button>" in page.text
    ticked = [value for name, value in form_fields(page.text) if name == "tenant"]
    assert sorted(ticked) == sorted([str(world.organisation.tenant_id), str(other.tenant_id)])


def test_the_full_code_flow_with_pkce_gives_tokens_that_read_the_api(http, world):
    verifier = secrets.token_urlsafe(48)

    answer = query_of(consent(http, world, code_challenge=pkce_challenge(verifier), code_challenge_method="S256"))
    response = exchange(http, world, answer["code"], code_verifier=verifier)

    assert answer["state"].startswith("st-")
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 1800
    assert tokens["refresh_token"] and tokens["access_token"] != tokens["refresh_token"]
    assert tokens["scope"].split() == SCOPE.split()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    connections = http.get("connections", headers=bearer).json()
    assert [c["tenantId"] for c in connections] == [str(world.organisation.tenant_id)]
    payments = http.get(
        "api.xro/2.0/Payments", headers={**bearer, "xero-tenant-id": connections[0]["tenantId"]}
    )
    assert payments.status_code == 200 and len(payments.json()["Payments"]) == 2


def test_only_the_ticked_organisations_are_connected(http, world):
    other = make_organisation(name="Second Site Pty Ltd")
    page = http.get("identity/connect/authorize", params=authorize_params(world))
    fields = [(n, v) for n, v in form_fields(page.text) if not (n == "tenant" and v == str(other.tenant_id))]

    response = http.post(
        "identity/connect/authorize",
        content=urlencode(fields + [("allow", "1")]),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    tokens = exchange(http, world, query_of(response)["code"]).json()

    listed = http.get("connections", headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    assert [c["tenantName"] for c in listed] == [world.organisation.name]


def test_cancel_sends_access_denied_with_the_state_back(http, world):
    answer = query_of(consent(http, world, button="cancel", state="keep-me"))

    assert answer == {"error": "access_denied", "state": "keep-me"}
    assert not TenantConnection.objects.exists()


def test_an_unknown_client_gets_an_error_page_and_no_redirect(http, world):
    response = http.get("identity/connect/authorize", params=authorize_params(world, client_id="nobody"))

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "unauthorized_client" in response.text


def test_an_unregistered_redirect_uri_is_never_redirected_to(http, world):
    evil = "https://evil.example/steal"
    response = http.get("identity/connect/authorize", params=authorize_params(world, redirect_uri=evil))
    posted = http.post(
        "identity/connect/authorize",
        data={**authorize_params(world, redirect_uri=evil), "tenant": str(world.organisation.tenant_id), "allow": "1"},
    )

    for answer in (response, posted):
        assert answer.status_code == 400
        assert "Location" not in answer.headers
        assert "Invalid redirect_uri" in answer.text


def test_bad_scope_and_response_type_and_pkce_method_go_back_as_errors(http, world):
    bad_scope = http.get("identity/connect/authorize", params=authorize_params(world, scope="offline_access nope"))
    bad_type = http.get("identity/connect/authorize", params=authorize_params(world, response_type="token"))
    plain = http.get(
        "identity/connect/authorize",
        params=authorize_params(world, code_challenge="abc", code_challenge_method="plain"),
    )

    assert query_of(bad_scope)["error"] == "invalid_scope"
    assert query_of(bad_type)["error"] == "unsupported_response_type"
    assert query_of(plain)["error"] == "invalid_request"


def test_a_reused_code_is_refused(http, world):
    code = query_of(consent(http, world))["code"]

    first = exchange(http, world, code)
    second = exchange(http, world, code)

    assert first.status_code == 200
    assert second.status_code == 400 and second.json() == {"error": "invalid_grant"}


def test_a_wrong_or_missing_pkce_verifier_is_refused(http, world):
    verifier = secrets.token_urlsafe(48)
    challenge = {"code_challenge": pkce_challenge(verifier), "code_challenge_method": "S256"}

    wrong = exchange(http, world, query_of(consent(http, world, **challenge))["code"], code_verifier="x" * 50)
    missing = exchange(http, world, query_of(consent(http, world, **challenge))["code"])

    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_grant"


def test_a_code_with_another_redirect_uri_or_past_five_minutes_is_refused(http, world):
    world.client.redirect_uris = [REDIRECT_URI, REDIRECT_URI + "/other"]
    world.client.save()
    code = query_of(consent(http, world))["code"]
    other_uri = http.post(
        "identity/connect/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI + "/other"},
        headers=basic(world),
    )
    stale = query_of(consent(http, world))["code"]
    AuthorizationCode.objects.filter(code=stale).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    assert other_uri.status_code == 400 and other_uri.json()["error"] == "invalid_grant"
    assert exchange(http, world, stale).json() == {"error": "invalid_grant"}


def test_client_authentication_works_in_the_body_and_refuses_a_wrong_secret(http, world):
    code = query_of(consent(http, world))["code"]
    wrong = http.post(
        "identity/connect/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
              "client_id": world.client.client_id, "client_secret": "wrong"},
    )
    right = http.post(
        "identity/connect/token",
        data={"grant_type": "authorization_code", "code": query_of(consent(http, world))["code"],
              "redirect_uri": REDIRECT_URI, "client_id": world.client.client_id,
              "client_secret": world.client.client_secret},
    )

    assert wrong.status_code == 400 and wrong.json() == {"error": "invalid_client"}
    assert right.status_code == 200 and right.headers["Cache-Control"] == "no-store"


def test_refresh_rotates_and_the_old_refresh_token_is_then_refused(http, world):
    tokens = exchange(http, world, query_of(consent(http, world))["code"]).json()

    refreshed = http.post(
        "identity/connect/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=basic(world),
    )
    again = http.post(
        "identity/connect/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=basic(world),
    )

    assert refreshed.status_code == 200
    new = refreshed.json()
    assert new["refresh_token"] != tokens["refresh_token"] and new["access_token"] != tokens["access_token"]
    assert again.status_code == 400 and again.json() == {"error": "invalid_grant"}
    # The new pair works, and refreshes in turn.
    third = http.post(
        "identity/connect/token",
        data={"grant_type": "refresh_token", "refresh_token": new["refresh_token"]},
        headers=basic(world),
    )
    assert third.status_code == 200


def test_no_refresh_token_without_offline_access(http, world):
    code = query_of(consent(http, world, scope="accounting.payments.read"))["code"]

    tokens = exchange(http, world, code).json()

    assert "refresh_token" not in tokens


def test_client_credentials_works_for_a_custom_connection_only(http, world):
    custom = make_world(client_id="custom-app", client_secret="custom-secret", custom_connection=True)
    credentials = base64.b64encode(b"custom-app:custom-secret").decode()

    granted = http.post(
        "identity/connect/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {credentials}"},
    )
    refused = http.post("identity/connect/token", data={"grant_type": "client_credentials"}, headers=basic(world))

    assert granted.status_code == 200, granted.text
    tokens = granted.json()
    assert "refresh_token" not in tokens and tokens["expires_in"] == 1800
    tenant = str(custom.organisation.tenant_id)
    organisation = http.get(
        "api.xro/2.0/Organisation",
        headers={"Authorization": f"Bearer {tokens['access_token']}", "xero-tenant-id": tenant},
    )
    assert organisation.status_code == 200
    assert organisation.json()["Organisations"][0]["OrganisationID"] == str(custom.organisation.tenant_id)
    assert refused.status_code == 400 and refused.json() == {"error": "unauthorized_client"}


def test_an_unknown_grant_type_is_refused(http, world):
    response = http.post("identity/connect/token", data={"grant_type": "password"}, headers=basic(world))

    assert response.status_code == 400 and response.json() == {"error": "unsupported_grant_type"}


def test_revocation_kills_the_refresh_token_its_access_tokens_and_connections(http, world):
    tokens = exchange(http, world, query_of(consent(http, world))["code"]).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}", "xero-tenant-id": str(world.organisation.tenant_id)}
    assert http.get("api.xro/2.0/Contacts", headers=bearer).status_code == 200

    revoked = http.post("identity/connect/revocation", data={"token": tokens["refresh_token"]}, headers=basic(world))

    assert revoked.status_code == 200
    assert http.get("api.xro/2.0/Contacts", headers=bearer).status_code == 401
    refresh = http.post(
        "identity/connect/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=basic(world),
    )
    assert refresh.json() == {"error": "invalid_grant"}
    assert not TenantConnection.objects.filter(client=world.client).exists()


def test_revocation_needs_client_authentication(http, world):
    tokens = exchange(http, world, query_of(consent(http, world))["code"]).json()

    response = http.post(
        "identity/connect/revocation",
        data={"token": tokens["refresh_token"], "client_id": world.client.client_id, "client_secret": "nope"},
    )

    assert response.status_code == 400 and response.json() == {"error": "invalid_client"}


def test_connections_list_and_delete_cut_off_that_tenant(http, world):
    tokens = exchange(http, world, query_of(consent(http, world))["code"]).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    listed = http.get("Connections", headers=bearer)
    connection = listed.json()[0]

    deleted = http.delete(f"connections/{connection['id']}", headers=bearer)
    after = http.get(
        "api.xro/2.0/Payments", headers={**bearer, "xero-tenant-id": connection["tenantId"]}
    )

    assert listed.status_code == 200
    assert set(connection) == {"id", "authEventId", "tenantId", "tenantType", "tenantName", "createdDateUtc",
                               "updatedDateUtc"}
    assert connection["tenantType"] == "ORGANISATION"
    assert deleted.status_code == 204
    assert http.get("connections", headers=bearer).json() == []
    assert after.status_code == 403 and after.json()["Detail"] == "AuthorizationUnsuccessful"
    assert http.delete(f"connections/{connection['id']}", headers=bearer).status_code == 404


def test_connections_need_a_valid_bearer_token(http, world):
    response = http.get("connections", headers={"Authorization": "Bearer not-a-token"})

    assert response.status_code == 401
    assert response.json()["Title"] == "Unauthorized"
    assert "WWW-Authenticate" in response.headers


def test_expire_tokens_makes_old_access_tokens_answer_401_until_the_client_refreshes(http, world):
    tokens = exchange(http, world, query_of(consent(http, world))["code"]).json()
    headers = {"xero-tenant-id": str(world.organisation.tenant_id)}
    Behaviour.set("xero", expire_tokens=True)

    expired = http.get("api.xro/2.0/Payments", headers={**headers, "Authorization": f"Bearer {tokens['access_token']}"})
    new = http.post(
        "identity/connect/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=basic(world),
    ).json()
    fresh = http.get("api.xro/2.0/Payments", headers={**headers, "Authorization": f"Bearer {new['access_token']}"})

    assert expired.status_code == 401
    assert expired.json()["Detail"].startswith("TokenExpired")
    assert 'error="invalid_token"' in expired.headers["WWW-Authenticate"]
    assert fresh.status_code == 200


def test_a_refresh_token_unused_for_sixty_days_is_refused(http, world):
    tokens = exchange(http, world, query_of(consent(http, world))["code"]).json()
    Token.objects.filter(refresh_token=tokens["refresh_token"]).update(
        refresh_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )

    response = http.post(
        "identity/connect/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=basic(world),
    )

    assert response.status_code == 400 and response.json() == {"error": "invalid_grant"}


def test_a_refresh_token_of_another_app_is_refused(http, world):
    tokens = exchange(http, world, query_of(consent(http, world))["code"]).json()
    other = make_world(client_id="other-app", client_secret="other-secret")
    credentials = base64.b64encode(b"other-app:other-secret").decode()

    response = http.post(
        "identity/connect/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers={"Authorization": f"Basic {credentials}"},
    )

    assert other.client.client_id == "other-app"
    assert response.status_code == 400 and response.json() == {"error": "invalid_grant"}


def test_a_missing_client_id_or_redirect_uri_gets_an_error_page_and_no_redirect(http, world):
    no_client = http.get("identity/connect/authorize", params=authorize_params(world, client_id=None))
    no_redirect = http.get("identity/connect/authorize", params=authorize_params(world, redirect_uri=None))

    for answer, description in ((no_client, "Unknown client"), (no_redirect, "Invalid redirect_uri")):
        assert answer.status_code == 400
        assert "Location" not in answer.headers
        assert "unauthorized_client" in answer.text and description in answer.text


def test_an_empty_scope_goes_back_as_invalid_scope_with_the_state(http, world):
    answer = http.get("identity/connect/authorize", params=authorize_params(world, scope="", state="keep-me"))

    assert query_of(answer) == {"error": "invalid_scope", "state": "keep-me"}


def test_a_cancel_action_field_also_sends_access_denied(http, world):
    answer = http.post(
        "identity/connect/authorize",
        data={
            **authorize_params(world, state="keep-me"),
            "tenant": str(world.organisation.tenant_id),
            "action": "cancel",
        },
    )

    assert query_of(answer) == {"error": "access_denied", "state": "keep-me"}
    assert not AuthorizationCode.objects.exists()


def test_allowing_with_no_organisation_ticked_shows_the_page_again_with_an_error(http, world):
    params = authorize_params(world, code_challenge="abc", code_challenge_method="S256")
    answer = http.post("identity/connect/authorize", data={**params, "allow": "1"})

    assert answer.status_code == 400
    assert "Choose at least one organisation to connect." in answer.text
    assert ("code_challenge", "abc") in form_fields(answer.text)
    assert ("state", params["state"]) in form_fields(answer.text)
    assert not AuthorizationCode.objects.exists()

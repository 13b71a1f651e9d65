"""The simulated Procore login server over HTTP: consent page, code exchange with PKCE, single-use
codes, rotating single-use refresh tokens, client_credentials for service accounts, revoke."""

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.conf import settings

from syncapp.sandbox.procore.models import OAuthClient, Token, User
from tests.sandbox import test_procore_api

pytestmark = pytest.mark.django_db(transaction=True)
procore_world = test_procore_api.procore_world  # the shared fixture

REDIRECT = "http://app.test/cb"


def authorize(world, **extra) -> httpx.Response:
    params = {
        "client_id": world.client.client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "state": "st-123",
        **extra,
    }
    return httpx.get(f"{settings.PROCORE_LOGIN_URL}/oauth/authorize", params=params)


def decide(consent: httpx.Response, decision: str) -> dict[str, list[str]]:
    """Post the consent form as a browser would and return the redirect's query."""
    form = {}
    for field in ("client_id", "redirect_uri", "response_type", "state", "code_challenge", "code_challenge_method"):
        marker = f'name="{field}" value="'
        start = consent.text.index(marker) + len(marker)
        form[field] = consent.text[start : consent.text.index('"', start)]
    answer = httpx.post(str(consent.url), data={**form, "decision": decision})
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return parse_qs(urlsplit(location).query)


def token_call(**body) -> httpx.Response:
    return httpx.post(f"{settings.PROCORE_LOGIN_URL}/oauth/token", data=body)


def exchange(world, code: str, **extra) -> httpx.Response:
    return token_call(
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        client_id=world.client.client_id,
        client_secret="s3cret",
        **extra,
    )


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def test_the_consent_page_names_the_app_and_the_user(procore_world):
    consent = authorize(procore_world)
    assert consent.status_code == 200
    assert "Payment Sync" in consent.text and "Pat Manager" in consent.text
    assert ">Allow access</button>" in consent.text and ">Cancel</button>" in consent.text


def test_the_code_flow_with_pkce_gives_a_working_token(procore_world):
    w = procore_world
    verifier, challenge = pkce_pair()
    query = decide(authorize(w, code_challenge=challenge, code_challenge_method="S256"), "allow")
    assert query["state"] == ["st-123"]

    answer = exchange(w, query["code"][0], code_verifier=verifier)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["token_type"] == "Bearer" and data["expires_in"] == 5400
    assert data["refresh_token"] and isinstance(data["created_at"], int)
    me = httpx.get(f"{w.base}/rest/v1.0/me", headers={"Authorization": f"Bearer {data['access_token']}"})
    assert me.json()["login"] == "pat@harbour.example"


def test_a_wrong_pkce_verifier_is_refused(procore_world):
    w = procore_world
    _, challenge = pkce_pair()
    query = decide(authorize(w, code_challenge=challenge, code_challenge_method="S256"), "allow")
    answer = exchange(w, query["code"][0], code_verifier="not-the-verifier")
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_a_reused_code_is_refused(procore_world):
    w = procore_world
    code = decide(authorize(w), "allow")["code"][0]
    assert exchange(w, code).status_code == 200
    again = exchange(w, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_a_code_is_refused_with_another_redirect_uri(procore_world):
    w = procore_world
    code = decide(authorize(w), "allow")["code"][0]
    answer = token_call(
        grant_type="authorization_code",
        code=code,
        redirect_uri="http://app.test/other",
        client_id=w.client.client_id,
        client_secret="s3cret",
    )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_an_unregistered_redirect_uri_is_shown_an_error_not_redirected(procore_world):
    answer = authorize(procore_world, redirect_uri="http://evil.test/cb")
    assert answer.status_code == 400
    assert "Location" not in answer.headers


def test_cancel_redirects_with_access_denied(procore_world):
    query = decide(authorize(procore_world), "cancel")
    assert query["error"] == ["access_denied"] and query["state"] == ["st-123"]
    assert "code" not in query


def test_a_refresh_rotates_and_the_old_refresh_token_is_dead(procore_world):
    w = procore_world
    first = exchange(w, decide(authorize(w), "allow")["code"][0]).json()
    credentials = {"client_id": w.client.client_id, "client_secret": "s3cret"}

    second = token_call(grant_type="refresh_token", refresh_token=first["refresh_token"], **credentials)
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]

    replay = token_call(grant_type="refresh_token", refresh_token=first["refresh_token"], **credentials)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


def test_a_failed_refresh_still_spends_the_refresh_token(procore_world):
    w = procore_world
    first = exchange(w, decide(authorize(w), "allow")["code"][0]).json()
    failed = token_call(
        grant_type="refresh_token",
        refresh_token=first["refresh_token"],
        client_id=w.client.client_id,
        client_secret="x",
    )
    assert failed.status_code == 401 and failed.json()["error"] == "invalid_client"

    retry = token_call(
        grant_type="refresh_token",
        refresh_token=first["refresh_token"],
        client_id=w.client.client_id,
        client_secret="s3cret",
    )
    assert retry.status_code == 400 and retry.json()["error"] == "invalid_grant"


def test_client_credentials_work_only_for_an_app_with_a_service_account(procore_world):
    w = procore_world
    refused = httpx.post(
        f"{settings.PROCORE_LOGIN_URL}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(w.client.client_id, "s3cret"),  # HTTP Basic
    )
    assert refused.status_code == 400 and refused.json()["error"] == "unauthorized_client"

    robot = User.objects.create(login="dmsa-1@procore.example", name="Sync Service", is_service_account=True)
    robot.companies.add(w.company)
    service = OAuthClient.objects.create(client_id="dmsa-app", client_secret="dmsa-secret", service_account=robot)
    service.installed_in.add(w.company)
    granted = httpx.post(
        f"{settings.PROCORE_LOGIN_URL}/oauth/token",
        json={"grant_type": "client_credentials", "client_id": "dmsa-app", "client_secret": "dmsa-secret"},
    )
    assert granted.status_code == 200, granted.text
    assert "refresh_token" not in granted.json()
    me = httpx.get(
        f"{w.base}/rest/v1.0/me", headers={"Authorization": f"Bearer {granted.json()['access_token']}"}
    ).json()
    assert me["id"] == robot.pk


def test_the_consent_page_never_names_a_service_account(procore_world):
    User.objects.create(id=1, login="robot@procore.example", name="Robot Account", is_service_account=True)
    consent = authorize(procore_world)
    assert "Robot Account" not in consent.text and "Pat Manager" in consent.text


def test_a_revoked_token_is_refused_by_the_api(procore_world):
    w = procore_world
    answer = httpx.post(
        f"{settings.PROCORE_LOGIN_URL}/oauth/revoke",
        data={"token": w.token, "client_id": w.client.client_id, "client_secret": "s3cret"},
    )
    assert answer.status_code == 200
    assert Token.objects.get(access_token=w.token).revoked
    assert w.get("/rest/v1.0/me").status_code == 401


def test_a_wrong_client_secret_is_refused(procore_world):
    w = procore_world
    code = decide(authorize(w), "allow")["code"][0]
    answer = token_call(
        grant_type="authorization_code", code=code, redirect_uri=REDIRECT, client_id="sandbox-app", client_secret="no"
    )
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"

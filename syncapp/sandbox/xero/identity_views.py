"""The sandbox Xero identity endpoints: consent page, token, revocation, and GET/DELETE connections.

Thin views over `identity.py`. The consent page is stateless: the original authorize parameters
ride along as hidden fields and are validated again on POST, so a script can drive the flow with
two plain HTTP requests (GET the page, POST "Allow access") and a browser can click through it.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from urllib.parse import unquote, urlencode

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from syncapp.sandbox.faults import behaviour, injected_fault
from syncapp.sandbox.xero import identity
from syncapp.sandbox.xero.models import OAuthClient, Organisation, TenantConnection
from syncapp.sandbox.xero.responses import json_response, not_found, oauth_error, unauthorized

AUTHORIZE_FIELDS = ("client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge",
                    "code_challenge_method")


# --- Authorize and consent ------------------------------------------------------------------------


def _error_page(request: HttpRequest, *, error: str, description: str) -> HttpResponse:
    """What Xero shows when it cannot trust the redirect URI: a page, never a redirect."""
    return render(request, "sandbox/xero/error.html", {"error": error, "description": description}, status=400)


def _redirect(redirect_uri: str, **params: str) -> HttpResponseRedirect:
    query = urlencode({name: value for name, value in params.items() if value})
    separator = "&" if "?" in redirect_uri else "?"
    return HttpResponseRedirect(f"{redirect_uri}{separator}{query}")


@dataclass(frozen=True)
class _Consent:
    """A validated authorize request: the app, its parameters, the scopes asked for, the organisations."""

    client: OAuthClient
    params: dict[str, str]
    scopes: list[str]
    organisations: list[Organisation]


@csrf_exempt  # the consent form is a machine-drivable sandbox page; every POST is re-validated
@login_not_required
@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    params = _authorize_params(request)
    client = _registered_client(params)
    if client is None:
        return _error_page(request, error="unauthorized_client", description="Unknown client or client not enabled")
    if not params["redirect_uri"] or params["redirect_uri"] not in (client.redirect_uris or []):
        return _error_page(request, error="unauthorized_client", description="Invalid redirect_uri")

    # From here on the redirect URI is trusted: errors go back to the app, as RFC 6749 says.
    scopes = identity.split_scope(params["scope"])
    error = _authorize_error(params, scopes)
    if error:
        return _redirect(params["redirect_uri"], error=error, state=params["state"])
    organisations = list(Organisation.objects.order_by("name"))
    consent = _Consent(client=client, params=params, scopes=scopes, organisations=organisations)
    if request.method == "POST":
        return _answer_consent(request, consent)
    return _consent_page(request, consent)


def _authorize_params(request: HttpRequest) -> dict[str, str]:
    source = request.POST if request.method == "POST" else request.GET
    return {name: source.get(name, "") for name in AUTHORIZE_FIELDS}


def _registered_client(params: dict[str, str]) -> OAuthClient | None:
    if not params["client_id"]:
        return None
    return OAuthClient.objects.filter(client_id=params["client_id"]).first()


def _authorize_error(params: dict[str, str], scopes: list[str]) -> str:
    """The OAuth error code of a request whose redirect URI is trusted, or "" when it is sound."""
    if params["response_type"] != "code":
        return "unsupported_response_type"
    if not scopes or any(scope not in identity.KNOWN_SCOPES for scope in scopes):
        return "invalid_scope"
    if params["code_challenge"] and params["code_challenge_method"] != "S256":
        return "invalid_request"
    return ""


def _answer_consent(request: HttpRequest, consent: _Consent) -> HttpResponse:
    """"Allow access" with the ticked organisations, or "Cancel"."""
    params = consent.params
    if "cancel" in request.POST or request.POST.get("action") == "cancel":
        return _redirect(params["redirect_uri"], error="access_denied", state=params["state"])
    chosen = set(request.POST.getlist("tenant"))
    selected = [org for org in consent.organisations if str(org.tenant_id) in chosen]
    if not selected:
        return _consent_page(request, consent, error="Choose at least one organisation to connect.")
    scope = " ".join(consent.scopes)
    code = identity.issue_code(
        client=consent.client,
        redirect_uri=params["redirect_uri"],
        scope=scope,
        organisations=selected,
        code_challenge=params["code_challenge"],
        code_challenge_method=params["code_challenge_method"],
    )
    return _redirect(params["redirect_uri"], code=code, scope=scope, state=params["state"])


def _consent_page(request: HttpRequest, consent: _Consent, *, error: str = "") -> HttpResponse:
    context = {
        "client": consent.client,
        "organisations": consent.organisations,
        "scopes": consent.scopes,
        "hidden": [(name, consent.params[name]) for name in AUTHORIZE_FIELDS if consent.params[name]],
        "error": error,
    }
    return render(request, "sandbox/xero/consent.html", context, status=400 if error else 200)


# --- Token and revocation -------------------------------------------------------------------------


def _client_credentials_of(request: HttpRequest) -> tuple[str, str | None]:
    """Client id and secret from HTTP Basic, else from the form body."""
    kind, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if kind.lower() == "basic" and encoded:
        try:
            decoded = base64.b64decode(encoded.strip()).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return "", None
        client_id, _, secret = decoded.partition(":")
        return unquote(client_id), unquote(secret)
    return request.POST.get("client_id", ""), request.POST.get("client_secret")


@csrf_exempt
@login_not_required
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    try:
        client_id, secret = _client_credentials_of(request)
        client = identity.authenticate_client(client_id=client_id, client_secret=secret)
        grant_type = request.POST.get("grant_type", "")
        if grant_type == "authorization_code":
            answer = identity.exchange_code(
                client=client,
                code=request.POST.get("code", ""),
                redirect_uri=request.POST.get("redirect_uri", ""),
                code_verifier=request.POST.get("code_verifier", ""),
            )
        elif grant_type == "refresh_token":
            answer = identity.refresh(client=client, refresh_token=request.POST.get("refresh_token", ""))
        elif grant_type == "client_credentials":
            answer = identity.client_credentials(client=client, scope=request.POST.get("scope", ""))
        elif not grant_type:
            raise identity.OAuthError("invalid_request")
        else:
            raise identity.OAuthError("unsupported_grant_type")
    except identity.OAuthError as error:
        return oauth_error(error.code)
    return json_response(answer.as_json(), headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@csrf_exempt
@login_not_required
@require_POST
def revocation(request: HttpRequest) -> HttpResponse:
    try:
        client_id, secret = _client_credentials_of(request)
        client = identity.authenticate_client(client_id=client_id, client_secret=secret)
    except identity.OAuthError as error:
        return oauth_error(error.code)
    identity.revoke(client=client, token=request.POST.get("token", ""))
    return HttpResponse(status=200)


# --- Connections ------------------------------------------------------------------------------------


def _bearer(request: HttpRequest):
    current = behaviour("xero")
    return identity.bearer_token(
        request.headers.get("Authorization", ""),
        expire_before=current.updated_at if current.expire_tokens else None,
    )


def _utc_text(value) -> str:
    """Xero's connection timestamps: ISO 8601 without zone, seven fractional digits."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


def connection_json(connection: TenantConnection) -> dict:
    return {
        "id": str(connection.connection_id),
        "authEventId": str(connection.auth_event_id),
        "tenantId": str(connection.organisation.tenant_id),
        "tenantType": "ORGANISATION",
        "tenantName": connection.organisation.name,
        "createdDateUtc": _utc_text(connection.created_at),
        "updatedDateUtc": _utc_text(connection.updated_at),
    }


@csrf_exempt
@login_not_required
@require_http_methods(["GET"])
def connections(request: HttpRequest) -> HttpResponse:
    fault = injected_fault(behaviour("xero"), lambda: HttpResponse(status=429, headers={"Retry-After": "1"}))
    if fault is not None:
        return fault
    try:
        bearer = _bearer(request)
    except identity.BearerError as error:
        return unauthorized(expired=error.expired)
    rows = TenantConnection.objects.select_related("organisation").filter(client_id=bearer.client_id)
    auth_event = request.GET.get("authEventId", "")
    if auth_event:
        try:
            rows = rows.filter(auth_event_id=uuid.UUID(auth_event))
        except ValueError:
            rows = rows.none()
    return json_response([connection_json(row) for row in rows.order_by("created_at", "pk")])


@csrf_exempt
@login_not_required
@require_http_methods(["DELETE"])
def connection(request: HttpRequest, connection_id: str) -> HttpResponse:
    try:
        bearer = _bearer(request)
    except identity.BearerError as error:
        return unauthorized(expired=error.expired)
    try:
        key = uuid.UUID(connection_id)
    except ValueError:
        return not_found()
    deleted, _ = TenantConnection.objects.filter(client_id=bearer.client_id, connection_id=key).delete()
    return HttpResponse(status=204) if deleted else not_found()

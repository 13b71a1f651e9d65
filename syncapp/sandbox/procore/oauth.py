"""The simulated Procore login server: authorize (consent page), token, revoke.

Behaves as Procore documents: access tokens live 5,400 s; authorization codes and refresh tokens
are single-use, and a refresh kills the old refresh token whether it succeeds or not; a Developer
Managed Service Account gets tokens by `client_credentials` and never a refresh token. PKCE (S256)
is checked when the authorize request carried a challenge.
"""

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import secrets
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from syncapp.sandbox.procore.models import AuthorizationCode, OAuthClient, Token, User

ACCESS_TOKEN_SECONDS = 5400
CODE_SECONDS = 600


def _redirect(uri: str, **params: str) -> HttpResponseRedirect:
    joiner = "&" if "?" in uri else "?"
    return HttpResponseRedirect(uri + joiner + urlencode({k: v for k, v in params.items() if v is not None}))


def _error_page(request: HttpRequest, message: str, status: int = 400) -> HttpResponse:
    # A bad client_id or redirect_uri must not redirect anywhere: show the error instead.
    return render(request, "sandbox/procore/oauth_error.html", {"message": message}, status=status)


def consenting_user() -> User | None:
    """The person "logged in" to the sandbox Procore: the first user that is not a service account."""
    return User.objects.filter(is_service_account=False).order_by("pk").first()


@login_not_required
@csrf_exempt  # a sandbox page posted by scripted tests as well as by browsers
@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    params = request.GET if request.method == "GET" else request.POST
    client = OAuthClient.objects.filter(client_id=params.get("client_id", "")).first()
    if client is None:
        return _error_page(request, "Unknown client_id: this app is not registered.")
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in client.redirect_uris:
        return _error_page(request, "The redirect_uri is not registered for this app.")
    state = params.get("state")
    if params.get("response_type") != "code":
        return _redirect(redirect_uri, error="unsupported_response_type", state=state)
    challenge = params.get("code_challenge", "")
    method = params.get("code_challenge_method", "") or ("plain" if challenge else "")
    if challenge and method != "S256":
        return _redirect(redirect_uri, error="invalid_request", error_description="Only S256 PKCE", state=state)
    user = consenting_user()
    if user is None:
        return _error_page(request, "No sandbox Procore user exists: run sandbox_seed.", status=503)

    if request.method == "GET":
        hidden = {
            k: params.get(k, "")
            for k in ("client_id", "redirect_uri", "response_type", "state", "code_challenge", "code_challenge_method")
        }
        return render(request, "sandbox/procore/consent.html", {"client": client, "user": user, "hidden": hidden})

    if request.POST.get("decision") != "allow":
        return _redirect(redirect_uri, error="access_denied", state=state)
    code = AuthorizationCode.objects.create(
        code=secrets.token_urlsafe(32),
        client=client,
        user=user,
        redirect_uri=redirect_uri,
        code_challenge=challenge,
        code_challenge_method=method if challenge else "",
        expires_at=timezone.now() + dt.timedelta(seconds=CODE_SECONDS),
    )
    return _redirect(redirect_uri, code=code.code, state=state)


def _oauth_error(error: str, description: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": error, "error_description": description}, status=status)


def _body(request: HttpRequest) -> dict[str, str]:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return {}
        return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    return request.POST.dict()


def _client_credentials(request: HttpRequest, body: dict[str, str]) -> tuple[str, str]:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:]).decode()
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    return body.get("client_id", ""), body.get("client_secret", "")


def _authenticated_client(client_id: str, secret: str) -> OAuthClient | None:
    client = OAuthClient.objects.filter(client_id=client_id).first()
    if client is None or not hmac.compare_digest(client.client_secret, secret):
        return None
    return client


def _issue(client: OAuthClient, user: User, *, refreshable: bool) -> JsonResponse:
    now = timezone.now()
    token = Token.objects.create(
        client=client,
        user=user,
        access_token=secrets.token_urlsafe(32),
        refresh_token=secrets.token_urlsafe(32) if refreshable else None,
        expires_at=now + dt.timedelta(seconds=ACCESS_TOKEN_SECONDS),
    )
    data = {
        "access_token": token.access_token,
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_SECONDS,
        "created_at": int(now.timestamp()),
    }
    if refreshable:
        data["refresh_token"] = token.refresh_token
    response = JsonResponse(data)
    response["Cache-Control"] = "no-store"
    return response


def _pkce_ok(code: AuthorizationCode, verifier: str) -> bool:
    if not code.code_challenge:
        return True
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return bool(verifier) and hmac.compare_digest(digest, code.code_challenge)


def _grant_authorization_code(client: OAuthClient, body: dict[str, str]) -> JsonResponse:
    code = AuthorizationCode.objects.filter(code=body.get("code", ""), client=client).first()
    if code is None:
        return _oauth_error("invalid_grant", "The authorization code is invalid.")
    # Claim the code with a conditional update, so two racing exchanges cannot both win.
    claimed = AuthorizationCode.objects.filter(pk=code.pk, used=False).update(used=True)
    if not claimed:
        return _oauth_error("invalid_grant", "The authorization code has already been used.")
    if code.expires_at < timezone.now():
        return _oauth_error("invalid_grant", "The authorization code has expired.")
    if body.get("redirect_uri", "") != code.redirect_uri:
        return _oauth_error("invalid_grant", "The redirect_uri does not match the authorization request.")
    if not _pkce_ok(code, body.get("code_verifier", "")):
        return _oauth_error("invalid_grant", "The code_verifier does not match the code_challenge.")
    return _issue(client, code.user, refreshable=True)


def _grant_refresh_token(request: HttpRequest, body: dict[str, str]) -> JsonResponse:
    old = Token.objects.filter(refresh_token=body.get("refresh_token") or None).select_related("client").first()
    # Procore: the refresh token is spent by the attempt, whatever its outcome.
    spent = old is not None and Token.objects.filter(pk=old.pk, refresh_used=False).update(refresh_used=True)
    client = _authenticated_client(*_client_credentials(request, body))
    if client is None:
        return _oauth_error("invalid_client", "Client authentication failed.", status=401)
    if not spent or old.client_id != client.pk or old.revoked:
        return _oauth_error("invalid_grant", "The refresh token is invalid.")
    return _issue(client, old.user, refreshable=True)


def _grant_client_credentials(client: OAuthClient) -> JsonResponse:
    if client.service_account is None:
        return _oauth_error(
            "unauthorized_client", "This app has no service account: client_credentials is not allowed."
        )
    return _issue(client, client.service_account, refreshable=False)


@login_not_required
@csrf_exempt
@require_POST
def token(request: HttpRequest) -> JsonResponse:
    body = _body(request)
    grant = body.get("grant_type", "")
    if grant == "refresh_token":
        with transaction.atomic():
            return _grant_refresh_token(request, body)
    client = _authenticated_client(*_client_credentials(request, body))
    if client is None:
        return _oauth_error("invalid_client", "Client authentication failed.", status=401)
    if grant == "authorization_code":
        return _grant_authorization_code(client, body)
    if grant == "client_credentials":
        return _grant_client_credentials(client)
    return _oauth_error("unsupported_grant_type", "The grant type is not supported.")


@login_not_required
@csrf_exempt
@require_POST
def revoke(request: HttpRequest) -> JsonResponse:
    """RFC 7009: revoke an access or refresh token of the calling app; unknown tokens are not an error."""
    body = _body(request)
    client = _authenticated_client(*_client_credentials(request, body))
    if client is None:
        return _oauth_error("invalid_client", "Client authentication failed.", status=401)
    value = body.get("token", "")
    if value:
        Token.objects.filter(client=client, access_token=value).update(revoked=True)
        Token.objects.filter(client=client, refresh_token=value).update(revoked=True, refresh_used=True)
    return JsonResponse({})

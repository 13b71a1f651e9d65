"""The OAuth 2.0 grants against Xero's and Procore's token servers, through Authlib.

Authorization code (Xero with PKCE S256, Procore with state), refresh with rotation, client
credentials (Xero custom connections, Procore service accounts) and revocation. Every URL is read
from settings at call time. Nothing here touches the database: see `tokens` and `services`.

Errors are sorted into two kinds only: the provider refused the grant (`GrantRefused`: the
connection is dead until a person reconnects) or the call failed on the way (`TransientError`:
try again later, the stored tokens are still good).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

import httpx
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from django.conf import settings
from django.utils import timezone

from syncapp.connections.models import Provider
from syncapp.connectors.types import TransientError

# OAuth error codes meaning "this grant will never work again", worded for an admin.
REFUSALS = {
    "invalid_grant": "the provider refused the saved authorisation (expired, revoked or already used)",
    "unauthorized_client": "the app is no longer authorised (it was disconnected or uninstalled)",
    "invalid_client": "the provider does not accept the app's client id and secret",
    "access_denied": "access was denied by the provider",
    "invalid_scope": "the provider refused the requested scopes",
    "unsupported_grant_type": "the provider does not allow this kind of connection for the app",
}


class GrantRefused(Exception):
    """The token server said no. `reason` is short, human and free of secrets."""

    def __init__(self, reason: str, *, error: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.error = error


@dataclass(frozen=True)
class TokenSet:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False, default="")
    expires_at: dt.datetime | None = None
    scope: list[str] = field(default_factory=list)


# --- Per-provider settings -------------------------------------------------------------------


def _client_credentials_pair(provider: str) -> tuple[str, str]:
    if provider == Provider.XERO:
        return settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET
    return settings.PROCORE_CLIENT_ID, settings.PROCORE_CLIENT_SECRET


def token_url(provider: str) -> str:
    if provider == Provider.XERO:
        return settings.XERO_TOKEN_URL
    return f"{settings.PROCORE_LOGIN_URL}/oauth/token"


def authorize_url(provider: str) -> str:
    if provider == Provider.XERO:
        return settings.XERO_AUTHORIZE_URL
    return f"{settings.PROCORE_LOGIN_URL}/oauth/authorize"


def redirect_uri(provider: str) -> str:
    return f"{settings.SITE_URL}/connections/{provider}/callback/"


def _client(provider: str, **kwargs) -> OAuth2Client:
    client_id, client_secret = _client_credentials_pair(provider)
    if not client_id or not client_secret:
        name = "XERO" if provider == Provider.XERO else "PROCORE"
        raise GrantRefused(f"{name}_CLIENT_ID and {name}_CLIENT_SECRET are not set.", error="not_configured")
    # Xero documents HTTP Basic client authentication; Procore documents the secret in the body.
    auth_method = "client_secret_basic" if provider == Provider.XERO else "client_secret_post"
    return OAuth2Client(
        client_id=client_id,
        client_secret=client_secret,
        token_endpoint_auth_method=auth_method,
        timeout=settings.HTTP_TIMEOUT,
        **kwargs,
    )


# --- Grants ----------------------------------------------------------------------------------


def start_authorization(*, provider: str) -> tuple[str, str, str]:
    """Where to send the admin's browser, plus the state and PKCE verifier to keep in the session."""
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 characters: inside RFC 7636's 43..128
    # PKCE for both: Xero documents it; for Procore it costs nothing and guards a stolen code.
    # Procore has no scopes: the user's Procore permissions decide.
    scope = {"scope": " ".join(settings.XERO_SCOPES)} if provider == Provider.XERO else {}
    client = _client(provider, code_challenge_method="S256", **scope)
    url, _ = client.create_authorization_url(
        authorize_url(provider), state=state, code_verifier=verifier, redirect_uri=redirect_uri(provider)
    )
    return url, state, verifier


def exchange_code(*, provider: str, code: str, code_verifier: str = "") -> TokenSet:
    extra = {"code_verifier": code_verifier} if code_verifier else {}
    with _client(provider) as client:
        return _call(
            lambda: client.fetch_token(
                token_url(provider),
                grant_type="authorization_code",
                code=code,
                redirect_uri=redirect_uri(provider),
                **extra,
            )
        )


def refresh(*, provider: str, refresh_token: str) -> TokenSet:
    """Trade a refresh token for a new pair. Both providers rotate: the old one is dead after this."""
    with _client(provider) as client:
        # When an answer carries no new refresh token, Authlib keeps the old one in the result.
        return _call(lambda: client.refresh_token(token_url(provider), refresh_token=refresh_token))


def client_credentials(*, provider: str) -> TokenSet:
    """A fresh token for a headless connection (Xero custom connection, Procore service account)."""
    extra = {"scope": " ".join(settings.XERO_SCOPES)} if provider == Provider.XERO else {}
    # A custom connection has no refresh token, so offline_access is meaningless there.
    if "scope" in extra:
        extra["scope"] = " ".join(s for s in settings.XERO_SCOPES if s != "offline_access")
    with _client(provider) as client:
        return _call(lambda: client.fetch_token(token_url(provider), grant_type="client_credentials", **extra))


def revoke(*, provider: str, token: str, token_type_hint: str = "refresh_token") -> None:
    """Ask the provider to forget a token. Failures are reported, never fatal to a disconnect."""
    if provider == Provider.XERO:
        url = settings.XERO_REVOKE_URL
    else:
        url = f"{settings.PROCORE_LOGIN_URL}/oauth/revoke"
    with _client(provider) as client:
        try:
            response = client.revoke_token(url, token=token, token_type_hint=token_type_hint)
        except httpx.HTTPError as exc:
            problem = type(exc).__name__
            raise TransientError(f"Could not reach the {provider.title()} revoke endpoint ({problem}).") from None
    if response.status_code >= 400:
        raise TransientError(
            f"{provider.title()} answered {response.status_code} to the revoke request.", status=response.status_code
        )


def _call(fetch) -> TokenSet:
    try:
        token = fetch()
    except OAuthError as exc:
        error = exc.error or ""
        if error in REFUSALS:
            raise GrantRefused(_refusal_reason(error, exc.description), error=error) from None
        raise TransientError(f"The token server answered an error ({error or 'unknown'}).") from None
    except httpx.HTTPStatusError as exc:
        status = exc.response.status_code
        if status in (400, 401, 403):
            raise GrantRefused(f"the token server refused the request (HTTP {status})", error=str(status)) from None
        raise TransientError(f"The token server answered HTTP {status}.", status=status) from None
    except httpx.HTTPError as exc:
        raise TransientError(f"Could not reach the token server ({type(exc).__name__}).") from None
    return _token_set(token)


def _refusal_reason(error: str, description: str | None) -> str:
    reason = REFUSALS[error]
    # The description is the provider's own words; keep it short. It never holds our secrets.
    if description:
        reason = f"{reason}: {description[:200]}"
    return reason


def _token_set(token: dict) -> TokenSet:
    expires_at = None
    if token.get("expires_at"):
        expires_at = dt.datetime.fromtimestamp(int(token["expires_at"]), tz=dt.UTC)
    elif token.get("expires_in"):
        expires_at = timezone.now() + dt.timedelta(seconds=int(token["expires_in"]))
    scope = token.get("scope") or []
    if isinstance(scope, str):
        scope = scope.split()
    return TokenSet(
        access_token=token["access_token"],
        refresh_token=token.get("refresh_token") or "",
        expires_at=expires_at,
        scope=list(scope),
    )

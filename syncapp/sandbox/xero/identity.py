"""The sandbox Xero identity server: authorisation codes, tokens, refresh rotation, revocation,
custom connections, and the bearer-token check the API views use.

Rules mirrored from Xero: access tokens live 30 minutes; a refresh token is issued only when
`offline_access` was granted, rotates on every use (the old one dies at once) and dies after 60
days unused; codes are single-use and live 5 minutes; PKCE is optional but, when a challenge was
given, the S256 verifier must match. Single-use is enforced with conditional UPDATEs, so two
racing requests cannot both win on either database.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from syncapp.sandbox.xero.models import AuthorizationCode, OAuthClient, Organisation, TenantConnection, Token

ACCESS_TOKEN_SECONDS = 1800
REFRESH_TOKEN_DAYS = 60
CODE_SECONDS = 300

# Scopes the sandbox accepts; Xero refuses unknown ones with invalid_scope.
KNOWN_SCOPES = {
    "openid",
    "profile",
    "email",
    "offline_access",
    "accounting.transactions",
    "accounting.transactions.read",
    "accounting.payments",
    "accounting.payments.read",
    "accounting.invoices",
    "accounting.invoices.read",
    "accounting.contacts",
    "accounting.contacts.read",
    "accounting.settings",
    "accounting.settings.read",
    "accounting.reports.read",
    "accounting.journals.read",
    "accounting.attachments",
    "accounting.attachments.read",
    "accounting.banktransactions",
    "accounting.banktransactions.read",
}

# What a custom connection gets when it asks for no scope: every read scope the product uses.
CUSTOM_CONNECTION_SCOPES = (
    "accounting.transactions.read accounting.payments.read accounting.invoices.read "
    "accounting.contacts.read accounting.settings.read"
)

# API resource -> any one of these scopes lets a token read it (broad or granular).
RESOURCE_SCOPES = {
    "Payments": {"accounting.transactions", "accounting.transactions.read", "accounting.payments",
                 "accounting.payments.read"},
    "Invoices": {"accounting.transactions", "accounting.transactions.read", "accounting.invoices",
                 "accounting.invoices.read"},
    "Contacts": {"accounting.contacts", "accounting.contacts.read"},
    "Organisation": {"accounting.settings", "accounting.settings.read"},
}


class OAuthError(Exception):
    """An RFC 6749 error answer: `code` is the `error` value (invalid_grant, invalid_client...)."""

    def __init__(self, code: str, description: str = ""):
        super().__init__(description or code)
        self.code = code
        self.description = description


def _now() -> dt.datetime:
    return timezone.now()


def _secret() -> str:
    return secrets.token_urlsafe(32)


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of a verifier (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


# --- Clients -----------------------------------------------------------------------------------


def ensure_client(
    *,
    client_id: str,
    client_secret: str,
    redirect_uris: list[str] | None = None,
    name: str = "Sandbox app",
    custom_connection_organisation: Organisation | None = None,
) -> OAuthClient:
    """Create or update a registered app (for the seeder and tests)."""
    client, _ = OAuthClient.objects.update_or_create(
        client_id=client_id,
        defaults={
            "client_secret": client_secret,
            "redirect_uris": list(redirect_uris or []),
            "name": name,
            "custom_connection_organisation": custom_connection_organisation,
        },
    )
    return client


def authenticate_client(*, client_id: str, client_secret: str | None) -> OAuthClient:
    """The app behind a token request. A client registered without a secret is a public PKCE
    client and authenticates with its id alone."""
    client = OAuthClient.objects.filter(client_id=client_id).first() if client_id else None
    if client is None:
        raise OAuthError("invalid_client")
    if client.client_secret and not secrets.compare_digest(client.client_secret, client_secret or ""):
        raise OAuthError("invalid_client")
    return client


def split_scope(scope: str) -> list[str]:
    return [part for part in scope.split() if part]


# --- Authorisation codes -----------------------------------------------------------------------


def issue_code(
    *,
    client: OAuthClient,
    redirect_uri: str,
    scope: str,
    organisations: list[Organisation],
    code_challenge: str = "",
    code_challenge_method: str = "",
) -> str:
    """The user clicked "Allow access": connect the chosen organisations and hand out a code."""
    code = _secret()
    auth_event_id = uuid.uuid4()
    with transaction.atomic():
        record = AuthorizationCode.objects.create(
            code=code,
            client=client,
            redirect_uri=redirect_uri,
            scope=scope,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            auth_event_id=auth_event_id,
            expires_at=_now() + dt.timedelta(seconds=CODE_SECONDS),
        )
        record.organisations.set(organisations)
        for organisation in organisations:
            TenantConnection.objects.update_or_create(
                client=client, organisation=organisation, defaults={"auth_event_id": auth_event_id}
            )
    return code


@dataclass(frozen=True)
class TokenResponse:
    access_token: str
    expires_in: int
    scope: str
    refresh_token: str | None

    def as_json(self) -> dict:
        body = {
            "access_token": self.access_token,
            "expires_in": self.expires_in,
            "token_type": "Bearer",
            "scope": self.scope,
        }
        if self.refresh_token:
            body["refresh_token"] = self.refresh_token
        return body


def _create_token(
    *, client: OAuthClient, scope: str, organisations, auth_event_id: uuid.UUID, with_refresh: bool
) -> Token:
    now = _now()
    token = Token.objects.create(
        client=client,
        access_token=_secret(),
        refresh_token=_secret() if with_refresh else None,
        scope=scope,
        auth_event_id=auth_event_id,
        expires_at=now + dt.timedelta(seconds=ACCESS_TOKEN_SECONDS),
        refresh_expires_at=now + dt.timedelta(days=REFRESH_TOKEN_DAYS) if with_refresh else None,
    )
    token.organisations.set(organisations)
    return token


def _response(token: Token) -> TokenResponse:
    return TokenResponse(
        access_token=token.access_token,
        expires_in=ACCESS_TOKEN_SECONDS,
        scope=token.scope,
        refresh_token=token.refresh_token,
    )


def exchange_code(*, client: OAuthClient, code: str, redirect_uri: str, code_verifier: str) -> TokenResponse:
    """grant_type=authorization_code."""
    record = AuthorizationCode.objects.filter(code=code, client=client).first() if code else None
    if record is None or record.expires_at <= _now():
        raise OAuthError("invalid_grant")
    # Burn the code first: a second request with it loses the race and gets invalid_grant.
    if AuthorizationCode.objects.filter(pk=record.pk, used=False).update(used=True) != 1:
        raise OAuthError("invalid_grant")
    if record.redirect_uri != redirect_uri:
        raise OAuthError("invalid_grant")
    if record.code_challenge:
        if not code_verifier or not secrets.compare_digest(pkce_challenge(code_verifier), record.code_challenge):
            raise OAuthError("invalid_grant")
    with transaction.atomic():
        token = _create_token(
            client=client,
            scope=record.scope,
            organisations=list(record.organisations.all()),
            auth_event_id=record.auth_event_id,
            with_refresh="offline_access" in split_scope(record.scope),
        )
    return _response(token)


def refresh(*, client: OAuthClient, refresh_token: str) -> TokenResponse:
    """grant_type=refresh_token: rotate. The presented token dies whether or not the caller
    receives the answer."""
    old = Token.objects.filter(refresh_token=refresh_token, client=client).first() if refresh_token else None
    if old is None or old.revoked or old.rotated_at is not None:
        raise OAuthError("invalid_grant")
    if old.refresh_expires_at is not None and old.refresh_expires_at <= _now():
        raise OAuthError("invalid_grant")
    with transaction.atomic():
        claimed = Token.objects.filter(pk=old.pk, rotated_at__isnull=True, revoked=False).update(rotated_at=_now())
        if claimed != 1:
            raise OAuthError("invalid_grant")
        new = _create_token(
            client=client,
            scope=old.scope,
            organisations=list(old.organisations.all()),
            auth_event_id=old.auth_event_id,
            with_refresh=True,
        )
        Token.objects.filter(pk=old.pk).update(replaced_by=new)
    return _response(new)


def client_credentials(*, client: OAuthClient, scope: str) -> TokenResponse:
    """grant_type=client_credentials: only custom connections, one organisation, no refresh."""
    organisation = client.custom_connection_organisation
    if organisation is None:
        raise OAuthError("unauthorized_client")
    requested = split_scope(scope) or split_scope(CUSTOM_CONNECTION_SCOPES)
    unknown = [part for part in requested if part not in KNOWN_SCOPES]
    if unknown:
        raise OAuthError("invalid_scope")
    granted = " ".join(part for part in requested if part != "offline_access")
    with transaction.atomic():
        connection, _ = TenantConnection.objects.get_or_create(client=client, organisation=organisation)
        token = _create_token(
            client=client,
            scope=granted,
            organisations=[organisation],
            auth_event_id=connection.auth_event_id,
            with_refresh=False,
        )
    return _response(token)


def revoke(*, client: OAuthClient, token: str) -> None:
    """Revoke a refresh token: every token of its authorisation chain dies, and the connections
    that authorisation made are removed (as Xero does). Unknown tokens are ignored (RFC 7009)."""
    found = Token.objects.filter(refresh_token=token, client=client).first() if token else None
    if found is None:
        found = Token.objects.filter(access_token=token, client=client).first() if token else None
    if found is None:
        return
    with transaction.atomic():
        Token.objects.filter(client=client, auth_event_id=found.auth_event_id).update(revoked=True)
        TenantConnection.objects.filter(client=client, auth_event_id=found.auth_event_id).delete()


# --- Bearer tokens on API calls -----------------------------------------------------------------


class BearerError(Exception):
    """Why a bearer token was refused; `expired` picks Xero's TokenExpired answer."""

    def __init__(self, *, expired: bool = False):
        super().__init__("token expired" if expired else "invalid token")
        self.expired = expired


def bearer_token(authorization: str, *, expire_before: dt.datetime | None = None) -> Token:
    """The live token of an `Authorization: Bearer ...` header. With `expire_before` set (the
    expire_tokens fault), tokens issued before that instant count as expired, so a client that
    refreshes gets going again."""
    kind, _, value = authorization.partition(" ")
    if kind.lower() != "bearer" or not value.strip():
        raise BearerError()
    token = Token.objects.select_related("client").filter(access_token=value.strip()).first()
    if token is None or token.revoked:
        raise BearerError()
    if token.expires_at <= _now() or (expire_before is not None and token.created_at <= expire_before):
        raise BearerError(expired=True)
    return token


def may_read(token: Token, resource: str) -> bool:
    return bool(RESOURCE_SCOPES[resource] & set(split_scope(token.scope)))


def connected_organisation(token: Token, tenant_id: str) -> Organisation | None:
    """The organisation named by `xero-tenant-id`, if this token's app is connected to it."""
    try:
        tenant = uuid.UUID(tenant_id)
    except (ValueError, AttributeError):
        return None
    connection = (
        TenantConnection.objects.select_related("organisation")
        .filter(client_id=token.client_id, organisation__tenant_id=tenant)
        .first()
    )
    return connection.organisation if connection else None

"""What the rest of the product calls to connect, check and disconnect Xero and Procore.

Views, the `connect` command and the sync engine stay thin and call these. Interface used by the
sync engine: `get_connection`, `connection_problem`, `mark_needs_reconnect`, `record_error`, and
`syncapp.connections.tokens.ConnectionTokens` for bearer tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from syncapp.connections import oauth
from syncapp.connections.crypto import TokenDecryptionError, decrypt, encrypt
from syncapp.connections.health import mark_needs_reconnect, record_error
from syncapp.connections.models import Connection, ConnectionStatus, Grant, Integration, Provider
from syncapp.connections.tokens import ConnectionTokens
from syncapp.connectors import directory
from syncapp.connectors.types import ConnectorError, NeedsReconnect, RateLimited, TransientError
from syncapp.core.audit import record
from syncapp.core.text import fit

__all__ = [
    "get_connection",
    "connection_problem",
    "mark_needs_reconnect",
    "record_error",
    "resolve_integration",
    "save_tokens",
    "choose_tenant",
    "available_tenants",
    "test_connection",
    "disconnect",
    "connect_headless",
    "connections_needing_reconnect",
]

T = TypeVar("T")

TENANT_WORD = {Provider.XERO: "organisation", Provider.PROCORE: "company"}


class IntegrationChoiceError(ValueError):
    """Which integration was meant is unclear (several exist and none was named)."""


@dataclass(frozen=True)
class TenantChoice:
    """A Xero organisation or a Procore company the connection could use."""

    id: str
    name: str
    xero_connection_id: str = ""


@dataclass(frozen=True)
class TestResult:
    ok: bool
    message: str


# --- Reads used by the sync engine and the pages ----------------------------------------------


def get_connection(*, integration: Integration, provider: str) -> Connection | None:
    return Connection.objects.filter(integration=integration, provider=provider).first()


def connection_problem(integration: Integration | None = None, *, admin: bool = False) -> str | None:
    """Why a sync of `integration` cannot run now, in words an admin understands; None when it can.
    Told to an Admin (`admin`), it says what to do; told to anyone else, that an Admin must do it.

    Without an integration (the Admins' banner on every page): only the connections that broke and
    need a reconnect, across all integrations; None when there are none.
    """
    if integration is None:
        return _reconnect_banner()
    problems = []
    for provider in (Provider.XERO, Provider.PROCORE):
        problem = _problem_of(get_connection(integration=integration, provider=provider), provider, admin=admin)
        if problem:
            problems.append(problem)
    return " ".join(problems) or None


def _problem_of(connection: Connection | None, provider: str, *, admin: bool = False) -> str | None:
    name = Provider(provider).label
    who = "" if admin else "an Admin must "
    if connection is None or connection.status == ConnectionStatus.DISCONNECTED:
        return f"{name} is not connected: {who}connect it on the Connections page."
    if connection.status == ConnectionStatus.NEEDS_RECONNECT:
        reason = connection.status_reason or "the connection was refused"
        return f"{name} needs reconnecting ({reason}): {who}reconnect it on the Connections page."
    if not connection.tenant_id:
        return f"No {name} {TENANT_WORD[provider]} is chosen yet: {who}pick one on the Connections page."
    return None


def _reconnect_banner() -> str | None:
    broken = list(connections_needing_reconnect().order_by("integration__name", "provider"))
    if not broken:
        return None
    several = Integration.objects.count() > 1
    parts = [
        (f"{c.integration.display_name}: " if several else "")
        + f"{c.get_provider_display()} needs reconnecting ({c.status_reason or 'the connection was refused'})."
        for c in broken
    ]
    return " ".join(parts)


def connections_needing_reconnect() -> QuerySet[Connection]:
    """For the Admins' banner: connections that are dead until someone reconnects them."""
    return Connection.objects.filter(status=ConnectionStatus.NEEDS_RECONNECT).select_related("integration")


def resolve_integration(*, name: str | None = None) -> Integration:
    """The named integration (created if new), else the only one, else a new one named `default`."""
    if name:
        integration, _ = Integration.objects.get_or_create(name=name)
        return integration
    integrations = list(Integration.objects.order_by("name")[:2])
    if len(integrations) == 1:
        return integrations[0]
    if not integrations:
        integration, _ = Integration.objects.get_or_create(name="default")
        return integration
    names = ", ".join(Integration.objects.order_by("name").values_list("name", flat=True))
    raise IntegrationChoiceError(f"There are several integrations ({names}): say which one.")


# --- Connecting -------------------------------------------------------------------------------


def save_tokens(
    *,
    integration: Integration,
    provider: str,
    tokens: oauth.TokenSet,
    grant: str = Grant.AUTHORIZATION_CODE,
    actor=None,
    tenant: TenantChoice | None = None,
) -> Connection:
    """Store a freshly granted token set (connect or reconnect) and mark the connection healthy."""
    with transaction.atomic():
        connection, created = Connection.objects.select_for_update().get_or_create(
            integration=integration, provider=provider
        )
        reconnect = not created and bool(connection.connected_at)
        connection.status = ConnectionStatus.CONNECTED
        connection.status_reason = ""
        # The old authorisation's errors: this grant is the fix they asked for (the audit log
        # keeps the needs-reconnect). Left, the card would warn "recent errors" for an hour.
        connection.last_error, connection.last_error_at = "", None
        connection.grant = grant
        connection.access_token_encrypted = encrypt(tokens.access_token)
        connection.refresh_token_encrypted = encrypt(tokens.refresh_token)
        connection.expires_at = tokens.expires_at
        connection.scope = tokens.scope
        connection.token_version = (connection.token_version or 0) + 1
        connection.refresh_claimed_until = None
        connection.refreshed_at = timezone.now()
        connection.connected_by = actor if actor is not None and actor.is_authenticated else None
        connection.connected_at = timezone.now()
        if tenant is not None:
            _set_tenant(connection, tenant)
        connection.save()
        name = Provider(provider).label
        record(
            action="connection.reconnected" if reconnect else "connection.connected",
            summary=f"{'Reconnected' if reconnect else 'Connected'} {name}"
            + (f" {TENANT_WORD[provider]} '{connection.tenant_name}'" if connection.tenant_name else ""),
            actor=actor,
            integration=integration,
            provider=provider,
            grant=grant,
        )
    return connection


def _set_tenant(connection: Connection, tenant: TenantChoice) -> None:
    connection.tenant_id = tenant.id
    connection.tenant_name = fit(Connection, "tenant_name", tenant.name)
    connection.xero_connection_id = tenant.xero_connection_id


def choose_tenant(connection: Connection, *, tenant: TenantChoice, actor=None) -> None:
    """Point the connection at one Xero organisation or Procore company."""
    _set_tenant(connection, tenant)
    Connection.objects.filter(pk=connection.pk).update(
        tenant_id=connection.tenant_id, tenant_name=connection.tenant_name,
        xero_connection_id=connection.xero_connection_id,
    )
    word = TENANT_WORD[connection.provider]
    record(
        action="connection.tenant_chosen",
        summary=f"Chose {connection.get_provider_display()} {word} '{tenant.name}'",
        actor=actor,
        integration=connection.integration,
        provider=connection.provider,
        tenant_id=tenant.id,
    )


def available_tenants(connection: Connection) -> list[TenantChoice]:
    """The organisations (Xero) or companies (Procore) this connection's token can reach."""
    if connection.provider == Provider.XERO:
        tenants = _with_token(connection, lambda token: directory.xero_tenants(access_token=token))
        return [TenantChoice(t.tenant_id, t.tenant_name, t.connection_id) for t in tenants
                if t.tenant_type in ("", "ORGANISATION")]
    # A service account sends the company it is connected to (Procore's regions require it).
    known = connection.tenant_id if connection.grant == Grant.CLIENT_CREDENTIALS else None
    companies = _with_token(connection, lambda token: directory.procore_companies(access_token=token, company_id=known))
    return [TenantChoice(str(c.id), c.name) for c in companies if c.is_active]


def pick_tenant_automatically(connection: Connection, choices: list[TenantChoice], *, actor=None) -> bool:
    """Keep the current tenant if still reachable, or take the only one. False: a person must pick."""
    if connection.tenant_id and any(c.id == connection.tenant_id for c in choices):
        current = next(c for c in choices if c.id == connection.tenant_id)
        choose_tenant(connection, tenant=current, actor=actor)  # refreshes the name and Xero connection id
        return True
    if len(choices) == 1:
        choose_tenant(connection, tenant=choices[0], actor=actor)
        return True
    if connection.tenant_id:
        # The previous tenant is gone from this authorisation: do not keep syncing a stale id.
        Connection.objects.filter(pk=connection.pk).update(tenant_id="", tenant_name="", xero_connection_id="")
        connection.tenant_id = connection.tenant_name = connection.xero_connection_id = ""
    return False


def connect_headless(*, integration: Integration, provider: str, company_id: str | None = None) -> Connection:
    """Client-credentials connect for servers without a browser. Raises GrantRefused or ConnectorError."""
    tokens = oauth.client_credentials(provider=provider)
    if provider == Provider.XERO:
        tenants = directory.xero_tenants(access_token=tokens.access_token)
        choices = [TenantChoice(t.tenant_id, t.tenant_name, t.connection_id) for t in tenants]
        if len(choices) != 1:
            raise ConnectorError(
                f"A Xero custom connection should reach exactly one organisation; this one reaches {len(choices)}."
            )
        tenant = choices[0]
    else:
        companies = directory.procore_companies(access_token=tokens.access_token, company_id=company_id)
        choices = [TenantChoice(str(c.id), c.name) for c in companies if c.is_active]
        tenant = _pick_company(choices, company_id)
    return save_tokens(
        integration=integration, provider=provider, tokens=tokens, grant=Grant.CLIENT_CREDENTIALS, tenant=tenant
    )


def _pick_company(choices: list[TenantChoice], company_id: str | None) -> TenantChoice:
    if company_id:
        for choice in choices:
            if choice.id == str(company_id):
                return choice
        raise ConnectorError(f"The service account cannot see Procore company {company_id}.")
    if len(choices) == 1:
        return choices[0]
    if not choices:
        raise ConnectorError("The service account cannot see any active Procore company.")
    listed = ", ".join(f"{c.id} ({c.name})" for c in choices)
    raise ConnectorError(f"The service account sees several Procore companies; pass --company-id, one of: {listed}")


# --- Health -----------------------------------------------------------------------------------


def test_connection(connection: Connection, *, actor=None) -> TestResult:
    """One cheap read (Xero: the organisation; Procore: one project of the company), recorded on the row."""
    name = connection.get_provider_display()
    word = TENANT_WORD[connection.provider]
    try:
        if not connection.tenant_id:
            raise ConnectorError(f"No {name} {word} is chosen yet.")
        if connection.provider == Provider.XERO:
            org = _read_through_client(connection, lambda client: client.organisation())
            message = f"{name} answered: organisation '{org.name}'."
        else:
            projects = _read_through_client(connection, lambda client: client.project_count())
            seen = "" if projects is None else f" ({projects} project{'s' * (projects != 1)} visible)"
            message = f"{name} answered: company '{connection.tenant_name}'{seen}."
    except NeedsReconnect as exc:
        result = TestResult(False, exc.message)
    except RateLimited as exc:  # a spent 429 budget is not the connection's; a 503 the client's health recorded
        result = TestResult(False, exc.message)
    except TransientError as exc:  # the client's health has recorded it
        result = TestResult(False, exc.message)
    except ConnectorError as exc:  # no tenant yet, or a refusal the client does not count against the connection
        record_error(connection, message=exc.message)
        result = TestResult(False, exc.message)
    else:  # the client's health has recorded the success
        result = TestResult(True, message)
    record(
        action="connection.tested",
        summary=f"Tested {name}: {'OK' if result.ok else 'failed'}",
        actor=actor,
        integration=connection.integration,
        provider=connection.provider,
        ok=result.ok,
        message=result.message,
    )
    return result


def _read_through_client(connection: Connection, read: Callable[[Any], T]) -> T:
    """The test read, through the web request's client from the one client factory: it renews the
    token on a 401 and never sleeps on a rate limit (RateLimited says until when)."""
    from syncapp.sync.clients import interactive_client  # local: sync.clients imports this module

    try:
        with interactive_client(connection) as client:
            return read(client)
    except NeedsReconnect as exc:
        # e.g. Procore's 403 "App is not connected to this company", or a refused refresh.
        connection.refresh_from_db(fields=["status"])
        if connection.status != ConnectionStatus.NEEDS_RECONNECT:
            mark_needs_reconnect(connection, reason=exc.message)
        raise


def _with_token(connection: Connection, call: Callable[[str], T]) -> T:
    """Run `call(access_token)`, renewing the token once if the API answers 401."""
    tokens = ConnectionTokens(connection)
    token = tokens.access_token()
    try:
        try:
            return call(token)
        except directory.Unauthorized:
            token = tokens.refresh_after_unauthorized(token)
            return call(token)
    except directory.Unauthorized:
        reason = "the API refuses the token even after a refresh"
        mark_needs_reconnect(connection, reason=reason)
        raise NeedsReconnect(f"{connection.get_provider_display()} needs reconnecting: {reason}") from None
    except NeedsReconnect as exc:
        # e.g. Procore's 403 "App is not connected to this company".
        connection.refresh_from_db(fields=["status"])
        if connection.status != ConnectionStatus.NEEDS_RECONNECT:
            mark_needs_reconnect(connection, reason=exc.message)
        raise


# --- Disconnecting ----------------------------------------------------------------------------


def disconnect(connection: Connection, *, actor=None) -> list[str]:
    """Revoke the tokens at the provider (Xero: also remove the organisation connection), then forget
    them here. Returns warnings about remote steps that failed; the local disconnect always happens."""
    name = connection.get_provider_display()
    row = Connection.objects.get(pk=connection.pk)
    try:
        warnings = _revoke_remotely(row, name)
    except TokenDecryptionError as exc:  # keys changed: nothing to revoke with, forget them anyway
        warnings = [f"The stored {name} tokens were not revoked at {name}: {exc}"]
    Connection.objects.filter(pk=row.pk).update(
        status=ConnectionStatus.DISCONNECTED,
        status_reason="",
        access_token_encrypted="",
        refresh_token_encrypted="",
        expires_at=None,
        token_version=F("token_version") + 1,
        refresh_claimed_until=None,
    )
    record(
        action="connection.disconnected",
        summary=f"Disconnected {name}" + (f" {TENANT_WORD[row.provider]} '{row.tenant_name}'" * bool(row.tenant_name)),
        actor=actor,
        integration=row.integration,
        provider=row.provider,
        warnings=warnings,
    )
    return warnings


def _revoke_remotely(row: Connection, name: str) -> list[str]:
    """Revoke the connection's tokens at the provider; warnings for the steps that failed."""
    warnings: list[str] = []
    access, refresh_token = decrypt(row.access_token_encrypted), decrypt(row.refresh_token_encrypted)
    if row.provider == Provider.XERO and row.xero_connection_id and row.grant == Grant.AUTHORIZATION_CODE:
        try:
            _with_token(row, lambda token: directory.xero_remove_tenant(
                access_token=token, connection_id=row.xero_connection_id))
        except ConnectorError as exc:
            warnings.append(f"Could not remove the Xero organisation connection: {exc.message}")
        row.refresh_from_db()
        access, refresh_token = decrypt(row.access_token_encrypted), decrypt(row.refresh_token_encrypted)
    # Xero revokes by refresh token (which also kills its access tokens); Procore by access token.
    to_revoke = [("refresh_token", refresh_token)] if row.provider == Provider.XERO else [("access_token", access)]
    if row.provider == Provider.PROCORE and refresh_token:
        to_revoke.append(("refresh_token", refresh_token))
    for hint, token in to_revoke:
        if not token:
            continue
        try:
            oauth.revoke(provider=row.provider, token=token, token_type_hint=hint)
        except (ConnectorError, oauth.GrantRefused) as exc:
            warnings.append(f"Could not revoke the {name} token: {exc}")
    return warnings

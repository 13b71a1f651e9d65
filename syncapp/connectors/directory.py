"""The plain API calls made while connecting, with a raw access token and no stored connection yet:
Xero's tenant list, Xero's tenant-connection removal, and Procore's companies. The connections app
calls them; the OAuth and the stored tokens stay there. ("Test connection" reads through the full
clients of `syncapp.sync.clients`.)

Procore-Company-Id: every company-scoped Procore call sends it; /rest/v1.0/companies sends it when
the company is known (a service account must, in Procore's regions).

Small httpx calls, not the full clients (no pacing, no retries: a person is waiting and can click
again). Each answer becomes a typed object from `syncapp.connectors.types`; each error is one of its
error classes (`_check`), with a short message free of tokens.
"""

from __future__ import annotations

import httpx
from django.conf import settings

from syncapp.connectors.procore import company_from_json, says_reconnect
from syncapp.connectors.types import (
    ConnectorError,
    NeedsReconnect,
    ProcoreCompany,
    TransientError,
    XeroTenant,
)


class Unauthorized(ConnectorError):
    """401: the access token was refused. The caller refreshes once and tries again."""


def _get(url: str, *, token: str, headers: dict | None = None) -> httpx.Response:
    try:
        return httpx.get(
            url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json", **(headers or {})},
            timeout=settings.HTTP_TIMEOUT,
        )
    except httpx.HTTPError as exc:
        raise TransientError(f"Could not reach {httpx.URL(url).host} ({type(exc).__name__}).") from None


def _check(response: httpx.Response, *, service: str) -> None:
    """The error table of these calls: 401 -> Unauthorized (the caller refreshes once), 403 ->
    NeedsReconnect when the app is not connected, else ConnectorError; 429 and 5xx ->
    TransientError (try again shortly); any other error -> ConnectorError with the API's words."""
    status = response.status_code
    if status < 400:
        return
    if status == 401:
        raise Unauthorized(f"{service} refused the access token (401).", status=401)
    if status == 403:
        detail = _error_text(response)
        if says_reconnect(detail):
            raise NeedsReconnect(f"{service} says the app is not connected to this company: {detail}"[:300], status=403)
        raise ConnectorError(f"{service} refused access (403): {detail}"[:300], status=403)
    if status == 429 or status >= 500:
        raise TransientError(f"{service} answered {status}; try again shortly.", status=status)
    raise ConnectorError(f"{service} answered {status}: {_error_text(response)}"[:300], status=status)


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        for key in ("errors", "error", "Detail", "Message", "message", "Title"):
            if body.get(key):
                return str(body[key])[:200]
    return str(body)[:200]


# --- Xero -------------------------------------------------------------------------------------


def xero_tenants(*, access_token: str) -> list[XeroTenant]:
    """The organisations this token may reach (GET /connections)."""
    response = _get(settings.XERO_CONNECTIONS_URL, token=access_token)
    _check(response, service="Xero")
    return [
        XeroTenant(
            connection_id=str(row.get("id", "")),
            tenant_id=str(row.get("tenantId", "")),
            tenant_name=str(row.get("tenantName") or ""),
            tenant_type=str(row.get("tenantType") or ""),
        )
        for row in response.json()
    ]


def xero_remove_tenant(*, access_token: str, connection_id: str) -> None:
    """DELETE /connections/{id}: the app loses access to that organisation."""
    url = f"{settings.XERO_CONNECTIONS_URL}/{connection_id}"
    try:
        response = httpx.delete(url, headers={"Authorization": f"Bearer {access_token}"}, timeout=settings.HTTP_TIMEOUT)
    except httpx.HTTPError as exc:
        raise TransientError(f"Could not reach Xero ({type(exc).__name__}).") from None
    if response.status_code == 404:
        return  # already gone: the goal is reached
    _check(response, service="Xero")


# --- Procore ----------------------------------------------------------------------------------


# oauth/oauth_client_credentials.md, "Using Developer Managed Service Accounts with MPR": a service
# account "must include the Procore-Company-Id request header when making calls to the
# /rest/v1.0/me or /rest/v1.0/companies endpoints" (their operations' notes exempt everyone else).
COMPANY_ID_NEEDED = (
    "Procore needs the company id to list companies for a service account (Multiple Procore Regions): "
    "pass --company-id ID, the number after app.procore.com/ in the address bar when you are in the company."
)


def procore_companies(*, access_token: str, company_id: str | int | None = None) -> list[ProcoreCompany]:
    """The companies the connected user (or service account) can see. With `company_id` known (a
    service account's --company-id, a reconnection) the call carries Procore-Company-Id, as a
    service account in Procore's regions must send it."""
    headers = {"Procore-Company-Id": str(company_id)} if company_id else None
    response = _get(f"{settings.PROCORE_API_URL}/rest/v1.0/companies", token=access_token, headers=headers)
    if response.status_code == 400 and not company_id and "procore-company-id" in _error_text(response).lower():
        raise ConnectorError(COMPANY_ID_NEEDED, status=400)
    _check(response, service="Procore")
    return [company_from_json(row) for row in response.json()]

"""The Connections pages: status of each integration's Xero and Procore connections, and the
admin actions (connect, pick organisation/company, test, reconnect, disconnect).

Thin: look things up, call `services`/`oauth`, choose a page or redirect. Finance users see the
status; every action is Admin-only on the server. No page ever shows a token.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from syncapp.connections import oauth, services
from syncapp.connections.models import Connection, ConnectionStatus, Integration, Provider
from syncapp.connectors.types import ConnectorError
from syncapp.core.roles import admin_required, finance_required, is_admin
from syncapp.dashboard.views.common import page_integration, remembered_integration, show_integration

logger = logging.getLogger(__name__)

SESSION_KEY = "oauth_flow_{provider}"


@require_GET
@finance_required
def index(request: HttpRequest) -> HttpResponse:
    """The chosen integration's two connections (the switcher picks another)."""
    _, chosen = page_integration(request)
    integrations = list(
        Integration.objects.filter(pk=chosen.pk if chosen else None).prefetch_related("connections__connected_by")
    )
    rows = []
    for integration in integrations:
        found = {c.provider: c for c in integration.connections.all()}
        rows.append(
            {
                "integration": integration,
                "connections": [(p, found.get(p.value)) for p in (Provider.XERO, Provider.PROCORE)],
                "problem": services.connection_problem(integration, admin=is_admin(request.user)),
            }
        )
    broken = list(services.connections_needing_reconnect()) if is_admin(request.user) else []
    return render(request, "connections/index.html", {"rows": rows, "broken": broken, "providers": Provider})


@require_POST
@admin_required
def connect(request: HttpRequest, provider: str) -> HttpResponse:
    """Start the authorization code flow; state and the PKCE verifier wait in the session."""
    name = request.POST.get("integration") or request.GET.get("integration") or None
    longest = Integration._meta.get_field("name").max_length
    if name and len(name) > longest:
        messages.error(request, f"An integration name has at most {longest} characters.")
        return redirect("connections")
    if name is None:  # the integration this session switched to, if it chose one (else no guess)
        name = getattr(remembered_integration(request), "name", None)
    try:
        integration = services.resolve_integration(name=name)
        url, state, verifier = oauth.start_authorization(provider=provider)
    except (services.IntegrationChoiceError, oauth.GrantRefused) as exc:
        messages.error(request, str(exc))
        return redirect("connections")
    request.session[SESSION_KEY.format(provider=provider)] = {
        "state": state,
        "verifier": verifier,
        "integration": integration.pk,
    }
    return redirect(url)


@require_GET
@admin_required
def callback(request: HttpRequest, provider: str) -> HttpResponse:
    """The provider sends the admin back here with `code` and `state`."""
    label = Provider(provider).label
    flow = request.session.pop(SESSION_KEY.format(provider=provider), None)  # single use, whatever happens
    state = request.GET.get("state", "")
    if not flow or not state or not constant_time_compare(state, flow["state"]):
        return _refused(request, label, "The answer from the sign-in page could not be matched to a connect "
                                        "request you started here (missing or wrong state). Start again.")
    if request.GET.get("error"):
        error = request.GET.get("error_description") or request.GET["error"]
        return _refused(request, label, f"{label} did not grant access: {error[:200]}")
    code = request.GET.get("code", "")
    integration = Integration.objects.filter(pk=flow["integration"]).first()
    if not code or integration is None:
        return _refused(request, label, "The sign-in answer had no authorization code. Start again.")
    try:
        tokens = oauth.exchange_code(provider=provider, code=code, code_verifier=flow.get("verifier", ""))
    except oauth.GrantRefused as exc:
        return _refused(request, label, f"{label} refused the authorization code: {exc.reason}.")
    except ConnectorError as exc:
        return _refused(request, label, exc.message, status=502)
    connection = services.save_tokens(integration=integration, provider=provider, tokens=tokens, actor=request.user)
    show_integration(request, integration)
    return _after_connect(request, connection)


def _back(connection: Connection) -> HttpResponse:
    """To the Connections page of the connection's integration (named in the URL when several exist)."""
    if Integration.objects.count() < 2:
        return redirect("connections")
    query = urlencode({"integration": connection.integration.name})
    return redirect(f"{reverse('connections')}?{query}")


def _after_connect(request: HttpRequest, connection: Connection) -> HttpResponse:
    try:
        choices = services.available_tenants(connection)
    except ConnectorError as exc:
        messages.error(request, f"Connected, but could not list what it can reach: {exc.message}")
        return _back(connection)
    if services.pick_tenant_automatically(connection, choices, actor=request.user):
        messages.success(request, f"Connected {connection.get_provider_display()}: {connection.tenant_name}.")
        return _back(connection)
    if not choices:
        word = services.TENANT_WORD[connection.provider]
        messages.error(request, f"Connected, but this sign-in gives access to no {word}.")
        return _back(connection)
    return redirect("connections-choose", pk=connection.pk)


def _refused(request: HttpRequest, label: str, message: str, *, status: int = 400) -> HttpResponse:
    return render(request, "connections/refused.html", {"label": label, "message": message}, status=status)


@require_http_methods(["GET", "POST"])
@admin_required
def choose(request: HttpRequest, pk: int) -> HttpResponse:
    """Pick the Xero organisation or Procore company when the sign-in reaches several."""
    connection = get_object_or_404(Connection.objects.select_related("integration"), pk=pk)
    show_integration(request, connection.integration)
    if connection.status != ConnectionStatus.CONNECTED:
        messages.error(request, "Connect first, then choose.")
        return _back(connection)
    try:
        choices = services.available_tenants(connection)
    except ConnectorError as exc:
        messages.error(request, exc.message)
        return _back(connection)
    if request.method == "POST":
        wanted = request.POST.get("tenant", "")
        chosen = next((c for c in choices if c.id == wanted), None)
        if chosen is None:
            messages.error(request, "Choose one of the listed options.")
        else:
            services.choose_tenant(connection, tenant=chosen, actor=request.user)
            messages.success(request, f"{connection.get_provider_display()} now uses {chosen.name}.")
            return _back(connection)
    word = services.TENANT_WORD[connection.provider]
    return render(request, "connections/choose.html", {"connection": connection, "choices": choices, "word": word})


@require_POST
@admin_required
def test(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(Connection.objects.select_related("integration"), pk=pk)
    result = services.test_connection(connection, actor=request.user)
    (messages.success if result.ok else messages.error)(request, result.message)
    return _back(connection)


@require_POST
@admin_required
def disconnect(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(Connection.objects.select_related("integration"), pk=pk)
    warnings = services.disconnect(connection, actor=request.user)
    messages.success(request, f"Disconnected {connection.get_provider_display()}.")
    for warning in warnings:
        messages.warning(request, warning)
    return _back(connection)

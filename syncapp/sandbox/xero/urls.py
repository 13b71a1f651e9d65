"""URL map of the sandbox Xero, mounted at /sandbox/xero/ with the real services' paths.

Xero's paths are case-insensitive and xero-python asks for `/Connections` and `/Payments`, so
each API path is served both as Xero spells it and in lower case.
"""

from django.urls import path

from syncapp.sandbox.xero import api_views, identity_views

app_name = "sandbox_xero"


def _both_cases(route: str, view, name: str) -> list:
    routes = [path(route, view, name=name)]
    if route.lower() != route:
        routes.append(path(route.lower(), view))
    return routes


urlpatterns = [
    path("identity/connect/authorize", identity_views.authorize, name="authorize"),
    path("identity/connect/token", identity_views.token, name="token"),
    path("identity/connect/revocation", identity_views.revocation, name="revocation"),
    *_both_cases("Connections", identity_views.connections, "connections"),
    *_both_cases("Connections/<str:connection_id>", identity_views.connection, "connection"),
    *_both_cases("api.xro/2.0/Organisation", api_views.organisation, "organisation"),
    *_both_cases("api.xro/2.0/Contacts", api_views.contacts, "contacts"),
    *_both_cases("api.xro/2.0/Contacts/<str:contact_id>", api_views.contacts, "contact"),
    *_both_cases("api.xro/2.0/Invoices", api_views.invoices, "invoices"),
    *_both_cases("api.xro/2.0/Invoices/<str:invoice_id>", api_views.invoices, "invoice"),
    *_both_cases("api.xro/2.0/Payments", api_views.payments, "payments"),
    *_both_cases("api.xro/2.0/Payments/<str:payment_id>", api_views.payments, "payment"),
    # Sandbox control, not part of Xero.
    path("limits/reset", api_views.reset_limits, name="reset-limits"),
]

"""Mappings (Admins): Xero contacts and their Procore vendors; bills waiting for a commitment."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from syncapp.core.roles import admin_required
from syncapp.dashboard.views.common import page_integration


@admin_required
def vendor_mappings(request: HttpRequest) -> HttpResponse:
    integrations, integration = page_integration(request)
    return render(request, "dashboard/mappings.html", {"integrations": integrations, "integration": integration})


@admin_required
def bill_mappings(request: HttpRequest) -> HttpResponse:
    integrations, integration = page_integration(request)
    return render(request, "dashboard/mappings.html", {"integrations": integrations, "integration": integration})

"""The currency of the Procore company, for bills checked against a commitment that states none.

Procore's projects carry no currency at all (neither the projects' list nor show schema has one),
and a single-currency company (the common case) has none on its commitments or subcontractor
invoices either (they carry `currency_configuration` only when the company uses currencies). Such
a company is taken to work in the Xero organisation's base currency (`Organisation.BaseCurrency`,
read once and kept on the integration's settings), unless an Admin set another on the Settings
page.
"""

from __future__ import annotations

from dataclasses import dataclass

from syncapp.connections.models import Integration
from syncapp.connectors.protocols import XeroApi
from syncapp.core.text import fit
from syncapp.sync.models import SyncSettings


@dataclass(frozen=True)
class CompanyCurrency:
    code: str  # "" when not known yet (no run has read the Xero organisation)
    source: str  # how a person reads where it comes from


def company_currency(integration: Integration) -> CompanyCurrency:
    settings = SyncSettings.objects.filter(integration=integration).first()
    if settings and settings.company_currency:
        return CompanyCurrency(settings.company_currency, "set by an Admin on the Settings page")
    if settings and settings.xero_base_currency:
        return CompanyCurrency(settings.xero_base_currency, "the Xero organisation's base currency")
    return CompanyCurrency("", "the next run reads the Xero organisation's base currency")


def remember_base_currency(integration: Integration, xero: XeroApi) -> None:
    """Read the Xero organisation's base currency once (a base currency cannot change once the
    organisation has transactions, so one read is enough)."""
    if SyncSettings.objects.filter(integration=integration).exclude(xero_base_currency="").exists():
        return
    base = fit(SyncSettings, "xero_base_currency", (xero.organisation().base_currency or "").strip().upper())
    if base:
        settings, _ = SyncSettings.objects.get_or_create(integration=integration)
        SyncSettings.objects.filter(pk=settings.pk).update(xero_base_currency=base)

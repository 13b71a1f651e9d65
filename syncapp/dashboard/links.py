"""Links that open a payment's records in Xero's and Procore's own web apps.

Base URLs are settings (XERO_WEB_URL, PROCORE_WEB_URL), read per call, so the sandbox's pages
stand in for the real apps in the demo and the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.urls import reverse

from syncapp.sync.models import Payment
from syncapp.sync.reasons import BILL_REASONS, VENDOR_REASONS


@dataclass(frozen=True)
class ExternalLink:
    label: str
    url: str


def external_links(*, payment: Payment) -> list[ExternalLink]:
    links = []
    if payment.xero_invoice_id:
        links.append(
            ExternalLink(
                "Open the bill in Xero",
                f"{settings.XERO_WEB_URL}/AccountsPayable/View.aspx?InvoiceID={quote(payment.xero_invoice_id)}",
            )
        )
    if payment.procore_project_id and payment.procore_commitment_id:
        # The commitment's page lists its payments issued, ours among them once sent.
        links.append(
            ExternalLink(
                "Open the commitment in Procore",
                f"{settings.PROCORE_WEB_URL}/{payment.procore_project_id}/project/commitments/"
                f"{payment.procore_commitment_id}",
            )
        )
    return links


def fix_link(*, payment: Payment) -> ExternalLink | None:
    """Where in the dashboard the cause of a blocked payment is fixed, if there is such a place."""
    integration = quote(payment.integration.name)
    if payment.reason_code in VENDOR_REASONS and payment.xero_contact_id:
        url = reverse("mappings")
        return ExternalLink(
            "Link the vendor in Mappings", f"{url}?integration={integration}&contact={quote(payment.xero_contact_id)}"
        )
    if payment.reason_code in BILL_REASONS and payment.xero_invoice_id:
        url = reverse("mapping-bills")
        return ExternalLink(
            "Pick the commitment in Mappings", f"{url}?integration={integration}&bill={quote(payment.xero_invoice_id)}"
        )
    return None

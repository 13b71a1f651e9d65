"""Mappings pickers: a bill's commitment picker offers its vendor's commitments first (those on the
bill's project before the others), a search by number narrows it (the htmx search answers with the
options alone), a linked bill shows its commitment's number and title and leaves "needs attention";
the contacts "needs attention" lists only those with something to fix, and a name suggestion says
whether the names are the same or only a close match."""

from __future__ import annotations

import itertools
import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from syncapp.dashboard import procore_catalog
from syncapp.sync.matching import name_likeness
from syncapp.sync.models import LinkHow, Payment, PaymentState, VendorLink, XeroBillRecord, XeroContactRecord
from tests.dashboard.conftest import World, make_payment

ACME, OTHER = 501, 502
NUMBERS = itertools.count(600)


def choice(project_id: int, project: str, commitment_id: int, number: str, title: str, vendor_id: int):
    label = f"{project} · {number} {title} (no invoice)"
    return procore_catalog.Choice(
        f"{project_id}:{commitment_id}:", label, vendor_id, project_id, project, number, title
    )


CHOICES = [
    choice(5, "Harbour Tower", 70, "SC-070", "Formwork", ACME),
    choice(5, "Harbour Tower", 71, "SC-071", "Scaffolding", OTHER),
    choice(6, "Riverside", 80, "SC-080", "Concrete", ACME),
    choice(6, "Riverside", 81, "SC-081", "Glazing", OTHER),
    choice(7, "Airport", 90, "SC-090", "Steel", OTHER),
]


def plant_acme_bill(integration) -> None:
    """A bill of Acme on Riverside waiting for its commitment, Acme linked, Procore's list cached."""
    XeroContactRecord.objects.create(integration=integration, contact_id="c-acme", name="Acme Pty Ltd")
    VendorLink.objects.create(
        integration=integration, xero_contact_id="c-acme", procore_vendor_id=ACME, vendor_name="Acme", how="manual"
    )
    XeroBillRecord.objects.create(
        integration=integration, invoice_id="inv-acme", invoice_number="INV-ACME", contact_name="Acme Pty Ltd"
    )
    make_payment(
        integration,
        50,
        xero_invoice_id="inv-acme",
        invoice_number="INV-ACME",
        xero_contact_id="c-acme",
        vendor_name="Acme Pty Ltd",
        project_name="Riverside",
        state=PaymentState.BLOCKED,
        reason_code="invoice_not_found",
        message="No subcontractor invoice matches bill INV-ACME.",
    )
    cache.set(procore_catalog._key(integration, "commitments"), CHOICES, 600)


@pytest.fixture
def bill(world: World):
    plant_acme_bill(world.integration)
    yield "inv-acme"
    procore_catalog.forget(world.integration)


def options(html: str) -> list[str]:
    return re.findall(r'<option value="(\d+:\d+:\d*)">', html)


def test_a_bills_picker_offers_its_vendors_commitments_on_its_project_first(admin_client, bill):
    html = admin_client.get(reverse("mapping-bills")).content.decode()
    assert options(html) == ["6:80:", "5:70:"]  # Acme on Riverside, then Acme elsewhere; no other vendor
    assert "3 more: search by number to see other vendors' commitments" in html


def test_a_search_by_number_narrows_the_picker_and_reaches_other_vendors(admin_client, bill):
    url = reverse("mapping-bills")
    answer = admin_client.get(url, {"bill": bill, "q": "081"}, headers={"HX-Request": "true"})
    html = answer.content.decode()
    assert options(html) == ["6:81:"]
    assert "<html" not in html and 'label="Other vendors"' in html  # the options alone, for htmx
    assert options(
        admin_client.get(url, {"bill": bill, "q": "sc-07"}, headers={"HX-Request": "true"}).content.decode()
    ) == [
        "5:70:",
        "5:71:",
    ]
    nothing = admin_client.get(url, {"bill": bill, "q": "zzz"}, headers={"HX-Request": "true"}).content.decode()
    assert options(nothing) == [] and "No commitment matches" in nothing
    # Without JavaScript the search form reloads the page with the bill's picker narrowed.
    assert options(admin_client.get(url, {"bill": bill, "q": "090"}).content.decode()) == ["7:90:"]


def test_a_linked_bill_shows_its_commitments_number_and_title_and_leaves_needs_attention(admin_client, bill):
    answer = admin_client.post(reverse("mapping-bill-link"), {"xero_invoice_id": bill, "choice": "6:80:"}, follow=True)
    html = answer.content.decode()
    assert "Bill linked to SC-080 Concrete" in html
    attention = html.split('id="b-h"')[1].split('id="bl-h"')[0]
    assert "INV-ACME" not in attention and "Every bill has its commitment" in attention
    linked = html.split('id="bl-h"')[1]
    assert "INV-ACME" in linked and "SC-080 Concrete" in linked and "#80" not in linked


def test_when_procore_cannot_list_commitments_the_bills_page_says_why_and_still_lists_the_bills(
    admin_client, bill, monkeypatch
):
    def unavailable(integration):
        raise procore_catalog.CatalogUnavailable("Procore did not answer: try again in a minute.")

    monkeypatch.setattr(procore_catalog, "commitment_choices", unavailable)
    html = admin_client.get(reverse("mapping-bills")).content.decode()
    assert "Procore did not answer: try again in a minute." in html
    assert "INV-ACME" in html and options(html) == []


def test_a_linked_bill_whose_commitment_procore_no_longer_lists_is_shown_by_its_id(admin_client, bill):
    admin_client.post(reverse("mapping-bill-link"), {"xero_invoice_id": bill, "choice": "6:80:"})
    cache.set(procore_catalog._key(bill_integration(), "commitments"), [c for c in CHOICES if c.value != "6:80:"], 600)
    linked = admin_client.get(reverse("mapping-bills")).content.decode().split('id="bl-h"')[1]
    assert "INV-ACME" in linked and "commitment #80" in linked


def bill_integration():
    return XeroBillRecord.objects.get(invoice_id="inv-acme").integration


def test_only_admins_may_search_the_picker(finance_client, bill):
    answer = finance_client.get(reverse("mapping-bills"), {"bill": bill, "q": "08"}, headers={"HX-Request": "true"})
    assert answer.status_code == 403


def contact(world: World, contact_id: str, name: str, *, link: dict | None = None, blocked: int = 0) -> None:
    XeroContactRecord.objects.create(integration=world.integration, contact_id=contact_id, name=name, is_supplier=True)
    if link is not None:
        VendorLink.objects.create(integration=world.integration, xero_contact_id=contact_id, **link)
    for _ in range(blocked):
        make_payment(
            world.integration,
            next(NUMBERS),
            xero_contact_id=contact_id,
            vendor_name=name,
            state=PaymentState.BLOCKED,
            reason_code="vendor_suggestion" if link else "vendor_not_linked",
        )


def test_needs_attention_lists_only_contacts_with_something_to_fix(admin_client, world: World):
    contact(world, "c-quiet", "Quiet Supplier")  # no link, nothing blocked: nothing to fix
    contact(world, "c-waiting", "Waiting Supplier", blocked=1)  # payments wait for a vendor
    linked = {"procore_vendor_id": 1, "vendor_name": "Linked Ltd", "how": LinkHow.MANUAL}
    contact(world, "c-linked", "Linked Ltd", link=linked, blocked=1)  # goes on the next run
    suggested = {"procore_vendor_id": 2, "vendor_name": "Near Name", "how": LinkHow.NAME_SUGGESTION, "confirmed": False}
    contact(world, "c-suggested", "Near Name", link=suggested)
    html = admin_client.get(reverse("mappings")).content.decode()
    assert "Waiting Supplier" in html and "Near Name" in html
    assert "Quiet Supplier" not in html and "c-linked" not in html
    everything = admin_client.get(reverse("mappings"), {"show": "all"}).content.decode()
    assert "Quiet Supplier" in everything and "c-linked" in everything


def test_a_close_name_is_called_a_close_match_not_the_same_name(admin_client, world: World):
    suggested = {"procore_vendor_id": 3, "vendor_name": "Smith and Jones", "how": LinkHow.NAME_SUGGESTION}
    contact(world, "c-amp", "Smith & Jones", link={**suggested, "confirmed": False}, blocked=1)
    html = admin_client.get(reverse("mappings")).content.decode()
    assert "Suggested: close match: &#x27;Smith &amp; Jones&#x27; vs &#x27;Smith and Jones&#x27;" in html
    assert "same name" not in html.lower()
    payment = Payment.objects.get(xero_contact_id="c-amp")
    page = admin_client.get(reverse("payment", args=[payment.pk])).content.decode()
    assert "Matched by name · unconfirmed" in page  # the vendor's pill on the payment's page
    assert "same name" not in page.lower()


def test_name_likeness_says_same_name_only_for_the_same_name():
    assert name_likeness("ACME  Builders", "Acme Builders") == "same name"
    assert name_likeness("A & B", "A and B") == "close match: 'A & B' vs 'A and B'"


def test_the_catalog_gives_each_choice_its_commitments_number_title_project_and_invoice():
    from syncapp.connectors.types import ProcoreCommitment, ProcoreProject, ProcoreRequisition

    class Procore:  # the connector's typed answers (see syncapp/connectors/types.py)
        def projects(self):
            return [ProcoreProject(id=6, name="Riverside")]

        def commitments(self, project_id):
            return [ProcoreCommitment(80, 6, "WorkOrderContract", "SC-080", "Concrete", "approved", ACME)]

        def requisitions(self, *, project_id):
            return [
                ProcoreRequisition(id=3, project_id=6, commitment_id=80, number=2, invoice_number="", status="draft")
            ]

    bare, with_invoice = procore_catalog._choices(Procore())
    assert (bare.value, bare.project_name, bare.short) == ("6:80:", "Riverside", "SC-080 Concrete")
    assert (with_invoice.value, with_invoice.short) == ("6:80:3", "SC-080 Concrete · invoice 2")
    assert bare.vendor_id == with_invoice.vendor_id == ACME

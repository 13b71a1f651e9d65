"""The failure queue's groups are titled by their reason, not by one payment's message, and say
how many payments they hold and how much, per currency."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from syncapp.sync.models import PaymentState
from tests.dashboard.conftest import make_payment

pytestmark = pytest.mark.django_db


def block_three_unapproved_bills(world) -> None:
    for n, (invoice, amount, currency) in enumerate(
        [("INV-A", "100.00", "AUD"), ("INV-B", "250.50", "AUD"), ("INV-C", "80.00", "NZD")], start=30
    ):
        make_payment(
            world.integration,
            n,
            invoice_number=invoice,
            amount=Decimal(amount),
            currency_code=currency,
            state=PaymentState.BLOCKED,
            reason_code="bill_not_approved",
            message=f"Bill {invoice} is draft in Xero, not approved.",
            fix=f"Approve bill {invoice} in Xero, then run the sync again.",
        )


def group_head(html: str, title: str) -> str:
    head = re.search(r'<div class="group-head">.*?' + re.escape(title) + r".*?</p>", html, re.S).group(0)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", head)).strip()


def test_finance_may_not_open_the_failure_queue(finance_client, world):
    assert finance_client.get(reverse("failures")).status_code == 403


def test_a_group_of_three_is_titled_by_its_reason_with_count_and_totals_per_currency(admin_client, world):
    block_three_unapproved_bills(world)
    html = admin_client.get(reverse("failures")).content.decode()
    head = group_head(html, "Bill not approved in Xero")
    assert "3 payments · 350.50 AUD + 80.00 NZD" in head
    assert "INV-A" not in head and "INV-B" not in head and "INV-C" not in head  # no one bill names the group
    for invoice in ("INV-A", "INV-B", "INV-C"):  # each row says its own bill's message
        assert f"Bill {invoice} is draft in Xero, not approved." in html


def test_a_message_every_payment_of_the_group_shares_is_said_once_under_the_title(admin_client, world):
    html = admin_client.get(reverse("failures")).content.decode()
    head = group_head(html, "Vendor not linked in Procore")
    assert "The Xero contact is not linked to a Procore vendor." in head
    assert "Link it to a vendor, or create the vendor in Procore." in head

"""A small local world for the dashboard's view tests: one integration, both connections, payments
in every state the pages show, a finished run with its log, and a vendor whose name is markup."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from syncapp.connections.models import Connection, ConnectionStatus, Integration
from syncapp.core import audit
from syncapp.sync.models import (
    Payment,
    PaymentEvent,
    PaymentState,
    RunLogLine,
    RunState,
    SyncRun,
    VendorLink,
    XeroContactRecord,
)

EVIL = "<script>alert('x')</script> & Sons"


@dataclass
class World:
    integration: Integration
    sent: Payment
    blocked: Payment
    failed: Payment
    run: SyncRun


def make_payment(integration: Integration, n: int, **fields) -> Payment:
    values = {
        "xero_payment_id": f"pay-{n:06d}",
        "payment_type": "ACCPAYPAYMENT",
        "xero_status": "AUTHORISED",
        "date": timezone.localdate() - dt.timedelta(days=n % 20),
        "amount": Decimal("100.00") + n,
        "currency_code": "AUD",
        "reference": f"EFT-{n}",
        "xero_invoice_id": f"inv-{n:06d}",
        "invoice_number": f"INV-{n:05d}",
        "xero_contact_id": f"contact-{n % 7}",
        "vendor_name": f"Vendor {n % 7}",
        "project_name": f"Project {n % 3}",
        "state": PaymentState.SENT,
    }
    values.update(fields)
    return Payment.objects.create(integration=integration, **values)


def make_world() -> World:
    integration = Integration.objects.create(name="demo")
    for provider, name in (("xero", "Demo Builders Pty Ltd"), ("procore", "Demo Builders (Procore)")):
        Connection.objects.create(
            integration=integration,
            provider=provider,
            status=ConnectionStatus.CONNECTED,
            tenant_id="t-1" if provider == "xero" else "42",
            tenant_name=name,
            last_success_at=timezone.now(),
        )
    sent = make_payment(integration, 1, procore_payment_id=9001, procore_commitment_id=77, procore_project_id=5)
    blocked = make_payment(
        integration,
        2,
        vendor_name=EVIL,
        xero_contact_id="contact-evil",
        state=PaymentState.BLOCKED,
        reason_code="vendor_not_linked",
        message="The Xero contact is not linked to a Procore vendor.",
        fix="Link it to a vendor, or create the vendor in Procore.",
    )
    failed = make_payment(
        integration,
        3,
        state=PaymentState.FAILED,
        reason_code="procore_refused",
        message="Procore refused the payment (422).",
        last_error="Procore answered 422: amount is invalid",
    )
    XeroContactRecord.objects.create(integration=integration, contact_id="contact-evil", name=EVIL, is_supplier=True)
    XeroContactRecord.objects.create(integration=integration, contact_id="contact-1", name="Vendor 1", is_supplier=True)
    VendorLink.objects.create(
        integration=integration,
        xero_contact_id="contact-1",
        contact_name="Vendor 1",
        procore_vendor_id=501,
        vendor_name="Vendor One",
        how="tax_number",
    )
    run = SyncRun.objects.create(
        integration=integration,
        trigger=SyncRun.Trigger.BUTTON,
        state=RunState.SUCCEEDED,
        started_at=timezone.now() - dt.timedelta(seconds=42),
        finished_at=timezone.now(),
        fetched=3,
        counts={"sent": 1, "blocked": 1, "failed": 1},
    )
    RunLogLine.objects.create(run=run, message="Run started")
    RunLogLine.objects.create(run=run, message=f"Blocked a payment of {EVIL}", level="warning")
    PaymentEvent.objects.create(payment=blocked, kind="blocked", message=f"Vendor {EVIL} is not linked", run=run)
    audit.record(action="sync.started", summary=f"Sync started for {EVIL}", integration=integration)
    return World(integration, sent, blocked, failed, run)


@pytest.fixture
def world(db) -> World:
    return make_world()


def described_by_missing(html: str) -> list[str]:
    """The ids a page's elements name in aria-describedby that the page does not hold (a screen
    reader then reads no help and no error for that input)."""
    named = {name for names in re.findall(r'aria-describedby="([^"]+)"', html) for name in names.split()}
    return sorted(name for name in named if f'id="{name}"' not in html)

"""Currency, where Procore keeps it (issue 8, section 2), end to end against the sandbox.

Procore projects carry no currency (RestV10ProjectsGet/IdGet have none); commitments and
subcontractor invoices state `currency_configuration.currency_iso_code` only when the company
uses currencies. A company that states none works in the Xero organisation's base currency unless
an Admin sets another, and is never blocked for not stating one.
"""

from __future__ import annotations

import pytest

from syncapp.sandbox.procore.models import Company, ContractPayment, Project
from syncapp.sync.models import PaymentState, SyncSettings

pytestmark = pytest.mark.django_db(transaction=True)


def _outcomes(world) -> dict[str, str]:
    return {pid: world.payment(pid).state for pid in world.summary.expected}


def test_a_single_currency_company_with_no_currency_anywhere_in_procore_gets_every_eligible_payment_sent(world):
    # The plain company: no currency on projects (never), commitments or invoices (switch off).
    Company.objects.update(uses_currencies=False)
    Project.objects.update(currency_iso_code="")

    world.run()

    sendable = [pid for pid, outcome in world.summary.expected.items() if outcome == "sent"]
    assert sendable
    assert {pid: world.payment(pid).state for pid in sendable} == {pid: PaymentState.SENT for pid in sendable}
    assert ContractPayment.objects.filter(origin_id__in=sendable).count() == len(sendable)
    # The only currency blocks are bills in another currency than the organisation's base currency.
    blocked_for_currency = {
        pid for pid in world.summary.expected if world.payment(pid).reason_code == "currency_mismatch"
    }
    assert blocked_for_currency == set(world.summary.cases["foreign_currency"])
    [pid] = world.summary.cases["foreign_currency"]
    payment = world.payment(pid)
    assert "is in USD" in payment.message and "the Xero organisation's base currency" in payment.message
    assert "is in AUD" in payment.message and "Settings page" in payment.fix
    assert SyncSettings.objects.get(integration=world.integration).xero_base_currency == "AUD"


def test_a_bill_in_another_currency_than_its_commitment_stays_blocked_with_the_reason_and_the_fix(world):
    # A multi-currency company: commitments state their currency. One project's are in NZD.
    Company.objects.update(uses_currencies=True)
    [pid, *_] = world.summary.cases["full"]
    world.run(dry_run=True)  # learns each payment's target without sending
    target_project = world.payment(pid).procore_project_id
    assert target_project
    Project.objects.filter(pk=target_project).update(currency_iso_code="NZD")

    world.run()

    payment = world.payment(pid)
    assert (payment.state, payment.reason_code) == (PaymentState.BLOCKED, "currency_mismatch")
    assert "is in AUD" in payment.message and "in Procore is in NZD" in payment.message
    assert "by hand" in payment.fix
    assert not ContractPayment.objects.filter(origin_id=pid).exists()
    elsewhere = [
        p
        for p, outcome in world.summary.expected.items()
        if outcome == "sent" and world.payment(p).procore_project_id != target_project
    ]
    assert elsewhere and all(world.payment(p).state == PaymentState.SENT for p in elsewhere)


def test_an_admin_set_company_currency_replaces_the_xero_base_currency(world):
    Company.objects.update(uses_currencies=False)
    Project.objects.update(currency_iso_code="")
    SyncSettings.objects.update_or_create(integration=world.integration, defaults={"company_currency": "USD"})

    world.run()

    [foreign] = world.summary.cases["foreign_currency"]
    assert world.payment(foreign).state == PaymentState.SENT
    [aud, *_] = world.summary.cases["full"]
    payment = world.payment(aud)
    assert payment.reason_code == "currency_mismatch" and "set by an Admin" in payment.message

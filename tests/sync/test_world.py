"""The seeded world, synced over HTTP against the sandbox: every case ends as domain.md says."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from syncapp.sandbox.procore.models import Company, ContractPayment
from syncapp.sandbox.xero.models import Payment as XeroPaymentRow
from syncapp.sync import services
from syncapp.sync.models import PaymentState, RunState, SyncRun, VendorLink

pytestmark = pytest.mark.django_db(transaction=True)

EXPECTED_STATE = {
    "sent": PaymentState.SENT,
    "already_sent": PaymentState.SENT,
    "blocked": PaymentState.BLOCKED,
    "ignored": PaymentState.SKIPPED,
}


def procore_payments(origin_id: str) -> list[ContractPayment]:
    return list(ContractPayment.objects.filter(origin_id=origin_id))


# The sandbox's checks of a payment create beyond Procore's spec (SANDBOX_PROCORE_PAYMENT_CHECKS):
# the product sends nothing they refuse, so both readings end the same.
@pytest.mark.parametrize("checks", ["strict", "documented"])
def test_a_full_sync_ends_every_payment_as_the_world_expects(world, settings, checks):
    settings.SANDBOX_PROCORE_PAYMENT_CHECKS = checks
    run = world.run()
    assert run.state == RunState.SUCCEEDED, run.error
    wrong = {
        pid: (outcome, p.state, p.reason_code, p.message)
        for pid, outcome in world.summary.expected.items()
        if (p := world.payment(pid)).state != EXPECTED_STATE[outcome]
    }
    assert not wrong
    origin_ids = list(ContractPayment.objects.exclude(origin_id="").values_list("origin_id", flat=True))
    assert len(origin_ids) == len(set(origin_ids))
    sent = [pid for pid, outcome in world.summary.expected.items() if outcome == "sent"]
    assert run.counts["sent"] == len(sent)
    assert run.counts["already_in_procore"] == len(world.summary.cases["already_in_procore"])
    assert run.api_calls_xero > 0 and run.api_calls_procore > 0 and run.finished_at


def test_full_partial_and_batch_payments_arrive_with_amount_date_invoice_and_reference(world):
    world.run()
    for case in ("full", "partial", "batch", "requisition_origin_id"):
        for pid in world.summary.cases[case]:
            row = XeroPaymentRow.objects.get(payment_id=pid)
            [remote] = procore_payments(pid)
            assert remote.amount == row.amount and remote.date == row.date
            assert remote.invoice_number == (row.invoice.invoice_number or "")
            assert remote.check_number == row.reference  # Procore takes 255 characters
            assert remote.requisition_id is not None
            assert world.payment(pid).procore_payment_id == remote.id
    partial = world.summary.cases["partial"]
    assert len({ContractPayment.objects.get(origin_id=pid).requisition_id for pid in partial}) < len(partial)


def test_a_second_run_sends_nothing_new_and_makes_few_calls(world):
    first = world.run()
    before = ContractPayment.objects.count()
    second = world.run()
    assert second.state == RunState.SUCCEEDED
    assert ContractPayment.objects.count() == before
    assert second.counts.get("sent", 0) == 0 and second.counts.get("already_in_procore", 0) == 0
    assert second.api_calls_xero <= 4  # three incremental reads, nothing else
    assert second.api_calls_procore < first.api_calls_procore


def test_other_payment_types_deleted_ones_and_draft_bills_are_set_aside_with_a_reason(world):
    world.run()
    for pid in world.summary.cases["other_payment_types"]:
        payment = world.payment(pid)
        assert payment.state == PaymentState.SKIPPED and payment.reason_code == "not_bill_payment"
        assert not procore_payments(pid)
    deleted, replacement = world.summary.cases["reversal"][:2]
    assert world.payment(deleted).reason_code == "deleted_in_xero" and not procore_payments(deleted)
    assert len(procore_payments(replacement)) == 1


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("foreign_currency", "currency_mismatch"),
        ("no_invoice", "invoice_not_found"),
        ("ambiguous_invoice", "ambiguous_invoice"),
        ("incomplete", "incomplete"),
        ("overpayment_guard", "overpayment"),
    ],
)
def test_a_blocked_payment_says_why_and_how_to_fix_it(world, case, reason):
    world.run()
    for pid in world.summary.cases[case]:
        payment = world.payment(pid)
        assert (payment.state, payment.reason_code) == (PaymentState.BLOCKED, reason), payment.message
        assert payment.message and payment.fix
        assert payment.events.filter(kind="blocked").exists()
        assert not procore_payments(pid)


def test_a_name_match_is_a_suggestion_until_an_admin_confirms_it(world, admin_user):
    world.run()
    [contact_id, *_] = world.summary.cases["name_mismatch"]
    [pid, *_] = world.summary.contact_payments["name_mismatch"]
    payment = world.payment(pid)
    assert payment.reason_code == "vendor_suggestion" and "Confirm" in payment.fix
    link = VendorLink.objects.get(integration=world.integration, xero_contact_id=contact_id)
    assert not link.confirmed and link.how == "name_suggestion"
    services.confirm_suggestion(link=link, actor=admin_user)
    world.run()
    assert world.payment(pid).state == PaymentState.SENT and len(procore_payments(pid)) == 1


def test_tax_number_matches_link_by_themselves(world):
    world.run()
    for pid in world.summary.contact_payments["tax_number_match"]:
        assert world.payment(pid).state == PaymentState.SENT
    for contact_id in world.summary.cases["tax_number_match"]:
        assert VendorLink.objects.get(xero_contact_id=contact_id).how == "tax_number"


def test_a_missing_vendor_blocks_until_linked_then_the_next_run_sends(world, admin_user):
    from syncapp.sandbox.procore.models import Vendor

    world.run()
    [contact_id] = world.summary.cases["no_vendor"]
    pids = world.summary.contact_payments["no_vendor"]
    payment = world.payment(pids[0])
    assert payment.reason_code == "vendor_not_linked" and "Link Xero contact" in payment.fix
    # An Admin creates the vendor in Procore from the contact (over HTTP), which links it.
    from syncapp.connections.services import get_connection
    from syncapp.connections.tokens import ConnectionTokens
    from syncapp.connectors.procore import ProcoreClient

    connection = get_connection(integration=world.integration, provider="procore")
    procore = ProcoreClient(tokens=ConnectionTokens(connection), company_id=int(connection.tenant_id))
    link = services.create_vendor_from_contact(
        integration=world.integration, xero_contact_id=contact_id, procore=procore, actor=admin_user
    )
    assert Vendor.objects.get(pk=link.procore_vendor_id).origin_id == contact_id
    run = world.run()
    # Linked now, but the new vendor has no commitment: the payments move on to the next reason.
    assert {world.payment(p).reason_code for p in pids} == {"invoice_not_found"}
    assert run.state == RunState.SUCCEEDED


def test_a_sent_payment_deleted_in_xero_is_deleted_in_procore(world):
    # A company where Procore lets the integration delete its payments. Procore's documented default
    # refuses (test_reversal_refused_e2e.py covers that path); this one is about a reversal that works.
    Company.objects.update(refuse_delete_with_origin=False)
    world.run()
    [pid, *_] = world.summary.cases["full"]
    [remote] = procore_payments(pid)
    XeroPaymentRow.objects.filter(payment_id=pid).update(status="DELETED", updated_at=timezone.now())
    run = world.run()
    payment = world.payment(pid)
    assert payment.state == PaymentState.REVERSED, payment.message
    assert not ContractPayment.objects.filter(pk=remote.pk).exists()
    assert run.counts["reversed"] == 1
    assert payment.events.filter(kind="reversed").exists()


def test_a_dry_run_writes_nothing_to_procore_and_reports_what_it_would_send(world):
    before = ContractPayment.objects.count()
    run = world.run(dry_run=True)
    assert run.state == RunState.SUCCEEDED
    assert ContractPayment.objects.count() == before
    sendable = sum(1 for outcome in world.summary.expected.values() if outcome == "sent")
    assert run.counts["would_send"] == sendable
    assert run.log_lines.filter(message__startswith="Would send").count() == sendable
    run = world.run()
    assert run.counts["sent"] == sendable


def test_backfill_since_refetches_old_payments_without_moving_the_watermark_back(world):
    from syncapp.sync.models import SyncCursor
    from syncapp.sync.runs import execute_run, start_run

    world.run()
    watermark = SyncCursor.objects.get(integration=world.integration).payments_since
    run, _ = start_run(integration=world.integration, trigger="command", since=dt.date(2000, 1, 1))
    run = execute_run(run.pk)
    assert run.fetched == world.summary.payments  # every payment read again
    assert SyncCursor.objects.get(integration=world.integration).payments_since == watermark
    assert run.counts.get("sent", 0) == 0


def test_failed_payment_retry_and_ignore_are_recorded(world, admin_user):
    world.run()
    [pid] = world.summary.cases["foreign_currency"]
    payment = world.payment(pid)
    services.ignore_payment(payment=payment, reason="Paid in USD, entered by hand", actor=admin_user)
    assert payment.state == PaymentState.IGNORED
    world.run()
    assert world.payment(pid).state == PaymentState.IGNORED  # a run leaves it alone
    services.unignore_payment(payment=payment, actor=admin_user)
    world.run()
    assert world.payment(pid).reason_code == "currency_mismatch"
    kinds = list(payment.events.values_list("kind", flat=True))
    assert "ignored" in kinds and "unignored" in kinds


def test_the_command_prints_a_summary_and_exits_zero_with_blocked_payments(world, capsys):
    from django.core.management import call_command

    call_command("sync_payments", "--integration", "northwind")
    out = capsys.readouterr().out
    assert "Finished" in out and "Blocked:" in out and "Already in Procore:" in out and "API calls: Xero" in out
    assert SyncRun.objects.get().state == RunState.SUCCEEDED
    assert Decimal("0") <= Decimal(str(SyncRun.objects.get().duration_seconds))

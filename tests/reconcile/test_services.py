"""Reconciliation over HTTP against the sandbox, after a real sync: what matches, and what each
change made behind our back in Procore (or Xero) looks like in the report and its totals."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from syncapp.connections.models import Integration
from syncapp.core.models import AuditEntry
from syncapp.reconcile.models import CommitmentTotal, ReconciliationLine, ReconciliationReport, ReportState
from syncapp.reconcile.reports import execute_report, recover_stale_reports, request_report, start_report
from syncapp.sandbox.procore.models import Company, ContractPayment
from syncapp.sandbox.xero.models import Payment as XeroPaymentRow
from syncapp.sync.models import Payment, PaymentState

pytestmark = pytest.mark.django_db(transaction=True)


def reconcile(world) -> ReconciliationReport:
    report, created = start_report(integration=world.integration)
    assert created
    report = execute_report(report.pk)
    assert report.state == ReportState.DONE, report.error
    return report


def line_of(report: ReconciliationReport, xero_payment_id: str) -> ReconciliationLine:
    return ReconciliationLine.objects.get(report=report, xero_payment_id=xero_payment_id)


def commitment_total(report: ReconciliationReport, commitment_id: int) -> CommitmentTotal:
    return CommitmentTotal.objects.get(report=report, procore_commitment_id=commitment_id, currency="AUD")


def test_after_a_sync_every_sent_payment_reconciles_as_matched(synced):
    before = list(ContractPayment.objects.order_by("id").values_list("id", "amount", "date", "origin_id"))
    report = reconcile(synced)
    sent = Payment.objects.filter(integration=synced.integration, state=PaymentState.SENT)
    assert sent.count() > 30
    statuses = dict(ReconciliationLine.objects.filter(report=report).values_list("xero_payment_id", "status"))
    assert {statuses[p.xero_payment_id] for p in sent} == {"matched"}
    assert report.counts["matched"] == sent.count()
    assert "missing_in_procore" not in report.counts and "amount_differs" not in report.counts
    # Matched lines add nothing to a difference: a commitment with only matched lines is at zero.
    for row in CommitmentTotal.objects.filter(report=report, problems=0, procore_commitment_id__isnull=False):
        assert row.xero == row.procore and row.difference == 0
    # One Procore read per commitment, and nothing written to Procore.
    assert report.api_calls_procore == report.commitments_total == report.commitments_read > 0
    assert list(ContractPayment.objects.order_by("id").values_list("id", "amount", "date", "origin_id")) == before
    assert report.organisation_name and report.company_name and report.xero_as_of
    assert AuditEntry.objects.filter(action="reconciliation.started", details__report_id=report.pk).exists()


def test_changes_made_in_procore_behind_our_back_each_show_with_their_status_and_totals(synced):
    full = synced.summary.cases["full"]
    gone, changed, redated = full[0], full[1], full[2]
    ContractPayment.objects.filter(origin_id=gone).delete()
    ContractPayment.objects.filter(origin_id=changed).update(amount=Decimal("1.23"))
    moved = ContractPayment.objects.get(origin_id=redated)
    ContractPayment.objects.filter(pk=moved.pk).update(date=moved.date + dt.timedelta(days=3))
    target = ContractPayment.objects.get(origin_id=full[3])
    by_hand = ContractPayment.objects.create(
        project=target.project, commitment=target.commitment, date=dt.date(2026, 11, 2), amount=Decimal("250.00")
    )
    stranger_id = str(uuid.uuid4())
    stranger = ContractPayment.objects.create(
        project=target.project,
        commitment=target.commitment,
        date=dt.date(2026, 11, 3),
        amount=Decimal("75.50"),
        origin_id=stranger_id,
    )
    report = reconcile(synced)
    totals = commitment_total(report, target.commitment_id)

    missing = line_of(report, gone)
    assert missing.status == "missing_in_procore" and missing.procore_amount is None
    assert missing.difference == missing.xero_amount and "no longer" in missing.note

    differs = line_of(report, changed)
    assert differs.status == "amount_differs" and differs.procore_amount == Decimal("1.23")
    assert differs.difference == differs.xero_amount - Decimal("1.23")

    late = line_of(report, redated)
    assert late.status == "date_differs" and late.procore_date == late.xero_date + dt.timedelta(days=3)
    assert late.difference == 0

    hand = ReconciliationLine.objects.get(report=report, procore_payment_id=by_hand.pk)
    assert hand.status == "by_hand" and hand.xero_payment_id == "" and hand.difference == Decimal("-250.00")
    assert hand.commitment and hand.vendor  # named after the commitment's payments

    only = ReconciliationLine.objects.get(report=report, procore_payment_id=stranger.pk)
    assert only.status == "procore_only" and only.xero_payment_id == stranger_id and stranger_id in only.note

    # The commitment's totals: Procore holds the two extra payments, by hand and unknown.
    assert totals.by_hand >= Decimal("250.00")
    assert totals.difference == totals.xero - totals.procore
    lines = ReconciliationLine.objects.filter(report=report, procore_commitment_id=target.commitment_id, currency="AUD")
    assert sum(line.difference for line in lines) == totals.difference
    # And the report's totals are the sum of its commitments.
    aud = next(t for t in report.totals if t["currency"] == "AUD")
    rows = CommitmentTotal.objects.filter(report=report, currency="AUD")
    assert Decimal(aud["xero"]) == sum(r.xero for r in rows)
    assert Decimal(aud["procore"]) == sum(r.procore for r in rows)
    assert Decimal(aud["difference"]) == Decimal(aud["xero"]) - Decimal(aud["procore"])
    assert report.counts["missing_in_procore"] == 1 and report.counts["amount_differs"] == 1
    assert report.counts["date_differs"] == 1 and report.counts["procore_only"] == 1


def test_payments_not_sent_yet_show_with_their_reason(synced):
    report = reconcile(synced)
    waiting = Payment.objects.filter(integration=synced.integration, state=PaymentState.BLOCKED)
    assert waiting.exists()
    for payment in waiting:
        row = line_of(report, payment.xero_payment_id)
        assert row.status == "not_sent"
        assert row.note.startswith("Blocked: ") and payment.message[:40] in row.note
        assert row.procore_amount is None and row.difference == payment.amount
    [foreign] = synced.summary.cases["foreign_currency"]
    row = line_of(report, foreign)
    assert row.currency == "USD" and "USD" in row.note
    # A USD bill never mixes into the AUD totals of its commitment.
    usd = CommitmentTotal.objects.get(report=report, currency="USD")
    assert usd.xero == row.xero_amount and usd.procore == 0
    # Skipped payments (not bill payments, deleted before sending) are not lines at all.
    for pid in synced.summary.cases["other_payment_types"]:
        assert not ReconciliationLine.objects.filter(report=report, xero_payment_id=pid).exists()


def test_an_ignored_payment_is_shown_but_not_counted_as_paid(synced, admin_user):
    from syncapp.sync import services

    [pid] = synced.summary.cases["foreign_currency"]
    services.ignore_payment(payment=synced.payment(pid), reason="Entered by hand in AUD", actor=admin_user)
    report = reconcile(synced)
    row = line_of(report, pid)
    assert row.status == "ignored" and "Entered by hand in AUD" in row.note and row.difference == 0
    assert not CommitmentTotal.objects.filter(report=report, currency="USD", xero__gt=0).exists()


def test_a_payment_deleted_in_xero_that_procore_refused_to_delete_is_flagged(synced):
    Company.objects.update(refuse_delete_with_origin=True)
    [pid, *_] = synced.summary.cases["full"]
    XeroPaymentRow.objects.filter(payment_id=pid).update(status="DELETED", updated_at=timezone.now())
    synced.run()
    assert synced.payment(pid).state == PaymentState.NEEDS_ATTENTION
    report = reconcile(synced)
    row = line_of(report, pid)
    assert row.status == "deleted_in_xero" and "refused" in row.note
    assert row.difference == -row.procore_amount  # deleted in Xero: nothing counts on that side


def test_a_reversal_not_carried_out_yet_is_flagged_as_pending(synced):
    [pid, *_] = synced.summary.cases["batch"]
    Payment.objects.filter(integration=synced.integration, xero_payment_id=pid).update(xero_status="DELETED")
    row = line_of(reconcile(synced), pid)
    assert row.status == "deleted_in_xero" and "pending" in row.note


def test_one_build_at_a_time_per_integration(synced):
    first, created = start_report(integration=synced.integration)
    again, created_again = start_report(integration=synced.integration)
    assert created and not created_again and again.pk == first.pk
    with pytest.raises(IntegrityError), transaction.atomic():
        ReconciliationReport.objects.create(integration=synced.integration, state=ReportState.RUNNING)
    assert execute_report(first.pk).state == ReportState.DONE
    lines = first.lines.count()
    # A second delivery of the task finds the report claimed and builds nothing more.
    assert execute_report(first.pk).state == ReportState.DONE and first.lines.count() == lines
    assert start_report(integration=synced.integration)[1]  # done: a new one may start


@pytest.mark.postgres
def test_two_requests_at_the_same_moment_make_one_report(synced):
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from django.db import connection

    barrier = Barrier(4)

    def click(_):
        try:
            barrier.wait()
            return start_report(integration=synced.integration)[0].pk
        finally:
            connection.close()

    with ThreadPoolExecutor(4) as pool:
        ids = set(pool.map(click, range(4)))
    assert len(ids) == 1 and ReconciliationReport.objects.count() == 1


@pytest.mark.django_db  # not transactional: the on-commit callback is held for the test to look at
def test_reconcile_now_queues_the_build_once_the_transaction_commits(django_capture_on_commit_callbacks):
    integration = Integration.objects.create(name="lonely")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report, created = request_report(integration=integration)
    assert created and len(callbacks) == 1
    from django_q.models import OrmQ

    assert not OrmQ.objects.exists()  # nothing queued before the commit
    callbacks[0]()
    [queued] = OrmQ.objects.all()
    assert queued.task["func"] == "syncapp.reconcile.tasks.build_report" and queued.task["args"] == (report.pk,)
    # What the worker then runs (here it fails fast: nothing is connected).
    from syncapp.reconcile.tasks import build_report

    assert build_report(report.pk) == ReportState.FAILED
    report.refresh_from_db()
    assert "Xero" in report.error


def test_a_build_whose_worker_died_is_failed_so_another_can_start(synced):
    report, _ = start_report(integration=synced.integration)
    ReconciliationReport.objects.filter(pk=report.pk).update(
        state=ReportState.RUNNING, heartbeat_at=timezone.now() - dt.timedelta(hours=1)
    )
    assert recover_stale_reports() == 1
    report.refresh_from_db()
    assert report.state == ReportState.FAILED and "worker" in report.error
    assert start_report(integration=synced.integration)[1]


def test_a_report_without_connections_fails_with_the_reason():
    integration = Integration.objects.create(name="lonely")
    report, _ = start_report(integration=integration)
    report = execute_report(report.pk)
    assert report.state == ReportState.FAILED and "Xero" in report.error
    assert not report.lines.exists()


def test_the_command_builds_a_report_in_the_foreground_and_writes_the_file(synced, tmp_path):
    import csv

    from django.core.management import CommandError, call_command

    path = tmp_path / "out.csv"
    call_command("reconcile", "--integration", synced.integration.name, "--output", str(path))
    report = ReconciliationReport.objects.get()
    assert report.state == ReportState.DONE and report.trigger == "command" and report.requested_by is None
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert sum(1 for row in rows if row["Status"] == "Matched") == report.counts["matched"]
    assert {row["Scope"] for row in rows} == {"every date"}
    # A period and a project: only their lines, and the scope in the file's name.
    payment = Payment.objects.filter(integration=synced.integration, state=PaymentState.SENT).first()
    day = payment.date.isoformat()
    call_command("reconcile", "--from", day, "--to", day, "--project", str(payment.procore_project_id),
                 "--format", "xlsx", "--output", str(tmp_path / "month.xlsx"))  # fmt: skip
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "month.xlsx")["Details"]
    headings = [c.value for c in sheet[1]]
    days = {row[headings.index("Date")].value.date() for row in sheet.iter_rows(min_row=2)}
    projects = {row[headings.index("Procore project id")].value for row in sheet.iter_rows(min_row=2)}
    assert days == {payment.date} and projects == {str(payment.procore_project_id)}
    with pytest.raises(CommandError, match="is not a date"):
        call_command("reconcile", "--from", "31/10/2026")

"""A report's lifecycle: start (one per integration at a time), build, finish, recover a dead build.

The button and the `reconcile` command call `start_report`; the work is `execute_report`, which a
django-q2 task (queued on commit) or the command runs. Starting, queueing, claiming, the heartbeat
and declaring a build dead follow the lifecycle every background job shares (`core.jobs`).

Building reads Procore afresh — the payments issued on every commitment the integration has sent to
or matched, one paged list per commitment, paced by the Procore client — and compares them with our
record of the Xero payments as the last sync left it. A reconciliation never writes to Procore or Xero.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from syncapp.connections.models import Integration
from syncapp.connections.services import connection_problem, get_connection, mark_needs_reconnect
from syncapp.connectors.protocols import ProcoreApi
from syncapp.connectors.types import CallCounter, ConnectorError, DataError, NeedsReconnect
from syncapp.core.jobs import JobLifecycle
from syncapp.core.text import fitted
from syncapp.reconcile.compare import CommitmentKey, CommitmentRead, Comparison, compare, scope_of
from syncapp.reconcile.conf import ReconcileConf
from syncapp.reconcile.models import CommitmentTotal, ReconciliationLine, ReconciliationReport, ReportState
from syncapp.sync.clients import open_clients
from syncapp.sync.models import BillLink, Payment, RunState, SyncRun, XeroBillRecord

logger = logging.getLogger(__name__)

WRITE_BATCH = 1000
BEAT_SECONDS = 2.0
_PAYMENT_FIELDS = (
    "id", "integration_id", "xero_payment_id", "payment_type", "xero_status", "date", "amount", "currency_code",
    "invoice_number", "vendor_name", "procore_project_id", "project_name", "procore_commitment_id",
    "commitment_number", "procore_payment_id", "state", "reason_code", "message", "last_error",
    "xero_invoice_id", "xero_contact_id", "fix",
)  # fmt: skip


class ReportLifecycle(JobLifecycle[ReconciliationReport]):
    """A background job judged dead by its heartbeat alone: a build writes nothing outside our database."""

    model = ReconciliationReport
    task = "syncapp.reconcile.tasks.build_report"
    task_name = "reconcile-{pk}"
    started_action = "reconciliation.started"
    audit_key = "report_id"
    never_picked_up = stopped_responding = "The worker stopped responding. Reconcile again."

    # Why each limit is what it is: reconcile.conf, beside its default.
    def stale_after(self) -> dt.timedelta:
        return dt.timedelta(seconds=ReconcileConf.RECONCILE_STALE_SECONDS)

    def queued_stale_after(self) -> dt.timedelta:
        return dt.timedelta(seconds=ReconcileConf.RECONCILE_QUEUED_STALE_SECONDS)

    def started_summary(self, report: ReconciliationReport) -> str:
        return f"Reconciliation of Xero and Procore requested ({report.get_trigger_display()})"


REPORTS = ReportLifecycle()


def active_report(*, integration: Integration) -> ReconciliationReport | None:
    return REPORTS.active(integration=integration)


def recover_stale_reports(*, integration: Integration | None = None, now: dt.datetime | None = None) -> int:
    """Mark builds whose worker died as failed, so a new one can start. Returns how many."""
    return len(REPORTS.recover_stale(integration=integration, now=now))


def start_report(*, integration: Integration, requested_by=None, trigger: str = ReconciliationReport.Trigger.BUTTON):
    """Create a queued report, or return the one already queued or running: (report, created)."""
    return REPORTS.start(integration=integration, requested_by=requested_by, trigger=trigger)


def request_report(*, integration: Integration, requested_by=None) -> tuple[ReconciliationReport, bool]:
    """The button: start a report and queue its build for the worker once the transaction commits."""
    report, created = start_report(integration=integration, requested_by=requested_by)
    if created:
        REPORTS.enqueue(report)
    return report, created


def claim_report(report_id: int) -> ReconciliationReport | None:
    return ReconciliationReport.claim(report_id)


def execute_report(report_id: int) -> ReconciliationReport:
    """Build the report and record how it ended."""
    report = claim_report(report_id)
    if report is None:
        return ReconciliationReport.objects.get(pk=report_id)
    try:
        comparison, calls = _build(report)
    except NeedsReconnect as exc:
        _note_reconnect(report.integration, exc)
        _fail(report, exc.message)
    except ConnectorError as exc:
        _fail(report, f"Procore did not answer in time: {exc.message} Reconcile again later.")
    except Exception as exc:  # the build failed; say so to people, keep the traceback for us
        logger.exception("reconciliation report %s failed", report.pk)
        _fail(report, f"Unexpected error ({type(exc).__name__})")
    else:
        _save(report, comparison, calls)
    report.refresh_from_db()
    return report


# --- building -------------------------------------------------------------------------------------


def _build(report: ReconciliationReport) -> tuple[Comparison, int]:
    integration = report.integration
    payments = list(Payment.objects.filter(integration=integration).only(*_PAYMENT_FIELDS).order_by("date", "id"))
    links = BillLink.objects.filter(integration=integration).values_list("procore_project_id", "procore_commitment_id")
    keys = scope_of(payments, extra=[CommitmentKey(p, c) for p, c in links])
    names = {
        provider: (getattr(get_connection(integration=integration, provider=provider), "tenant_name", "") or "")
        for provider in ("xero", "procore")
    }
    last_sync = (
        SyncRun.objects.filter(integration=integration, state=RunState.SUCCEEDED, dry_run=False)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    ReconciliationReport.objects.filter(pk=report.pk).update(
        **fitted(ReconciliationReport, organisation_name=names["xero"], company_name=names["procore"]),
        xero_as_of=last_sync,
        commitments_total=len(keys),
    )
    counter = CallCounter()
    xero, procore = open_clients(integration, xero_counter=CallCounter(), procore_counter=counter)
    try:
        reads = _read_all(report, procore, keys, counter)
    finally:
        xero.close()
        procore.close()
    bill_totals = dict(XeroBillRecord.objects.filter(integration=integration).values_list("invoice_id", "total"))
    return compare(payments=payments, reads=reads, bill_totals=bill_totals), counter.calls


def _read_all(report: ReconciliationReport, procore: ProcoreApi, keys: list[CommitmentKey], counter: CallCounter):
    reads: list[CommitmentRead] = []
    last_beat = 0.0
    for done, key in enumerate(keys, start=1):
        try:
            found = procore.contract_payments(project_id=key.project_id, commitment_id=key.commitment_id)
            reads.append(CommitmentRead(key=key, payments=found))
        except DataError as exc:  # 403/404/422 on one commitment: say so on its lines, read the others
            reads.append(CommitmentRead(key=key, error=exc.message))
        now = timezone.now().timestamp()
        if now - last_beat >= BEAT_SECONDS or done == len(keys):
            last_beat = now
            ReconciliationReport.beat(report.pk, commitments_read=done, api_calls_procore=counter.calls)
    return reads


def _save(report: ReconciliationReport, comparison: Comparison, calls: int) -> None:
    with transaction.atomic():
        ReconciliationLine.objects.filter(report=report).delete()
        CommitmentTotal.objects.filter(report=report).delete()
        ReconciliationLine.objects.bulk_create(
            [
                ReconciliationLine(
                    report=report,
                    status=line.status,
                    xero_payment_id=line.xero_payment_id,
                    procore_payment_id=line.procore_payment_id,
                    **fitted(
                        ReconciliationLine,
                        vendor=line.vendor,
                        project=line.project,
                        commitment=line.commitment,
                        invoice_number=line.invoice_number,
                    ),
                    procore_project_id=line.procore_project_id,
                    procore_commitment_id=line.procore_commitment_id,
                    currency=line.currency,
                    xero_date=line.xero_date,
                    xero_amount=line.xero_amount,
                    procore_date=line.procore_date,
                    procore_amount=line.procore_amount,
                    difference=line.difference,
                    note=line.note,
                    reason=line.reason,
                    payment_id=line.payment_id,
                    xero_invoice_id=line.xero_invoice_id,
                    vendor_id=line.vendor_id,
                    bill_total=line.bill_total,
                    day=line.day,
                )
                for line in comparison.lines
            ],
            batch_size=WRITE_BATCH,
        )
        CommitmentTotal.objects.bulk_create(
            [
                CommitmentTotal(
                    report=report,
                    procore_project_id=row.project_id,
                    procore_commitment_id=row.commitment_id,
                    **fitted(CommitmentTotal, project=row.project, commitment=row.commitment, vendor=row.vendor),
                    currency=row.currency,
                    xero=row.xero,
                    procore=row.procore,
                    by_hand=row.by_hand,
                    difference=row.difference,
                    lines=row.lines,
                    problems=row.problems,
                    note=row.note,
                )
                for row in comparison.totals
            ],
            batch_size=WRITE_BATCH,
        )
        ReconciliationReport.finish(
            report.pk,
            ReportState.DONE,
            heartbeat_at=timezone.now(),
            counts=comparison.counts(),
            totals=comparison.currency_totals(),
            api_calls_procore=calls,
        )


def _fail(report: ReconciliationReport, message: str) -> None:
    ReconciliationReport.finish(report.pk, ReportState.FAILED, error=message)


def _note_reconnect(integration: Integration, exc: NeedsReconnect) -> None:
    try:
        if connection_problem(integration):
            return  # already known (not connected, or marked): nothing to add
        connection = get_connection(integration=integration, provider="procore")
        if connection is not None:
            mark_needs_reconnect(connection, reason=exc.message)
    except Exception:  # noting the connection's state must not hide why the report failed
        logger.exception("could not mark the Procore connection as needing reconnect")

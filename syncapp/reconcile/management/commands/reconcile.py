"""`manage.py reconcile [--integration NAME] [--format csv|xlsx] [--output PATH]`: build a
reconciliation report in the foreground (no worker needed) and write it to a file."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from syncapp.connections.models import Integration
from syncapp.reconcile import export
from syncapp.reconcile.models import ReconciliationReport, ReportState
from syncapp.reconcile.reports import execute_report, start_report


class Command(BaseCommand):
    help = "Compare Xero payments (as of the last sync) with a fresh read of Procore, and write the report."

    def add_arguments(self, parser):
        parser.add_argument("--integration", help="Integration name (needed when there are several).")
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("--output", help="File to write (default: reconciliation-<integration>-<date>-<id>.<fmt>).")

    def handle(self, *args, integration=None, format="csv", output=None, **options):
        target = _integration(integration)
        report, created = start_report(integration=target, trigger=ReconciliationReport.Trigger.COMMAND)
        if not created:
            raise CommandError(f"Reconciliation #{report.pk} is already running for '{target.name}'; try again later.")
        self.stdout.write(f"Reconciliation #{report.pk} of '{target.name}': reading Procore…")
        report = execute_report(report.pk)
        if report.state != ReportState.DONE:
            raise CommandError(f"Reconciliation #{report.pk} failed: {report.error}")
        path = Path(output or export.filename(report, format))
        if format == "csv":
            path.write_text(export.csv_text(report), encoding="utf-8", newline="")
        else:
            path.write_bytes(export.xlsx_bytes(report))
        counts = ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in report.counts.items()) or "no lines"
        self.stdout.write(self.style.SUCCESS(f"Done: {counts}. Written to {path}"))


def _integration(name: str | None) -> Integration:
    if name:
        try:
            return Integration.objects.get(name=name)
        except Integration.DoesNotExist:
            raise CommandError(f"No integration named '{name}'.") from None
    integrations = list(Integration.objects.order_by("name")[:2])
    if len(integrations) != 1:
        raise CommandError("Say which integration with --integration NAME." if integrations else "No integration yet.")
    return integrations[0]

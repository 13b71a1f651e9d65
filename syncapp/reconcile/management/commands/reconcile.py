"""`manage.py reconcile [--integration NAME] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--project ID]
[--vendor ID] [--format csv|xlsx] [--output PATH]`: build a reconciliation report in the foreground
(no worker needed) and write the scope asked for to a file, as the page's downloads do."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from syncapp.connections.models import Integration
from syncapp.reconcile import export, selectors
from syncapp.reconcile.models import ReconciliationReport, ReportState
from syncapp.reconcile.reports import execute_report, start_report
from syncapp.reconcile.selectors import LineFilters


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"'{value}' is not a date: write it as YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = "Compare Xero payments (as of the last sync) with a fresh read of Procore, and write the report."

    def add_arguments(self, parser):
        parser.add_argument("--integration", help="Integration name (needed when there are several).")
        parser.add_argument("--from", dest="date_from", help="First Xero payment date of the period (YYYY-MM-DD).")
        parser.add_argument("--to", dest="date_to", help="Last Xero payment date of the period (YYYY-MM-DD).")
        parser.add_argument("--project", type=int, help="Only this Procore project (its id).")
        parser.add_argument("--vendor", help="Only this vendor (its Xero ContactID).")
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("--output", help="File to write (default: a name with the scope and the as-of time).")

    def handle(self, *args, integration=None, format="csv", output=None, **options):
        filters = _filters(options)
        report = self._build(_integration(integration))
        path = Path(output or export.filename(report, format, filters))
        _write(report, filters, format=format, path=path)
        self.stdout.write(f"Scope: {filters.describe()}.")
        for row in selectors.currency_totals(report=report, filters=filters):
            self.stdout.write(
                f"  {row['currency'] or '—'}: paid in Xero {row['xero']:,.2f}, recorded in Procore "
                f"{row['procore']:,.2f}, difference {row['difference']:,.2f}; "
                + ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in row["counts"].items())
            )
        lines = selectors.report_lines(report=report, filters=filters).count()
        done = "no payment in this scope" if not lines else f"{lines} line{'s' if lines != 1 else ''}"
        self.stdout.write(self.style.SUCCESS(f"Done: {done}. Written to {path}"))

    def _build(self, target: Integration) -> ReconciliationReport:
        """A new report built here and now; refused while another one runs for the integration."""
        report, created = start_report(integration=target, trigger=ReconciliationReport.Trigger.COMMAND)
        if not created:
            raise CommandError(f"Reconciliation #{report.pk} is already running for '{target.name}'; try again later.")
        self.stdout.write(f"Reconciliation #{report.pk} of '{target.name}': reading Procore…")
        report = execute_report(report.pk)
        if report.state != ReportState.DONE:
            raise CommandError(f"Reconciliation #{report.pk} failed: {report.error}")
        return report


def _filters(options: dict) -> LineFilters:
    filters = LineFilters(
        date_from=_day(options["date_from"]) if options.get("date_from") else None,
        date_to=_day(options["date_to"]) if options.get("date_to") else None,
        project=options.get("project"),
        vendor=options.get("vendor") or "",
    )
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise CommandError("--from is after --to.")
    return filters


def _write(report: ReconciliationReport, filters: LineFilters, *, format: str, path: Path) -> None:
    if format == "csv":
        with path.open("w", encoding="utf-8", newline="") as out:
            export.write_csv(report, out, filters)
    else:
        with path.open("wb") as out:
            export.write_xlsx(report, out, filters)


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

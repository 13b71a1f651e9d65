"""`manage.py sync_payments [--integration NAME] [--dry-run] [--since YYYY-MM-DD]`: the same run
as the Get All Payments button, in the foreground, with a summary. Exits non-zero only when the
run itself failed (or could not start), not because some payments are blocked."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from syncapp.connections.models import Integration
from syncapp.sync import outcomes
from syncapp.sync.models import RunState, SyncRun
from syncapp.sync.runs import execute_run, start_run


class Command(BaseCommand):
    help = "Get all approved Xero bill payments into Procore (the Get All Payments button, from a shell)."

    def add_arguments(self, parser):
        parser.add_argument("--integration", help="Integration name (needed when there are several).")
        parser.add_argument("--dry-run", action="store_true", help="Resolve and report; write nothing to Procore.")
        parser.add_argument("--since", type=dt.date.fromisoformat, help="Backfill payments changed since this day.")

    def handle(self, *args, integration=None, dry_run=False, since=None, **options):
        chosen = _integration(integration)
        run, created = start_run(integration=chosen, trigger=SyncRun.Trigger.COMMAND, dry_run=dry_run, since=since)
        if not created:
            raise CommandError(f"Run #{run.pk} of {chosen.name} is already {run.state}; not starting another.")
        run = execute_run(run.pk)
        self._summary(run)
        if run.state == RunState.FAILED:
            raise CommandError(f"Run #{run.pk} failed: {run.error}")

    def _summary(self, run: SyncRun) -> None:
        out = self.stdout
        out.write(
            f"Run #{run.pk} of {run.integration.name}: {run.get_state_display()}"
            + (" (dry run)" if run.dry_run else "")
        )
        if run.paused_until:
            out.write(f"Paused until {run.paused_until:%Y-%m-%d %H:%M} UTC ({run.error}); run again then.")
        out.write(f"Fetched from Xero: {run.fetched} payments")
        for outcome, n in outcomes.ordered(run.counts):
            out.write(f"  {outcomes.label(outcome)}: {n}")
        out.write(
            f"API calls: Xero {run.api_calls_xero}, Procore {run.api_calls_procore}; 429 answers: {run.throttled}"
        )
        out.write(f"Duration: {run.duration_seconds or 0:.1f} s")


def _integration(name: str | None) -> Integration:
    if name:
        found = Integration.objects.filter(name=name).first()
        if found is None:
            raise CommandError(f"No integration named {name!r}.")
        return found
    integrations = list(Integration.objects.order_by("name")[:2])
    if len(integrations) != 1:
        raise CommandError("Say which integration to sync with --integration NAME.")
    return integrations[0]

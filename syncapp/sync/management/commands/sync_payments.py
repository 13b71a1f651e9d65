"""`manage.py sync_payments [--integration NAME] [--dry-run] [--since YYYY-MM-DD]`: the same run
as the Get All Payments button, in the foreground, with a summary. Exits non-zero only when the
run itself failed (or could not start), not because some payments are blocked.

A run queued by the button while no worker runs does not block it: the command claims that run
and executes it here (a worker that picks its task up later finds it claimed and does nothing),
then starts its own when it asked for something else (a dry run, another --since)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from syncapp.connections.models import Integration
from syncapp.sync import outcomes
from syncapp.sync.models import RunState, SyncRun
from syncapp.sync.runs import start_run, take_and_execute
from syncapp.sync.tasks import schedule_resume


class Command(BaseCommand):
    help = "Get all approved Xero bill payments into Procore (the Get All Payments button, from a shell)."

    def add_arguments(self, parser):
        parser.add_argument("--integration", help="Integration name (needed when there are several).")
        parser.add_argument("--dry-run", action="store_true", help="Resolve and report; write nothing to Procore.")
        parser.add_argument("--since", type=dt.date.fromisoformat, help="Backfill payments changed since this day.")

    def handle(self, *args, integration=None, dry_run=False, since=None, **options):
        chosen = _integration(integration)
        run, created = start_run(integration=chosen, trigger=SyncRun.Trigger.COMMAND, dry_run=dry_run, since=since)
        if not created and run.state == RunState.QUEUED:
            taken = self._take_over(run)
            if (run.dry_run, run.since) == (dry_run, since):
                return self._report(taken)
            self._summary(taken)  # it was not what we were asked for: ours comes next
            run, created = start_run(
                integration=chosen, trigger=SyncRun.Trigger.COMMAND, dry_run=dry_run, since=since
            )
        if not created:
            raise CommandError(f"Run #{run.pk} of {chosen.name} is already {run.state}; not starting another.")
        self._report(self._execute(run))

    def _take_over(self, queued: SyncRun) -> SyncRun:
        what = "dry run" if queued.dry_run else "run"
        self.stdout.write(
            f"{queued.get_trigger_display()} {what} #{queued.pk} was waiting for a worker: running it here."
        )
        run = self._execute(queued)
        if run.state == RunState.PAUSED and run.paused_until:
            schedule_resume(run)  # as its worker would have: whoever asked for it expects that
        return run

    def _execute(self, run: SyncRun) -> SyncRun:
        done = take_and_execute(run.pk)
        if done is None:  # a worker claimed it between our look and our claim
            run.refresh_from_db()
            raise CommandError(f"Run #{run.pk} of {run.integration.name} is already {run.state}; not starting another.")
        return done

    def _report(self, run: SyncRun) -> None:
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

"""Run lifecycle: start (one per integration at a time), execute, finish, recover a dead run.

The button, the command and a schedule all call `start_run`; the work itself is `execute_run`,
which a django-q2 task or the command runs. Starting, queueing, claiming and declaring a run dead
follow the lifecycle every background job shares (`core.jobs`): one queued or running run per
integration is the database's job, so two requests at the same moment give one run.

A dead worker is noticed by `recover_stale_runs`, which marks its run failed so a new run (which
resumes where the data says) can start; `start_run` calls it first, and a schedule (migration
0003) every minute, so a dead run does not show as running until someone clicks. On PostgreSQL the
worker holds the run's advisory lock for as long as its process lives (`sync.lease`): a run whose
lock is free is dead at once, as soon as the last Procore request it may have sent is over
(`write_until`). The heartbeat is the fallback: on SQLite after SYNC_STALE_SECONDS of silence, and
for a live process that stopped working (SYNC_HUNG_SECONDS, its lock still held).

A rate limit that outlasts a run's short waits (Xero's day, Procore's hour) ends the run "paused"
until the limit resets, never failed, and `tasks.schedule_resume` starts it again then.

Every write a run makes about itself is conditional on it still being "running" (see
`progress.RunContext`): a worker that was declared dead while it slept stops with `RunAborted`
and cannot overwrite the failed state, nor send anything more.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from syncapp.connections.models import Integration
from syncapp.connections.services import get_connection, mark_needs_reconnect
from syncapp.connectors.types import DailyLimitReached, NeedsReconnect, RateLimited
from syncapp.core.jobs import JobLifecycle
from syncapp.core.logcontext import log_context
from syncapp.core.text import fit
from syncapp.sync import crashpoints, fetch, lease, resolve, send, signals
from syncapp.sync.clients import open_clients
from syncapp.sync.conf import SyncConf
from syncapp.sync.models import RunLogLine, RunState, SyncRun
from syncapp.sync.outcomes import summary_line
from syncapp.sync.procore_index import ProcoreIndex
from syncapp.sync.procore_store import ProcoreStore
from syncapp.sync.progress import RunAborted, RunContext

logger = logging.getLogger(__name__)

_AGAIN = "Start the sync again: it resumes where this run stopped."


class RunLifecycle(JobLifecycle[SyncRun]):
    """A background job whose death the run's lock (`sync.lease`) and write deadline also judge."""

    model = SyncRun
    task = "syncapp.sync.tasks.run_sync"
    task_name = "sync-run-{pk}"
    started_action = "sync.started"
    audit_key = "run_id"
    never_picked_up = f"No worker picked this run up. {_AGAIN}"
    stopped_responding = f"The worker stopped responding. {_AGAIN}"

    # Why each limit is what it is: sync.conf, beside its default.
    def stale_after(self) -> dt.timedelta:
        return dt.timedelta(seconds=SyncConf.SYNC_STALE_SECONDS)

    def hung_after(self) -> dt.timedelta:
        return dt.timedelta(seconds=SyncConf.SYNC_HUNG_SECONDS)

    def queued_stale_after(self) -> dt.timedelta:
        return dt.timedelta(seconds=SyncConf.SYNC_QUEUED_STALE_SECONDS)

    def started_summary(self, run: SyncRun) -> str:
        what = "Dry run" if run.dry_run else "Sync"
        return f"{what} of payments requested ({run.get_trigger_display()})"

    def death_of(self, run: SyncRun, now: dt.datetime) -> str | None:
        """The heartbeat's verdict, unless the run's lock (PostgreSQL) says more, sooner or later."""
        if run.state == RunState.QUEUED:
            return super().death_of(run, now)
        if run.write_until and run.write_until > now:
            # A request it sent to Procore may still land (or, were its process frozen, still leave:
            # the process itself refuses to send past this moment, progress.RunContext._fence).
            return None
        if not (run.worker_lock and lease.locks_available()):
            return super().death_of(run, now)
        if run.last_seen < now - self.hung_after():
            return f"The worker ({run.worker}) stopped responding, though its process is still there. {_AGAIN}"
        if lease.holder_is_gone(run.pk):
            return f"The worker ({run.worker}) is gone: its process ended in the middle of the run. {_AGAIN}"
        return None

    def declared_dead(self, run: SyncRun, message: str) -> None:
        RunLogLine.objects.create(run=run, level="error", message=message)
        _announce_end(run)


RUNS = RunLifecycle()


def active_run(*, integration: Integration) -> SyncRun | None:
    return RUNS.active(integration=integration)


def recover_stale_runs(*, integration: Integration | None = None, now: dt.datetime | None = None) -> list[SyncRun]:
    """Mark runs whose worker died as failed (never "running" forever). Returns them."""
    return RUNS.recover_stale(integration=integration, now=now)


def _announce_end(run: SyncRun) -> None:
    """Tell alerts and schedules that `run` ended; what they do cannot change how it ended."""
    for receiver, result in signals.run_ended.send_robust(sender=SyncRun, run=run):
        if isinstance(result, Exception):
            logger.error("after run %s: %s failed", run.pk, receiver, exc_info=result)


def start_run(
    *,
    integration: Integration,
    trigger: str,
    requested_by=None,
    dry_run: bool = False,
    since: dt.date | None = None,
    resumes: SyncRun | None = None,
    bill_ids: list[str] | None = None,
) -> tuple[SyncRun, bool]:
    """Create a queued run, or return the one already queued or running. (run, created).
    `bill_ids`: a targeted run (Xero webhook) that handles only these bills' payments."""
    return RUNS.start(
        integration=integration,
        requested_by=requested_by,
        trigger=trigger,
        dry_run=dry_run,
        since=since,
        resumes=resumes,
        bill_ids=bill_ids or [],
    )


def request_run(*, integration: Integration, requested_by=None, dry_run: bool = False) -> tuple[SyncRun, bool]:
    """The button: start a run and queue it for the worker once the transaction commits."""
    run, created = start_run(
        integration=integration, trigger=SyncRun.Trigger.BUTTON, requested_by=requested_by, dry_run=dry_run
    )
    if created:
        enqueue_run(run)
    return run, created


def enqueue_run(run: SyncRun) -> None:
    RUNS.enqueue(run)


def resume_run(*, run: SyncRun, requested_by=None) -> tuple[SyncRun, bool]:
    """Start again after a failed or paused run; the new run picks up from the watermark and
    reconciles any payment left half-sent."""
    run, created = start_run(
        integration=run.integration,
        trigger=SyncRun.Trigger.RESUME,
        requested_by=requested_by,
        dry_run=run.dry_run,
        since=run.since,
        resumes=run,
        bill_ids=run.bill_ids,
    )
    if created:
        enqueue_run(run)
    return run, created


def claim_run(run_id: int) -> SyncRun | None:
    return SyncRun.claim(run_id)


def execute_run(run_id: int) -> SyncRun:
    """Do the run (fetch, resolve, send, reversals) and record how it ended. A run another worker
    claimed (a task delivered twice, the command taking over a queued run) is left to it."""
    return take_and_execute(run_id) or SyncRun.objects.get(pk=run_id)


def take_and_execute(run_id: int) -> SyncRun | None:
    """`execute_run`, saying whether this process did it: None when another worker claimed it."""
    held = lease.acquire(run_id)  # before the claim: a running run's lock is always taken
    if held is None:
        return None
    try:
        with log_context(run_id=held.run_id):  # every log line of the run says which run
            run = _claim_under(held)
            return None if run is None else _execute(run)
    finally:
        held.release()  # after the run's end is recorded, or at a crash


def _claim_under(held: lease.RunLease) -> SyncRun | None:
    run = claim_run(held.run_id)
    if run is None:
        return None
    run.worker, run.worker_lock = fit(SyncRun, "worker", held.worker), held.locked
    SyncRun.objects.filter(pk=run.pk, state=RunState.RUNNING).update(worker=run.worker, worker_lock=run.worker_lock)
    return run


def _execute(run: SyncRun) -> SyncRun:
    ctx = RunContext(run)
    ctx.log(f"Run started by {run.worker}" + (" (dry run: nothing is written to Procore)" if run.dry_run else ""))
    try:
        _pipeline(ctx)
    except RunAborted:
        # Declared dead while this worker was slow: the run's row now belongs to whoever did
        # that (and maybe a newer run). Write nothing more; say so in the server log only.
        ctx.log(
            "The worker of this run came back after the run was declared dead; it stopped without "
            "sending anything more.",
            level="warning",
        )
        ctx.run.refresh_from_db()
        return ctx.run
    except RateLimited as exc:  # Xero's day limit, Procore's hour: a pause, never a failure
        _pause(ctx, exc)
    except NeedsReconnect as exc:
        _mark_reconnect(ctx, exc)
        if _finish(ctx, RunState.FAILED, error=exc.message):
            ctx.log(f"Run failed: {exc.message}", level="error")
    except Exception as exc:  # the run failed; record why for people, with the traceback for us
        logger.exception("sync run %s failed", run.pk)
        message = getattr(exc, "message", "") or f"Unexpected error ({type(exc).__name__})"
        if _finish(ctx, RunState.FAILED, error=message):
            ctx.log(f"Run failed: {message}", level="error")
    else:
        if _finish(ctx, RunState.SUCCEEDED):
            ctx.log(f"Run finished: {summary_line(ctx.run.counts)}")
    return ctx.run


def _pipeline(ctx: RunContext) -> None:
    # The clients sleep through the run (rate-limit waits, backoff): it beats while they wait.
    xero, procore = open_clients(
        ctx.run.integration, xero_counter=ctx.xero_calls, procore_counter=ctx.procore_calls, sleep=ctx.sleep
    )
    try:
        ctx.current_provider = "xero"
        fetch.fetch_all(ctx=ctx, xero=xero)
        crashpoints.reached("after_fetch")
        ctx.current_provider = "procore"
        index = ProcoreIndex(procore, ProcoreStore(ctx.run.integration), log=ctx.log)
        resolve.resolve_pending(ctx=ctx, index=index)
        crashpoints.reached("after_resolve")
        send.send_ready(ctx=ctx, procore=procore, index=index)
        send.settle_deleted_unsent(ctx=ctx, index=index)
        send.reverse_deleted(ctx=ctx, procore=procore, index=index)
    finally:
        xero.close()
        procore.close()


def _pause(ctx: RunContext, exc: RateLimited) -> None:
    """End the run as paused until the limit resets; `tasks.run_sync` schedules the run that resumes
    it then. Payments are left as they were (ready, or "sending" to be reconciled), none failed."""
    if isinstance(exc, DailyLimitReached):
        resume_at = exc.resume_at
        said = (
            f"Xero's daily call limit is reached: paused until {resume_at:%Y-%m-%d %H:%M} UTC. "
            "Everything fetched so far is kept."
        )
        error = exc.message
    else:
        # The client's wait is measured from X-Rate-Limit-Reset (or Retry-After): resume then.
        resume_at = timezone.now() + dt.timedelta(seconds=max(1.0, exc.retry_after))
        # The client's message says when (Procore "try again after 18:05", Xero "try again in 40 s");
        # the card adds "Paused until".
        said = error = f"{exc.message} The run resumes by itself then. No payment was failed for it."
    if _finish(ctx, RunState.PAUSED, error=error, paused_until=resume_at):
        ctx.log(said, level="warning")


def _mark_reconnect(ctx: RunContext, exc: NeedsReconnect) -> None:
    provider = getattr(ctx, "current_provider", "")
    if not provider:
        return
    try:
        connection = get_connection(integration=ctx.run.integration, provider=provider)
        if connection is not None:
            mark_needs_reconnect(connection, reason=exc.message)
    except Exception:  # noting the connection's state must not hide why the run failed
        logger.exception("could not mark the %s connection as needing reconnect", provider)


def _finish(ctx: RunContext, state: str, *, error: str = "", paused_until: dt.datetime | None = None) -> bool:
    """Record how the run ended, only if it is still running (a run recovered as dead keeps its
    "failed"). Returns whether it was recorded."""
    try:
        ctx.beat(force=True)
    except RunAborted:
        ctx.run.refresh_from_db()
        return False
    run = ctx.run
    finished_at = timezone.now()
    if not SyncRun.finish(run.pk, state, error=error, at=finished_at, paused_until=paused_until):
        run.refresh_from_db()
        return False
    run.state = state
    run.error = SyncRun.fit_error(error)
    run.finished_at = finished_at
    run.paused_until = paused_until
    _announce_end(run)
    return True

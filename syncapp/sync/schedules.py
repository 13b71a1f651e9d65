"""Scheduled runs: one django-q2 Schedule per integration, the tick it fires, and auto-pause.

An Admin sets an integration's schedule on the Settings page (off, every N hours, or daily at a
time in the company's timezone); `apply_schedule` keeps the integration's q2 Schedule row
(`sync-schedule-<integration id>`) in step. The q2 scheduler reads its rows on every tick, so a
change takes effect without restarting the worker.

Each tick (`tasks.scheduled_run` -> `run_scheduled`) starts a run with the "schedule" trigger,
unless one is already queued or running, or the last run is paused by a rate limit and waiting to
resume by itself: then no run is queued behind it, and the tick leaves a "skipped" row in the run
history saying why.

After `pause_after_failures` failed runs in a row (whoever started them), the schedule pauses: the
q2 Schedule is removed and the reason is kept on SyncSettings for Home to show, until an Admin
resumes it (`resume_schedule`).
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule

from syncapp.connections.models import Integration
from syncapp.core import audit
from syncapp.core.text import fit
from syncapp.sync.models import RunLogLine, RunState, SyncRun, SyncSettings
from syncapp.sync.runs import enqueue_run, recover_stale_runs, start_run
from syncapp.sync.tasks import resume_schedule_name

logger = logging.getLogger(__name__)

Mode = SyncSettings.ScheduleMode
TICK_TASK = "syncapp.sync.tasks.scheduled_run"


def schedule_name(integration_id: int) -> str:
    return f"sync-schedule-{integration_id}"


def zone_name(sync_settings: SyncSettings) -> str:
    return sync_settings.schedule_timezone or settings.TIME_ZONE


def is_active(sync_settings: SyncSettings | None) -> bool:
    """Whether the integration's runs start by themselves (a schedule that is on and not paused)."""
    return bool(sync_settings and sync_settings.schedule != Mode.OFF and not sync_settings.schedule_paused_at)


def next_daily_run(*, at: dt.time, zone: str, after: dt.datetime) -> dt.datetime:
    """The first moment strictly after `after` when the wall clock in `zone` reads `at` (in UTC).

    A time the clocks skip on the spring change (02:30 in New York) takes the offset from before
    the change (zoneinfo's fold=0), so that day's run comes an hour later by the wall clock, never
    earlier; a time the autumn change repeats runs at its first occurrence, once."""
    tz = ZoneInfo(zone)
    day = after.astimezone(tz).date()
    while True:
        candidate = dt.datetime.combine(day, at, tzinfo=tz).astimezone(dt.UTC)
        if candidate > after:
            return candidate
        day += dt.timedelta(days=1)


def apply_schedule(*, sync_settings: SyncSettings, now: dt.datetime | None = None):
    """Create, update or remove the integration's q2 Schedule to match its settings. Returns the
    Schedule, or None when runs do not start by themselves (off or paused)."""
    now = now or timezone.now()
    name = schedule_name(sync_settings.integration_id)
    if not is_active(sync_settings):
        Schedule.objects.filter(name=name).delete()
        return None
    existing = Schedule.objects.filter(name=name).first()
    if sync_settings.schedule == Mode.DAILY:
        # Why not q2's own DAILY or CRON arithmetic alone: both follow the server's TIME_ZONE
        # (django_q.utils.localtime; croniter is given the server's local time), not the company's,
        # so across a DST change in the company's zone they run an hour off. We compute next_run
        # in the company's zone here and again at every tick (`_rearm`). The type stays DAILY so a
        # tick whose task never ran still fires the next day (at worst an hour off), not never.
        values = {
            "schedule_type": Schedule.DAILY,
            "minutes": None,
            "next_run": next_daily_run(at=sync_settings.schedule_daily_at, zone=zone_name(sync_settings), after=now),
        }
    else:
        # Every N hours: q2's MINUTES type adds N*60 minutes to each next_run (no wall clock, so
        # no DST question). An unchanged interval keeps its next run, so saving other settings
        # does not push the schedule back.
        minutes = sync_settings.schedule_every_hours * 60
        same = existing and existing.schedule_type == Schedule.MINUTES and existing.minutes == minutes
        values = {
            "schedule_type": Schedule.MINUTES,
            "minutes": minutes,
            "next_run": existing.next_run if same and existing.next_run else now + dt.timedelta(minutes=minutes),
        }
    schedule, _ = Schedule.objects.update_or_create(
        name=name,
        defaults={"func": TICK_TASK, "args": repr(sync_settings.integration_id), "repeats": -1, **values},
    )
    return schedule


def next_run_at(*, integration: Integration) -> dt.datetime | None:
    """When the schedule next starts a run (None: no schedule)."""
    return Schedule.objects.filter(name=schedule_name(integration.pk)).values_list("next_run", flat=True).first()


def update_schedule(
    *,
    integration: Integration,
    schedule: str,
    every_hours: int,
    daily_at: dt.time,
    zone: str,
    pause_after_failures: int,
    actor=None,
) -> SyncSettings:
    """An Admin changes the schedule of an integration: saved, audited, and in force at the q2
    scheduler's next tick. Switching it off ends a pause (there is nothing left to pause)."""
    now = timezone.now()
    with transaction.atomic():
        current, _ = SyncSettings.objects.select_for_update().get_or_create(integration=integration)
        was_on = current.schedule != Mode.OFF
        wanted = {
            "schedule": schedule,
            "schedule_every_hours": every_hours,
            "schedule_daily_at": daily_at,
            "schedule_timezone": zone,
            "pause_after_failures": pause_after_failures,
        }
        changes = {
            name: (str(getattr(current, name)), str(value))
            for name, value in wanted.items()
            if getattr(current, name) != value
        }
        for name, value in wanted.items():
            setattr(current, name, value)
        if schedule == Mode.OFF:
            current.schedule_paused_at, current.schedule_paused_reason = None, ""
        elif not was_on:
            current.failures_count_from = now  # failures from before it was on are not its own
        current.save()
        apply_schedule(sync_settings=current, now=now)
        if changes:
            said = ", ".join(f"{name.replace('_', ' ')} from {old} to {new}" for name, (old, new) in changes.items())
            audit.record(
                action="schedule.changed",
                summary=f"Changed {said}",
                actor=actor,
                integration=integration,
                changes=changes,
            )
    return current


# --- The tick ------------------------------------------------------------------------------------


def run_scheduled(*, integration_id: int, now: dt.datetime | None = None) -> str:
    """What a tick of the integration's schedule does. Safe to run twice: a second tick finds the
    first one's run active and is skipped."""
    now = now or timezone.now()
    sync_settings = SyncSettings.objects.select_related("integration").filter(integration_id=integration_id).first()
    if not is_active(sync_settings):
        # A tick already on its way when the schedule was switched off, paused, or the
        # integration removed: it does nothing, and no row of it stays behind.
        Schedule.objects.filter(name=schedule_name(integration_id)).delete()
        return "schedule off"
    integration = sync_settings.integration
    _rearm(sync_settings, now)
    recover_stale_runs(integration=integration, now=now)
    waiting = _paused_run_waiting(integration=integration, now=now)
    if waiting is not None:
        local = waiting.paused_until.astimezone(ZoneInfo(zone_name(sync_settings)))
        return _skip(
            integration,
            f"Skipped: run #{waiting.pk} is paused by a rate limit until {local:%Y-%m-%d %H:%M %Z} and resumes by "
            "itself then; a second run would only wait for the same limit.",
        )
    run, created = start_run(integration=integration, trigger=SyncRun.Trigger.SCHEDULE)
    if created:
        enqueue_run(run)
        return f"run {run.pk}"
    what = "queued" if run.state == RunState.QUEUED else "still running"
    return _skip(integration, f"Skipped: run #{run.pk} was {what}; this scheduled run was not queued behind it.")


def _rearm(sync_settings: SyncSettings, now: dt.datetime) -> None:
    """Daily: set the next run from the company's wall clock (see `apply_schedule` for why).

    This lands after q2's own next_run, never before it: the scheduler saves that in the
    transaction that enqueues this task (the ORM broker's task is invisible until it commits; with
    Redis, this UPDATE waits on the row the scheduler holds with select_for_update)."""
    if sync_settings.schedule != Mode.DAILY:
        return
    following = next_daily_run(at=sync_settings.schedule_daily_at, zone=zone_name(sync_settings), after=now)
    Schedule.objects.filter(name=schedule_name(sync_settings.integration_id), schedule_type=Schedule.DAILY).update(
        next_run=following
    )


def _paused_run_waiting(*, integration: Integration, now: dt.datetime) -> SyncRun | None:
    """The integration's last run, if a rate limit paused it and its own resume is still to come
    (its time is ahead, or its resume task has not fired yet)."""
    last = SyncRun.objects.filter(integration=integration).exclude(state=RunState.SKIPPED).first()
    if last is None or last.state != RunState.PAUSED or last.paused_until is None:
        return None
    if last.paused_until > now:
        return last
    resume_pending = Schedule.objects.filter(name=resume_schedule_name(last.pk)).exclude(repeats=0).exists()
    return last if resume_pending else None


def _skip(integration: Integration, reason: str) -> str:
    """A row in the run history (state "skipped", never active) so people see the tick happened."""
    now = timezone.now()
    run = SyncRun.objects.create(
        integration=integration,
        trigger=SyncRun.Trigger.SCHEDULE,
        state=RunState.SKIPPED,
        finished_at=now,
        error=fit(SyncRun, "error", reason),
    )
    RunLogLine.objects.create(run=run, message=fit(RunLogLine, "message", reason))
    return "skipped"


# --- Auto-pause ----------------------------------------------------------------------------------


def consecutive_failures(*, integration: Integration, since: dt.datetime | None, limit: int) -> list[SyncRun]:
    """The integration's last finished runs that failed, newest first, up to `limit` and back to
    the last success. Paused and skipped runs neither count nor break the streak."""
    runs = SyncRun.objects.filter(integration=integration, state__in=[RunState.SUCCEEDED, RunState.FAILED])
    if since is not None:
        runs = runs.filter(finished_at__gte=since)
    failed = []
    for run in runs.order_by("-finished_at", "-id")[:limit]:
        if run.state != RunState.FAILED:
            break
        failed.append(run)
    return failed


def pause_if_failing(*, integration: Integration) -> bool:
    """Pause the integration's schedule once its runs failed `pause_after_failures` times in a row.
    Returns whether this call paused it (a conditional update: concurrent ends pause it once)."""
    sync_settings = SyncSettings.objects.filter(integration=integration).first()
    if not is_active(sync_settings) or sync_settings.pause_after_failures == 0:
        return False
    threshold = sync_settings.pause_after_failures
    failed = consecutive_failures(integration=integration, since=sync_settings.failures_count_from, limit=threshold)
    if len(failed) < threshold:
        return False
    last = failed[0]
    reason = fit(
        SyncSettings,
        "schedule_paused_reason",
        f"{threshold} runs failed in a row; the last one (run #{last.pk}) said: {last.error or 'no reason given'}",
    )
    with transaction.atomic():
        paused = (
            SyncSettings.objects.filter(pk=sync_settings.pk, schedule_paused_at__isnull=True)
            .exclude(schedule=Mode.OFF)
            .update(schedule_paused_at=timezone.now(), schedule_paused_reason=reason)
        )
        if not paused:
            return False
        sync_settings.refresh_from_db()
        apply_schedule(sync_settings=sync_settings)
        audit.record(
            action="schedule.paused",
            summary=f"Schedule paused: {reason}",
            integration=integration,
            run_id=last.pk,
        )
    return True


def resume_schedule(*, integration: Integration, actor=None) -> bool:
    """An Admin resumes a paused schedule: the q2 Schedule is back, and only failures from now on
    count towards the next pause. Returns whether it was paused."""
    now = timezone.now()
    with transaction.atomic():
        sync_settings = SyncSettings.objects.select_for_update().filter(integration=integration).first()
        if sync_settings is None or sync_settings.schedule_paused_at is None:
            return False
        sync_settings.schedule_paused_at, sync_settings.schedule_paused_reason = None, ""
        sync_settings.failures_count_from = now
        sync_settings.save(update_fields=["schedule_paused_at", "schedule_paused_reason", "failures_count_from"])
        apply_schedule(sync_settings=sync_settings, now=now)
        audit.record(action="schedule.resumed", summary="Schedule resumed", actor=actor, integration=integration)
    return True


def on_settings_deleted(sender, instance: SyncSettings, **kwargs) -> None:
    """`post_delete` receiver: an integration removed takes its settings, and so its schedule, along."""
    Schedule.objects.filter(name=schedule_name(instance.integration_id)).delete()


def on_run_ended(sender, run: SyncRun, **kwargs) -> None:
    """`signals.run_ended` receiver (connected in SyncConfig.ready)."""
    if run.state == RunState.FAILED:
        pause_if_failing(integration=run.integration)

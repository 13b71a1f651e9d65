"""Scheduled runs: the q2 Schedule each integration's settings give, the run each tick starts (or
the "skipped" line it leaves when a run is active or waiting for a rate limit), daily times in the
company's timezone across DST changes, and the pause after failed runs in a row."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_q.models import OrmQ, Schedule
from django_q.signing import SignedPackage

from syncapp.connections.models import Integration
from syncapp.core.models import AuditEntry
from syncapp.sync import schedules, tasks
from syncapp.sync.models import RunState, SyncRun, SyncSettings
from syncapp.sync.runs import execute_run, start_run

UTC = dt.UTC
NEW_YORK = "America/New_York"


@pytest.fixture
def integration(db) -> Integration:
    return Integration.objects.create(name="northwind")


def set_schedule(integration: Integration, schedule: str = "daily", **fields) -> SyncSettings:
    values = {
        "every_hours": 6,
        "daily_at": dt.time(2, 0),
        "zone": "Australia/Sydney",
        "pause_after_failures": 3,
    }
    values.update(fields)
    return schedules.update_schedule(integration=integration, schedule=schedule, **values)


def the_schedule(integration: Integration) -> Schedule:
    return Schedule.objects.get(name=f"sync-schedule-{integration.pk}")


def queued_tasks() -> list[dict]:
    return [SignedPackage.loads(q.payload) for q in OrmQ.objects.all()]


# --- Daily at a time in the company's timezone ---------------------------------------------------


def test_daily_at_six_in_new_york_is_eleven_utc_before_the_spring_change_and_ten_after():
    six = dt.time(6, 0)
    before = schedules.next_daily_run(at=six, zone=NEW_YORK, after=dt.datetime(2026, 3, 6, 12, tzinfo=UTC))
    after = schedules.next_daily_run(at=six, zone=NEW_YORK, after=dt.datetime(2026, 3, 7, 12, tzinfo=UTC))
    assert before == dt.datetime(2026, 3, 7, 11, tzinfo=UTC)  # EST, UTC-5
    assert after == dt.datetime(2026, 3, 8, 10, tzinfo=UTC)  # EDT, UTC-4 (clocks went forward at 02:00)
    assert after.astimezone(ZoneInfo(NEW_YORK)).time() == six


def test_a_time_the_spring_change_skips_runs_an_hour_later_that_day_and_on_time_the_next():
    half_past_two = dt.time(2, 30)
    that_day = schedules.next_daily_run(at=half_past_two, zone=NEW_YORK, after=dt.datetime(2026, 3, 8, 0, tzinfo=UTC))
    next_day = schedules.next_daily_run(at=half_past_two, zone=NEW_YORK, after=that_day)
    assert that_day.astimezone(ZoneInfo(NEW_YORK)).strftime("%H:%M %Z") == "03:30 EDT"
    assert next_day.astimezone(ZoneInfo(NEW_YORK)).strftime("%d %H:%M %Z") == "09 02:30 EDT"


def test_a_time_the_autumn_change_repeats_runs_once():
    berlin, half_past_two = "Europe/Berlin", dt.time(2, 30)  # 25 Oct 2026: 03:00 CEST -> 02:00 CET
    first = schedules.next_daily_run(at=half_past_two, zone=berlin, after=dt.datetime(2026, 10, 24, 12, tzinfo=UTC))
    following = schedules.next_daily_run(at=half_past_two, zone=berlin, after=first)
    assert first == dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # the first 02:30 (CEST)
    assert following == dt.datetime(2026, 10, 26, 1, 30, tzinfo=UTC)  # not the second 02:30 an hour later


def test_each_daily_tick_sets_the_next_run_from_the_company_clock_across_a_dst_change(integration):
    set_schedule(integration, "daily", daily_at=dt.time(6, 0), zone=NEW_YORK)
    tick = dt.datetime(2026, 3, 7, 11, 0, 2, tzinfo=UTC)  # Saturday 06:00:02 EST
    schedule = the_schedule(integration)
    schedule.next_run = dt.datetime(2026, 3, 7, 11, tzinfo=UTC)
    # What q2's DAILY arithmetic alone gives (server TIME_ZONE is UTC), and saves as it fires the
    # tick: 24 hours on, which is 07:00 in New York on Sunday.
    by_q2 = schedule.calculate_next_run()
    assert by_q2 == dt.datetime(2026, 3, 8, 11, tzinfo=UTC)
    Schedule.objects.filter(pk=schedule.pk).update(next_run=by_q2)

    schedules.run_scheduled(integration_id=integration.pk, now=tick)

    assert the_schedule(integration).next_run == dt.datetime(2026, 3, 8, 10, tzinfo=UTC)  # 06:00 EDT


# --- The q2 Schedule follows the settings --------------------------------------------------------


def test_daily_creates_one_daily_schedule_at_the_next_local_time(integration):
    before = timezone.now()
    set_schedule(integration, "daily", daily_at=dt.time(2, 0), zone="Australia/Sydney")
    schedule = the_schedule(integration)
    assert schedule.func == "syncapp.sync.tasks.scheduled_run" and schedule.args == repr(integration.pk)
    assert schedule.schedule_type == Schedule.DAILY and schedule.repeats == -1
    local = schedule.next_run.astimezone(ZoneInfo("Australia/Sydney"))
    assert local.time() == dt.time(2, 0)
    assert before < schedule.next_run <= before + dt.timedelta(days=1)


def test_every_n_hours_is_a_minutes_schedule_and_keeps_its_next_run_when_saved_unchanged(integration):
    set_schedule(integration, "every_hours", every_hours=4)
    schedule = the_schedule(integration)
    assert schedule.schedule_type == Schedule.MINUTES and schedule.minutes == 240
    first_next = schedule.next_run

    set_schedule(integration, "every_hours", every_hours=4, pause_after_failures=5)
    assert the_schedule(integration).next_run == first_next

    set_schedule(integration, "every_hours", every_hours=2)
    assert the_schedule(integration).minutes == 120 and the_schedule(integration).next_run < first_next


def test_switching_the_schedule_off_removes_it_and_the_change_is_audited(integration, admin_user):
    set_schedule(integration, "daily")
    schedules.update_schedule(
        integration=integration,
        schedule="off",
        every_hours=6,
        daily_at=dt.time(2, 0),
        zone="Australia/Sydney",
        pause_after_failures=3,
        actor=admin_user,
    )
    assert not Schedule.objects.filter(name=f"sync-schedule-{integration.pk}").exists()
    entry = AuditEntry.objects.filter(action="schedule.changed").latest("id")
    assert entry.actor == admin_user and "schedule from daily to off" in entry.summary


# --- The tick ------------------------------------------------------------------------------------


def test_the_q2_scheduler_fires_a_due_schedule_as_a_scheduled_run_task(integration, monkeypatch):
    from django_q import scheduler as q2_scheduler
    from django_q.brokers import get_broker

    # It closes stale connections first, which would close the test's transaction.
    monkeypatch.setattr(q2_scheduler, "close_old_django_connections", lambda: None)
    scheduler = q2_scheduler.scheduler

    set_schedule(integration, "every_hours", every_hours=2)
    due = timezone.now() - dt.timedelta(seconds=1)
    Schedule.objects.filter(name=f"sync-schedule-{integration.pk}").update(next_run=due)

    scheduler(broker=get_broker())  # what the worker's scheduler does on each tick

    # (the data migrations' own schedules, e.g. the dead-run check, are due too)
    [task] = [t for t in queued_tasks() if t["func"] == "syncapp.sync.tasks.scheduled_run"]
    assert task["args"] == (integration.pk,)
    assert the_schedule(integration).next_run == due + dt.timedelta(hours=2)


def test_a_tick_starts_a_run_with_the_schedule_trigger_and_hands_it_to_the_worker(
    integration, django_capture_on_commit_callbacks
):
    set_schedule(integration, "every_hours")
    with django_capture_on_commit_callbacks(execute=True):
        tasks.scheduled_run(integration.pk)
    run = SyncRun.objects.get(integration=integration)
    assert run.trigger == SyncRun.Trigger.SCHEDULE and run.state == RunState.QUEUED
    assert run.get_trigger_display() == "Scheduled"
    [task] = queued_tasks()
    assert task["func"] == "syncapp.sync.tasks.run_sync" and task["args"] == (run.pk,)


def test_a_tick_while_a_run_is_running_is_skipped_with_a_line_in_the_history(
    integration, django_capture_on_commit_callbacks
):
    set_schedule(integration, "every_hours")
    running = SyncRun.objects.create(integration=integration, trigger="button", state=RunState.RUNNING)
    SyncRun.objects.filter(pk=running.pk).update(heartbeat_at=timezone.now(), started_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.scheduled_run(integration.pk) == "skipped"

    assert SyncRun.objects.filter(integration=integration, state__in=["queued", "running"]).get() == running
    skipped = SyncRun.objects.get(integration=integration, state=RunState.SKIPPED)
    assert skipped.trigger == SyncRun.Trigger.SCHEDULE and skipped.finished_at is not None
    assert f"run #{running.pk} was still running" in skipped.error
    assert skipped.log_lines.get().message == skipped.error
    assert queued_tasks() == []


def test_a_skipped_tick_does_not_count_as_a_run_that_ended(integration):
    set_schedule(integration, "every_hours")
    SyncRun.objects.create(integration=integration, trigger="button", state=RunState.QUEUED)
    tasks.scheduled_run(integration.pk)
    # The next tick with nothing active starts a run: a skipped row never blocks one.
    SyncRun.objects.filter(state=RunState.QUEUED).update(state=RunState.SUCCEEDED, finished_at=timezone.now())
    assert tasks.scheduled_run(integration.pk).startswith("run ")


def test_a_tick_of_a_schedule_switched_off_or_paused_does_nothing_and_removes_its_row(integration):
    set_schedule(integration, "every_hours")
    SyncSettings.objects.filter(integration=integration).update(
        schedule_paused_at=timezone.now(), schedule_paused_reason="3 runs failed in a row"
    )
    assert tasks.scheduled_run(integration.pk) == "schedule off"
    assert not SyncRun.objects.exists()
    assert not Schedule.objects.filter(name=f"sync-schedule-{integration.pk}").exists()


def test_removing_an_integration_removes_its_schedule(integration):
    set_schedule(integration, "every_hours")
    other = Integration.objects.create(name="southwind")
    set_schedule(other, "daily")
    removed = f"sync-schedule-{integration.pk}"
    assert Schedule.objects.filter(name=removed).exists()
    integration.delete()
    assert not Schedule.objects.filter(name=removed).exists()
    assert Schedule.objects.filter(name=f"sync-schedule-{other.pk}").exists()


def test_a_tick_already_on_its_way_for_a_removed_integration_does_nothing(integration):
    set_schedule(integration, "every_hours")
    integration_id = integration.pk
    integration.delete()
    assert tasks.scheduled_run(integration_id) == "schedule off"
    assert not SyncRun.objects.exists()


def test_a_tick_while_the_last_run_waits_for_its_rate_limit_is_skipped(integration):
    set_schedule(integration, "every_hours")
    now = timezone.now()
    paused = SyncRun.objects.create(
        integration=integration,
        trigger="button",
        state=RunState.PAUSED,
        finished_at=now,
        paused_until=now + dt.timedelta(minutes=40),
    )
    tasks.schedule_resume(paused)

    assert tasks.scheduled_run(integration.pk) == "skipped"
    # Past paused_until, but before the resume schedule fired (a busy scheduler): still waiting.
    later = now + dt.timedelta(minutes=41)
    assert schedules.run_scheduled(integration_id=integration.pk, now=later) == "skipped"

    assert not SyncRun.objects.filter(state__in=["queued", "running"]).exists()
    lines = list(SyncRun.objects.filter(state=RunState.SKIPPED).values_list("error", flat=True))
    assert len(lines) == 2 and all(f"run #{paused.pk} is paused by a rate limit" in line for line in lines)


def test_a_paused_run_whose_resume_already_fired_no_longer_holds_the_schedule(integration):
    set_schedule(integration, "every_hours")
    past = timezone.now() - dt.timedelta(minutes=5)
    paused = SyncRun.objects.create(
        integration=integration, trigger="button", state=RunState.PAUSED, finished_at=past, paused_until=past
    )
    tasks.schedule_resume(paused)
    Schedule.objects.filter(name=f"resume-sync-run-{paused.pk}").update(repeats=0)  # what q2 does once it fired
    assert tasks.scheduled_run(integration.pk).startswith("run ")


@pytest.mark.django_db(transaction=True)
def test_a_run_paused_by_xeros_day_limit_resumes_by_itself_and_no_scheduled_run_starts_meanwhile(world):
    from syncapp.sandbox.models import Behaviour
    from syncapp.sandbox.xero import limits

    set_schedule(world.integration, "every_hours", every_hours=1)
    limits.reset()
    Behaviour.set("xero", day_limit=1)  # the first page of payments, then the day-limit 429
    run, _ = start_run(integration=world.integration, trigger="button")
    assert tasks.run_sync(run.pk) == RunState.PAUSED

    assert tasks.scheduled_run(world.integration.pk) == "skipped"
    assert SyncRun.objects.filter(integration=world.integration).exclude(state=RunState.SKIPPED).count() == 1

    # The limit resets; the paused run's own resume starts it again, and a tick meanwhile is skipped.
    limits.reset()
    Behaviour.set("xero", day_limit=100_000)
    resumed = SyncRun.objects.get(pk=tasks.resume_paused(run.pk))
    assert tasks.scheduled_run(world.integration.pk) == "skipped"
    assert list(SyncRun.objects.filter(state__in=["queued", "running"])) == [resumed]
    assert tasks.run_sync(resumed.pk) == RunState.SUCCEEDED

    assert tasks.scheduled_run(world.integration.pk).startswith("run ")
    scheduled = SyncRun.objects.get(state=RunState.QUEUED)
    assert scheduled.trigger == SyncRun.Trigger.SCHEDULE
    assert SyncRun.objects.filter(state=RunState.SKIPPED).count() == 2


# --- Auto-pause after failed runs in a row ----------------------------------------------------


def fail_a_run(integration: Integration, trigger: str = "schedule") -> SyncRun:
    """A run that really fails (no connections) and announces its end like any other."""
    run, created = start_run(integration=integration, trigger=trigger)
    assert created
    run = execute_run(run.pk)
    assert run.state == RunState.FAILED
    return run


def succeed_a_run(integration: Integration) -> SyncRun:
    return SyncRun.objects.create(
        integration=integration, trigger="button", state=RunState.SUCCEEDED, finished_at=timezone.now()
    )


def test_the_schedule_pauses_after_three_failed_runs_in_a_row_with_the_reason(integration):
    set_schedule(integration, "daily", pause_after_failures=3)
    fail_a_run(integration)
    fail_a_run(integration, trigger="button")
    assert not SyncSettings.objects.get(integration=integration).schedule_paused_at
    assert Schedule.objects.filter(name=f"sync-schedule-{integration.pk}").exists()

    last = fail_a_run(integration)

    saved = SyncSettings.objects.get(integration=integration)
    assert saved.schedule_paused_at is not None
    assert f"3 runs failed in a row; the last one (run #{last.pk}) said:" in saved.schedule_paused_reason
    assert "not connected" in saved.schedule_paused_reason
    assert not Schedule.objects.filter(name=f"sync-schedule-{integration.pk}").exists()
    entry = AuditEntry.objects.get(action="schedule.paused")
    assert entry.integration == integration and entry.actor is None
    fail_a_run(integration)  # a fourth failure does not pause (nor audit) it again
    assert AuditEntry.objects.filter(action="schedule.paused").count() == 1


def test_a_success_between_failures_restarts_the_count(integration):
    set_schedule(integration, "every_hours", pause_after_failures=2)
    fail_a_run(integration)
    succeed_a_run(integration)
    fail_a_run(integration)
    assert SyncSettings.objects.get(integration=integration).schedule_paused_at is None


def test_paused_and_skipped_runs_neither_count_nor_break_the_streak(integration):
    set_schedule(integration, "every_hours", pause_after_failures=2)
    fail_a_run(integration)
    SyncRun.objects.create(integration=integration, trigger="button", state=RunState.PAUSED, finished_at=timezone.now())
    SyncRun.objects.create(
        integration=integration, trigger="schedule", state=RunState.SKIPPED, finished_at=timezone.now()
    )
    fail_a_run(integration)
    assert SyncSettings.objects.get(integration=integration).schedule_paused_at is not None


def test_failures_never_pause_a_schedule_that_is_off_or_set_not_to_pause(integration):
    set_schedule(integration, "off")
    for _ in range(3):
        fail_a_run(integration)
    assert SyncSettings.objects.get(integration=integration).schedule_paused_at is None

    set_schedule(integration, "every_hours", pause_after_failures=0)
    for _ in range(3):
        fail_a_run(integration)
    assert SyncSettings.objects.get(integration=integration).schedule_paused_at is None


def test_failures_from_before_the_schedule_was_switched_on_do_not_count(integration):
    fail_a_run(integration, trigger="button")
    fail_a_run(integration, trigger="button")
    set_schedule(integration, "every_hours", pause_after_failures=3)
    fail_a_run(integration)
    assert SyncSettings.objects.get(integration=integration).schedule_paused_at is None


def test_resuming_brings_the_schedule_back_and_only_new_failures_count(integration, admin_user):
    set_schedule(integration, "daily", pause_after_failures=2)
    fail_a_run(integration)
    fail_a_run(integration)
    assert SyncSettings.objects.get(integration=integration).schedule_paused_at is not None

    assert schedules.resume_schedule(integration=integration, actor=admin_user)

    saved = SyncSettings.objects.get(integration=integration)
    assert saved.schedule_paused_at is None and saved.schedule_paused_reason == ""
    assert the_schedule(integration).schedule_type == Schedule.DAILY
    assert AuditEntry.objects.get(action="schedule.resumed").actor == admin_user
    fail_a_run(integration)  # one more failure after the resume: not two in a row yet
    assert SyncSettings.objects.get(integration=integration).schedule_paused_at is None
    fail_a_run(integration)
    assert SyncSettings.objects.get(integration=integration).schedule_paused_at is not None

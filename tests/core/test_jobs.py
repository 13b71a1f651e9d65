"""The lifecycle sync runs and reconciliation reports share (`core.jobs`): a start asked again after
a race asks for the same job, and a worker declared dead writes nothing more about its job."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, connection
from django.utils import timezone

from syncapp.connections.models import Integration
from syncapp.core.jobs import BackgroundJob
from syncapp.reconcile.models import ReconciliationReport, ReportState
from syncapp.reconcile.reports import recover_stale_reports, start_report
from syncapp.sync.models import RunState, SyncRun
from syncapp.sync.runs import recover_stale_runs, resume_run, start_run


@pytest.fixture
def integration(db) -> Integration:
    return Integration.objects.create(name="demo")


@contextmanager
def active_job_ends_between_insert_and_look(active: BackgroundJob, end_state: str):
    """The race a start answers by asking again: its INSERT is refused because `active` is still
    queued or running, and `active` ends before the start looks for it. Yields whether it happened."""
    table = active._meta.db_table
    race = SimpleNamespace(refused=False, ended=False)

    def wrapper(execute, sql, params, many, context):
        if race.refused and not race.ended and sql.startswith("SELECT") and table in sql:
            execute(f'UPDATE "{table}" SET "state" = %s WHERE "id" = %s', [end_state, active.pk], False, context)
            race.ended = True
        try:
            return execute(sql, params, many, context)
        except IntegrityError:
            race.refused = race.refused or (sql.startswith("INSERT") and table in sql)
            raise

    with connection.execute_wrapper(wrapper):
        yield race


def test_a_resume_asked_again_after_the_active_run_ended_keeps_the_run_it_resumes(integration):
    paused = SyncRun.objects.create(
        integration=integration, trigger="schedule", state=RunState.PAUSED, since=dt.date(2026, 1, 1), bill_ids=["B-1"]
    )
    now = timezone.now()
    other = SyncRun.objects.create(
        integration=integration, trigger="button", state=RunState.RUNNING, started_at=now, heartbeat_at=now
    )
    with active_job_ends_between_insert_and_look(other, RunState.SUCCEEDED) as race:
        run, created = resume_run(run=paused)
    assert race.ended and created
    run = SyncRun.objects.get(pk=run.pk)
    assert run.resumes_id == paused.pk
    assert (run.trigger, run.since, run.bill_ids) == (SyncRun.Trigger.RESUME, paused.since, ["B-1"])


def test_a_report_asked_again_after_the_active_one_ended_keeps_its_trigger(integration):
    now = timezone.now()
    other = ReconciliationReport.objects.create(
        integration=integration, state=ReportState.RUNNING, started_at=now, heartbeat_at=now
    )
    with active_job_ends_between_insert_and_look(other, ReportState.DONE) as race:
        report, created = start_report(integration=integration, trigger=ReconciliationReport.Trigger.COMMAND)
    assert race.ended and created and report.pk != other.pk
    assert ReconciliationReport.objects.get(pk=report.pk).trigger == ReconciliationReport.Trigger.COMMAND


def test_a_worker_declared_dead_can_neither_beat_nor_overwrite_why(integration):
    report, _ = start_report(integration=integration)
    ReconciliationReport.claim(report.pk)
    ReconciliationReport.objects.filter(pk=report.pk).update(heartbeat_at=timezone.now() - dt.timedelta(hours=1))
    assert recover_stale_reports() == 1
    assert not ReconciliationReport.beat(report.pk, commitments_read=3)
    assert not ReconciliationReport.finish(report.pk, ReportState.FAILED, error="Procore did not answer in time.")
    report.refresh_from_db()
    assert report.state == ReportState.FAILED and report.commitments_read == 0
    assert report.error == "The worker stopped responding. Reconcile again."


def test_a_running_job_beats_and_ends_once_with_its_reason_cut_to_the_column(integration):
    run, _ = start_run(integration=integration, trigger="command")
    assert SyncRun.claim(run.pk) is not None
    assert SyncRun.beat(run.pk, phase="send", progress_done=2)
    assert SyncRun.finish(run.pk, RunState.FAILED, error="x" * 5000)
    assert not SyncRun.finish(run.pk, RunState.SUCCEEDED)
    run.refresh_from_db()
    assert (run.state, run.phase, run.progress_done, len(run.error)) == (RunState.FAILED, "send", 2, 1000)
    assert run.finished_at is not None and not run.is_active


def test_a_job_queued_longer_than_a_task_can_wait_is_failed_and_a_fresh_one_is_left(integration, settings):
    settings.SYNC_QUEUED_STALE_SECONDS = 60
    run, _ = start_run(integration=integration, trigger="schedule")
    assert recover_stale_runs() == []
    SyncRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - dt.timedelta(seconds=61))
    [dead] = recover_stale_runs()
    assert dead.pk == run.pk and dead.state == RunState.FAILED and "No worker picked this run up" in dead.error
    assert dead.log_lines.filter(level="error").exists()

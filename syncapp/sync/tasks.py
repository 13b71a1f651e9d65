"""django-q2 entry points. Thin: load by id, call the service; safe to run twice."""

from __future__ import annotations

from django_q.models import Schedule

from syncapp.sync.models import RunState, SyncRun
from syncapp.sync.runs import recover_stale_runs, resume_run, take_and_execute


def run_sync(run_id: int) -> str:
    """Execute a queued run. A second delivery, or a task picked up after `sync_payments` took the
    run over, finds it claimed and does nothing."""
    run = take_and_execute(run_id)
    if run is None:
        return "claimed elsewhere"
    if run.state == RunState.PAUSED and run.paused_until:
        schedule_resume(run)
    return run.state


def schedule_resume(run: SyncRun) -> None:
    """A run paused by a rate limit (Xero's day, Procore's hour) starts again by itself when the
    limit resets: one django-q schedule per paused run, at its paused_until."""
    Schedule.objects.get_or_create(
        name=resume_schedule_name(run.pk),
        defaults={
            "func": "syncapp.sync.tasks.resume_paused",
            "args": str(run.pk),
            "schedule_type": Schedule.ONCE,
            "next_run": run.paused_until,
            "repeats": 1,
        },
    )


def resume_schedule_name(run_id: int) -> str:
    return f"resume-sync-run-{run_id}"


def resume_paused(run_id: int) -> int | None:
    run = SyncRun.objects.filter(pk=run_id, state=RunState.PAUSED).first()
    if run is None:
        return None
    new_run, _ = resume_run(run=run)
    return new_run.pk


def recover_stale() -> int:
    """For a schedule: mark runs whose worker died as failed."""
    return len(recover_stale_runs())


def scheduled_run(integration_id: int) -> str:
    """A tick of an integration's schedule (`sync.schedules`): start a run, or skip visibly."""
    from syncapp.sync.schedules import run_scheduled  # local: sync.schedules imports this module

    return run_scheduled(integration_id=integration_id)

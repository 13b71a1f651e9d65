"""Xero's day limit ends a run as paused until a stated time, keeps what was fetched, and the run
starts again by itself (a django-q schedule) once the limit resets."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_q.models import OrmQ, Schedule

from syncapp.sandbox.models import Behaviour
from syncapp.sandbox.xero import limits
from syncapp.sync import tasks
from syncapp.sync.models import Payment, PaymentState, RunState, SyncRun
from syncapp.sync.runs import start_run

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_day_limit_pauses_the_run_keeps_the_fetched_payments_and_schedules_the_resume(world):
    limits.reset()
    Behaviour.set("xero", day_limit=1)  # the first page of payments, then a day-limit 429
    run, _ = start_run(integration=world.integration, trigger="command")

    assert tasks.run_sync(run.pk) == RunState.PAUSED

    run.refresh_from_db()
    assert run.paused_until is not None and run.paused_until > timezone.now()
    assert "daily" in run.error and "tomorrow" in run.error
    fetched = Payment.objects.filter(integration=world.integration)
    assert fetched.count() == len(world.summary.expected)  # the page read before the 429 is kept
    assert not fetched.filter(state=PaymentState.SENT).exists()  # paused before anything was sent
    schedule = Schedule.objects.get(name=f"resume-sync-run-{run.pk}")
    assert schedule.next_run == run.paused_until

    # Tomorrow: the limit has reset, and the scheduled task starts the run again.
    limits.reset()
    Behaviour.set("xero", day_limit=100_000)
    resumed_id = tasks.resume_paused(run.pk)
    resumed = SyncRun.objects.get(pk=resumed_id)
    assert resumed.trigger == SyncRun.Trigger.RESUME and resumed.state == RunState.QUEUED
    assert OrmQ.objects.count() == 1  # handed to the worker, which runs:
    assert tasks.run_sync(resumed_id) == RunState.SUCCEEDED
    assert world.payment(world.summary.cases["full"][0]).state == PaymentState.SENT

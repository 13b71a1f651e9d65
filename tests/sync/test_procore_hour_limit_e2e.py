"""Procore's hourly limit, end to end against the sandbox over HTTP.

Procore's rate-limiting guide: an hourly window (examples 600 or 3,600 calls) beside the 10-second
spike window; "when X-Rate-Limit-Remaining reaches 0, pause requests until after X-Rate-Limit-Reset";
a 429 says when in X-Rate-Limit-Reset (Retry-After is documented for the 503 only). A backfill
larger than the hour's budget pauses the run when the hour is spent (no worker sleeps for the hour,
no payment fails), records paused_until = the reset, and the resume schedule carries on from there
until every payment is sent, each exactly once.
"""

from __future__ import annotations

import datetime as dt
import time

import httpx
import pytest
from django.utils import timezone
from django_q.models import Schedule

from syncapp.sandbox.models import Behaviour
from syncapp.sandbox.procore import ratelimit
from syncapp.sync import tasks
from syncapp.sync.models import Payment, PaymentState, RunState, SyncRun
from syncapp.sync.runs import start_run
from tests.sync.conftest import procore_duplicates

pytestmark = pytest.mark.django_db(transaction=True)

EXPECTED_STATE = {"sent": PaymentState.SENT, "already_sent": PaymentState.SENT, "blocked": PaymentState.BLOCKED,
                  "ignored": PaymentState.SKIPPED}  # fmt: skip


def reads_before_sending(world) -> int:
    """The Procore calls of a run up to its first POST: a dry run makes exactly those reads."""
    run, _ = start_run(integration=world.integration, trigger="command", dry_run=True)
    assert tasks.run_sync(run.pk) == RunState.SUCCEEDED
    return SyncRun.objects.get(pk=run.pk).api_calls_procore


def test_a_backfill_larger_than_the_hour_pauses_at_the_reset_and_resumes_until_all_is_sent_once(world):
    budget = reads_before_sending(world) + 8  # the reads, then eight payments: the hour is spent mid-send
    ratelimit.reset_rate_limits()
    Behaviour.set("procore", hourly_limit=budget)
    run, _ = start_run(integration=world.integration, trigger="command")

    started = time.monotonic()
    assert tasks.run_sync(run.pk) == RunState.PAUSED
    assert time.monotonic() - started < 30  # the worker did not sleep towards the hour's reset

    run.refresh_from_db()
    [reset] = ratelimit.hour_resets().values()  # the X-Rate-Limit-Reset Procore answered
    assert abs(run.paused_until.timestamp() - reset) <= 2
    assert "rate limit is spent until" in run.error and "resumes by itself" in run.error
    payments = Payment.objects.filter(integration=world.integration)
    assert 0 < payments.filter(state=PaymentState.SENT).count() < payments.count()
    assert not payments.filter(state=PaymentState.FAILED).exists()  # a rate limit fails no payment
    assert not payments.filter(state=PaymentState.SENDING).exists()  # the refused POST went back to ready
    schedule = Schedule.objects.get(name=f"resume-sync-run-{run.pk}")
    assert schedule.next_run == run.paused_until and schedule.func == "syncapp.sync.tasks.resume_paused"

    # Each time the hour is over, the schedule's task starts the run again; it pauses again while
    # the backlog is bigger than an hour's budget.
    paused = run
    for _ in range(10):
        ratelimit.end_hours()
        resumed_id = tasks.resume_paused(paused.pk)
        state = tasks.run_sync(resumed_id)
        paused = SyncRun.objects.get(pk=resumed_id)
        assert paused.trigger == SyncRun.Trigger.RESUME
        assert not payments.filter(state=PaymentState.FAILED).exists()
        if state == RunState.SUCCEEDED:
            break
        assert state == RunState.PAUSED and paused.paused_until > timezone.now() + dt.timedelta(minutes=50)
    assert paused.state == RunState.SUCCEEDED, paused.error

    wrong = {
        pid: (outcome, p.state, p.message)
        for pid, outcome in world.summary.expected.items()
        if (p := world.payment(pid)).state != EXPECTED_STATE[outcome]
    }
    assert not wrong
    assert procore_duplicates() == {}  # each payment sent exactly once


def procore(world, **kwargs):
    from syncapp.connections.services import get_connection
    from syncapp.sync.clients import procore_client

    return procore_client(get_connection(integration=world.integration, provider="procore"), **kwargs)


def test_the_sandbox_hour_reports_its_reset_refuses_without_retry_after_and_comes_back_then(world):
    ratelimit.reset_rate_limits()
    Behaviour.set("procore", hourly_limit=3, spike_limit=25)
    with procore(world) as client:
        for _ in range(3):
            client.projects()  # the third is the hour's last call
        token = client._access_token()
    [reset] = ratelimit.hour_resets().values()
    answer = httpx.get(
        f"{world.url}/sandbox/procore/api/rest/v1.0/projects",
        params={"company_id": client.company_id},
        headers={"Authorization": f"Bearer {token}", "Procore-Company-Id": str(client.company_id)},
    )
    assert answer.status_code == 429 and "Retry-After" not in answer.headers
    assert (answer.headers["X-Rate-Limit-Limit"], answer.headers["X-Rate-Limit-Remaining"]) == ("3", "0")
    assert int(answer.headers["X-Rate-Limit-Reset"]) == reset and reset - time.time() > 3500

    ratelimit.end_hours()
    with procore(world) as client:
        assert client.projects()  # the hour reset: calls go again


def test_a_429_without_retry_after_is_waited_until_x_rate_limit_reset(world):
    ratelimit.reset_rate_limits()
    Behaviour.set("procore", hourly_limit=100_000, spike_limit=2, spike_window_seconds=2)
    with procore(world) as first:
        first.projects()
        first.projects()  # the spike window is spent, by another client than the next one
    with procore(world) as second:
        started = time.monotonic()
        assert second.projects()  # refused once (429, no Retry-After), then waited for the reset
        waited = time.monotonic() - started
    assert second.counter.throttled == 1 and second.counter.calls == 2
    assert 0.4 <= waited < 5  # until X-Rate-Limit-Reset (whole seconds, at most the 2 s window away)

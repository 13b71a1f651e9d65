"""`manage.py prune`: rows older than RETENTION_DAYS go; recent rows, unfinished runs' lines and
payments' history stay."""

from __future__ import annotations

import datetime as dt
import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Task

from syncapp.connections.models import Integration
from syncapp.core.retention import prune
from syncapp.sync.models import Payment, PaymentEvent, RunLogLine, RunState, SyncRun

pytestmark = pytest.mark.django_db

NOW = timezone.now()
OLD = NOW - dt.timedelta(days=91)
RECENT = NOW - dt.timedelta(days=89)


@pytest.fixture
def integration() -> Integration:
    return Integration.objects.create(name="northwind")


def run_with_lines(integration, state: str, *, at: dt.datetime, lines: int = 2) -> SyncRun:
    run = SyncRun.objects.create(integration=integration, trigger="command", state=state)
    RunLogLine.objects.bulk_create([RunLogLine(run=run, message=f"line {i}") for i in range(lines)])
    RunLogLine.objects.filter(run=run).update(at=at)  # `at` is auto_now_add
    return run


def finished_task(*, stopped: dt.datetime) -> Task:
    return Task.objects.create(
        id=uuid.uuid4().hex, name=f"task-{uuid.uuid4().hex[:6]}", func="syncapp.core.tasks.beat",
        started=stopped, stopped=stopped, success=True,
    )  # fmt: skip


def test_it_deletes_old_lines_of_finished_runs_and_keeps_recent_ones(integration):
    old_done = run_with_lines(integration, RunState.SUCCEEDED, at=OLD)
    old_failed = run_with_lines(integration, RunState.FAILED, at=OLD)
    recent = run_with_lines(integration, RunState.SUCCEEDED, at=RECENT)
    deleted = prune(days=90, now=NOW)
    assert deleted["sync.RunLogLine"] == 4
    assert not RunLogLine.objects.filter(run__in=[old_done, old_failed]).exists()
    assert RunLogLine.objects.filter(run=recent).count() == 2
    assert SyncRun.objects.filter(pk__in=[old_done.pk, old_failed.pk]).count() == 2  # the run history stays


@pytest.mark.parametrize("state", [RunState.QUEUED, RunState.RUNNING, RunState.PAUSED])
def test_it_never_touches_the_lines_of_an_unfinished_run(integration, state):
    run = run_with_lines(integration, state, at=OLD)
    assert prune(days=90, now=NOW)["sync.RunLogLine"] == 0
    assert RunLogLine.objects.filter(run=run).count() == 2


def test_it_deletes_old_finished_tasks_and_keeps_recent_ones():
    old = [finished_task(stopped=OLD), finished_task(stopped=OLD)]
    recent = finished_task(stopped=RECENT)
    assert prune(days=90, now=NOW)["django_q.Task"] == 2
    assert list(Task.objects.filter(pk__in=[t.pk for t in [*old, recent]]).values_list("pk", flat=True)) == [recent.pk]


def test_it_keeps_payments_and_their_events_however_old(integration):
    run = run_with_lines(integration, RunState.SUCCEEDED, at=OLD)
    payment = Payment.objects.create(integration=integration, xero_payment_id="p-1", payment_type="ACCPAYPAYMENT",
                                     xero_status="AUTHORISED")  # fmt: skip
    PaymentEvent.objects.create(payment=payment, kind="sent", message="Sent to Procore as payment #7", run=run)
    PaymentEvent.objects.update(at=OLD)
    prune(days=90, now=NOW)
    assert PaymentEvent.objects.filter(payment=payment).count() == 1


def test_it_deletes_old_webhook_events_a_run_took_and_keeps_those_still_waiting(integration):
    from django.apps import apps

    if not apps.is_installed("syncapp.webhooks"):
        pytest.skip("the webhooks app is not installed")
    Event = apps.get_model("webhooks", "XeroWebhookEvent")
    run = run_with_lines(integration, RunState.SUCCEEDED, at=RECENT)

    def event(resource: str, *, consumed: bool) -> int:
        return Event.objects.create(
            integration=integration, tenant_id="t", resource_id=resource, event_category="INVOICE",
            event_type="UPDATE", event_date=OLD, consumed_by_run=run if consumed else None,
            consumed_at=OLD if consumed else None,
        ).pk  # fmt: skip

    event("bill-1", consumed=True)
    waiting = event("bill-2", consumed=False)
    recent_taken = event("bill-3", consumed=True)
    Event.objects.exclude(pk=recent_taken).update(received_at=OLD)
    assert prune(days=90, now=NOW)["webhooks.XeroWebhookEvent"] == 1
    assert set(Event.objects.values_list("pk", flat=True)) == {waiting, recent_taken}


def test_the_retention_setting_is_the_default(integration, settings):
    settings.RETENTION_DAYS = 30
    forty_days = run_with_lines(integration, RunState.SUCCEEDED, at=NOW - dt.timedelta(days=40))
    prune()
    assert not RunLogLine.objects.filter(run=forty_days).exists()


def test_the_command_prints_what_it_deleted(integration):
    run_with_lines(integration, RunState.SUCCEEDED, at=OLD, lines=3)
    finished_task(stopped=OLD)
    out = StringIO()
    call_command("prune", stdout=out)
    lines = out.getvalue().splitlines()
    assert "sync.RunLogLine: 3 deleted" in lines
    assert "django_q.Task: 1 deleted" in lines
    assert lines[-1] == "Kept the last 90 days."


def test_the_command_refuses_zero_days():
    err = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("prune", "--days", "0", stderr=err)
    assert exit_.value.code == 2
    assert "--days must be 1 or more" in err.getvalue()

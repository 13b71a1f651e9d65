"""The task between the events and the run: one targeted run per burst, never beside another run,
and events that wait are handed over when the run in the way ends."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_q.models import OrmQ

from syncapp.connections.models import Connection, ConnectionStatus
from syncapp.sync import signals
from syncapp.sync.models import RunState, SyncRun
from syncapp.sync.runs import start_run
from syncapp.webhooks import services
from syncapp.webhooks.models import WebhookDispatch, XeroWebhookEvent
from tests.webhooks.conftest import TENANT, delivery, invoice_event, post

A = "aaaaaaaa-0000-4000-8000-000000000001"
B = "bbbbbbbb-0000-4000-8000-000000000002"
C = "cccccccc-0000-4000-8000-000000000003"

pytestmark = pytest.mark.django_db


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    """Post a signed delivery of INVOICE events for these bills, as Xero would, commit included."""
    sequence = iter(range(1, 1000))

    def send(*bills: str, date: str | None = None):
        moment = date or timezone.now().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        body = delivery(*(invoice_event(bill, date=moment) for bill in bills), sequence=next(sequence))
        with django_capture_on_commit_callbacks(execute=True):
            assert post(client, body).status_code == 200

    return send


class StoppedClock:
    """Django's clock (`timezone.now`, which also stamps each event's received_at), stopped: it
    moves only when the task sleeps, so a loaded machine's slowness cannot count as waiting."""

    def __init__(self):
        self.at = timezone.now()

    def now(self) -> dt.datetime:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.at += dt.timedelta(seconds=seconds)


@pytest.fixture
def stopped_clock(monkeypatch) -> StoppedClock:
    clock = StoppedClock()
    monkeypatch.setattr(timezone, "now", clock.now)
    return clock


def queued(name_prefix: str) -> list[OrmQ]:
    return [task for task in OrmQ.objects.all() if task.task["name"].startswith(name_prefix)]


def end(run: SyncRun, state: str) -> None:
    """How a run's end looks to the rest of the product: its row, then `run_ended`."""
    SyncRun.objects.filter(pk=run.pk).update(state=state, finished_at=timezone.now())
    run.refresh_from_db()
    signals.run_ended.send(sender=SyncRun, run=run)


def test_a_burst_becomes_one_run_with_every_bill(webhook_key, integration, deliver, django_capture_on_commit_callbacks):
    deliver(A, B)
    deliver(C)
    deliver(A)  # the same bill again, a later change
    assert len(queued("webhook-sync-")) == 1

    with django_capture_on_commit_callbacks(execute=True):
        run = services.dispatch(integration.pk)

    assert run.trigger == SyncRun.Trigger.WEBHOOK and run.state == RunState.QUEUED
    assert run.bill_ids == [A, B, C]
    assert not services.waiting(integration).exists()
    assert set(XeroWebhookEvent.objects.values_list("consumed_by_run", flat=True)) == {run.pk}
    assert [task.task["args"] for task in queued("sync-run-")] == [(run.pk,)]
    assert WebhookDispatch.objects.get(integration=integration).armed_at is None
    assert SyncRun.objects.count() == 1


def test_the_run_starts_once_no_event_has_come_for_the_debounce_time(
    settings, webhook_key, integration, deliver, stopped_clock
):
    settings.WEBHOOK_DEBOUNCE_SECONDS = 5
    deliver(A)
    slept = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 2:
            deliver(B)  # another change while the task waits
        stopped_clock.sleep(seconds)

    run = services.dispatch(integration.pk, sleep=sleep)

    assert run.bill_ids == [A, B]
    # B came in one second into A's five: the run waited for B's own five quiet seconds.
    assert 5.5 < sum(slept) <= 6.1


def test_a_steady_stream_of_events_still_gets_its_run_within_four_debounce_times(
    settings, webhook_key, integration, deliver, stopped_clock
):
    settings.WEBHOOK_DEBOUNCE_SECONDS = 5
    deliver(A)
    slept = []
    bills = iter([B, C] + [f"dddddddd-0000-4000-8000-{n:012d}" for n in range(40)])

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        stopped_clock.sleep(seconds)
        deliver(next(bills))  # never quiet

    run = services.dispatch(integration.pk, sleep=sleep)

    assert run is not None and A in run.bill_ids
    assert 19 <= sum(slept) <= 21


def test_no_second_run_while_one_is_going_and_the_events_get_theirs_when_it_ends(
    webhook_key, integration, deliver, django_capture_on_commit_callbacks
):
    running, _ = start_run(integration=integration, trigger=SyncRun.Trigger.BUTTON)
    deliver(A)

    assert services.dispatch(integration.pk) is None
    assert SyncRun.objects.count() == 1
    assert services.waiting(integration).count() == 1  # kept for after
    OrmQ.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):
        end(running, RunState.FAILED)
    [task] = queued("webhook-sync-")  # the end of the run hands the events over
    with django_capture_on_commit_callbacks(execute=True):
        run = services.dispatch(*task.task["args"])
    assert run.bill_ids == [A] and run.trigger == SyncRun.Trigger.WEBHOOK


def test_a_task_that_meets_a_running_run_lets_a_later_delivery_queue_no_task_of_its_own(
    webhook_key, integration, deliver
):
    start_run(integration=integration, trigger=SyncRun.Trigger.BUTTON)
    deliver(A)
    services.dispatch(integration.pk)
    OrmQ.objects.all().delete()
    deliver(B)  # the dispatch is free again: this one queues a task, which also meets the run
    assert len(queued("webhook-sync-")) == 1
    assert services.dispatch(integration.pk) is None
    assert services.waiting(integration).count() == 2


def test_a_full_run_that_succeeded_takes_the_events_received_before_it_started(
    webhook_key, integration, deliver, django_capture_on_commit_callbacks
):
    deliver(A)
    run, _ = start_run(integration=integration, trigger=SyncRun.Trigger.BUTTON)
    SyncRun.objects.filter(pk=run.pk).update(started_at=timezone.now())
    deliver(B)  # came in while the run was reading: it may have missed it
    assert services.dispatch(integration.pk) is None  # the task meets the run
    OrmQ.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):
        end(run, RunState.SUCCEEDED)

    assert XeroWebhookEvent.objects.get(resource_id=A).consumed_by_run == run
    assert list(services.waiting(integration).values_list("resource_id", flat=True)) == [B]
    assert len(queued("webhook-sync-")) == 1


def test_a_run_paused_by_a_rate_limit_holds_the_events_until_it_resumes(webhook_key, integration, deliver):
    run, _ = start_run(integration=integration, trigger=SyncRun.Trigger.BUTTON)
    SyncRun.objects.filter(pk=run.pk).update(state=RunState.PAUSED, paused_until=timezone.now() + dt.timedelta(hours=3))
    deliver(A)
    assert services.dispatch(integration.pk) is None
    assert services.waiting(integration).count() == 1 and SyncRun.objects.count() == 1


def test_events_wait_while_a_connection_needs_reconnecting(webhook_key, integration, deliver):
    Connection.objects.filter(integration=integration, provider="procore").update(
        status=ConnectionStatus.NEEDS_RECONNECT
    )
    deliver(A)
    assert services.dispatch(integration.pk) is None
    assert services.waiting(integration).count() == 1 and not SyncRun.objects.exists()


def test_a_task_lost_with_its_worker_does_not_hold_the_events_for_ever(webhook_key, integration, deliver):
    deliver(A)
    OrmQ.objects.all().delete()  # the worker died with the task
    deliver(B)
    assert not queued("webhook-sync-")  # armed by the lost task
    WebhookDispatch.objects.update(armed_at=timezone.now() - services.STALE_ARMING - dt.timedelta(seconds=1))
    deliver(C)
    assert len(queued("webhook-sync-")) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_task_that_finishes_while_a_delivery_is_being_stored_sees_that_delivery(webhook_key, integration):
    """The delivery finds the dispatch armed (a task is finishing), so it queues nothing: the task
    must then see its event. Its disarm waits for the delivery's commit (the arming lock)."""
    import threading

    from django.db import connection, transaction

    from syncapp.webhooks.xero import XeroEvent

    services.arm(integration.pk)  # the task is on its way
    stored, commit = threading.Event(), threading.Event()
    seen: list[bool] = []

    def delivery() -> None:
        event = XeroEvent(tenant_id=TENANT, resource_id=A, category="INVOICE", event_type="UPDATE", date=timezone.now())
        with transaction.atomic():
            services.record([event])
            assert not services.hand_over(integration.pk)  # armed: nothing queued
            stored.set()
            commit.wait(10)
        connection.close()

    def task_finishing() -> None:
        services._disarm(integration)
        seen.append(services.waiting(integration).exists())
        connection.close()

    storing = threading.Thread(target=delivery)
    storing.start()
    assert stored.wait(10)
    finishing = threading.Thread(target=task_finishing)
    finishing.start()
    with connection.cursor() as cursor:  # until the task's disarm waits on the delivery's lock
        for _ in range(200):
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            if cursor.fetchone()[0] or not finishing.is_alive():
                break
            finishing.join(0.05)
    commit.set()
    storing.join(10)
    finishing.join(10)
    assert seen == [True]


def test_a_targeted_run_paused_by_a_rate_limit_resumes_for_the_same_bills(integration):
    from syncapp.sync.runs import resume_run

    run, _ = start_run(integration=integration, trigger=SyncRun.Trigger.WEBHOOK, bill_ids=[A, B])
    SyncRun.objects.filter(pk=run.pk).update(state=RunState.PAUSED, paused_until=timezone.now())
    run.refresh_from_db()
    resumed, created = resume_run(run=run)
    assert created and resumed.trigger == SyncRun.Trigger.RESUME and resumed.bill_ids == [A, B]


def test_events_wait_for_a_paused_run_to_be_resumed_first_then_for_the_resumed_run(webhook_key, integration, deliver):
    from syncapp.sync.runs import resume_run

    paused, _ = start_run(integration=integration, trigger=SyncRun.Trigger.BUTTON)
    SyncRun.objects.filter(pk=paused.pk).update(state=RunState.PAUSED, paused_until=timezone.now())
    paused.refresh_from_db()
    deliver(A)  # the limit has just reset; the scheduler has not resumed the run yet
    assert services.dispatch(integration.pk) is None

    resumed, created = resume_run(run=paused)  # the scheduler's turn: the paused run goes on
    assert created and resumed.resumes == paused
    SyncRun.objects.filter(pk=resumed.pk).update(state=RunState.SUCCEEDED)
    run = services.dispatch(integration.pk)
    assert run is not None and run.bill_ids == [A]

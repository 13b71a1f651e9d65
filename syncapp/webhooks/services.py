"""From Xero webhook events to targeted runs: stored once, debounced, never beside a running run.

The view only stores and hands over (Xero wants an answer within 5 seconds:
https://developer.xero.com/documentation/webhooks/configuring-your-server). The work is a
django-q2 task per integration, `dispatch`:

1. The first event of a burst arms the integration's `WebhookDispatch` (a conditional UPDATE) and
   queues the task once the transaction commits; later events of the burst find it armed and only
   add their rows.
2. The task waits until no event has come for WEBHOOK_DEBOUNCE_SECONDS (at most four such periods
   after the first one, so a steady stream still gets a run), then starts one run with trigger
   "webhook" and the bills of every waiting event, marks those events taken, and queues the run.
   It is a task, not a django-q schedule, because the scheduler looks at schedules only every
   30 seconds (django_q/cluster.py, Sentinel.guard) and the goal is a payment in Procore within a
   minute.
3. While the integration has a run queued or running (or paused by a rate limit) no second one
   starts: the events wait, and the end of that run (`sync.signals.run_ended`) arms the dispatch
   again. A full run that succeeded has read every change made before it started, so it takes the
   events received before then instead.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable

from django.db import transaction
from django.db.models import Max, Min, QuerySet
from django.utils import timezone
from django_q.tasks import async_task

from syncapp.connections.models import Connection, Integration, Provider
from syncapp.connections.services import connection_problem
from syncapp.sync.models import ACTIVE_RUN_STATES, RunState, SyncRun
from syncapp.sync.runs import enqueue_run, start_run
from syncapp.webhooks.conf import WebhooksConf
from syncapp.webhooks.models import WebhookDispatch, XeroWebhookEvent
from syncapp.webhooks.xero import INVOICE, XeroEvent, events

logger = logging.getLogger(__name__)

# A task that has not shown life for this long is gone (a worker killed mid-wait): its arming no
# longer stops the next event or run end from queueing another.
STALE_ARMING = dt.timedelta(minutes=10)
TASK = "syncapp.webhooks.tasks.dispatch"
RESUME_GRACE = dt.timedelta(minutes=2)


def debounce() -> dt.timedelta:
    return dt.timedelta(seconds=WebhooksConf.WEBHOOK_DEBOUNCE_SECONDS)


# --- the request ------------------------------------------------------------------------------


def receive(body: bytes) -> None:
    """Store the INVOICE events of a signed delivery and hand each integration's over to a task."""
    with transaction.atomic():
        for integration_id in record(events(body)):
            hand_over(integration_id)


def record(received: Iterable[XeroEvent]) -> set[int]:
    """Keep each INVOICE event once per integration connected to its organisation (a CONTACT
    event changes no payment; an unknown organisation is none of ours). Returns the integrations
    the events are for."""
    invoice_events = [event for event in received if event.category == INVOICE]
    if not invoice_events:
        return set()
    integrations_of = _integrations_by_tenant()
    rows = [
        XeroWebhookEvent(
            integration_id=integration_id,
            tenant_id=event.tenant_id,
            resource_id=event.resource_id,
            event_category=event.category,
            event_type=event.event_type,
            event_date=event.date,
        )
        for event in invoice_events
        for integration_id in integrations_of.get(event.tenant_id, ())
    ]
    XeroWebhookEvent.objects.bulk_create(rows, ignore_conflicts=True)  # a repeated delivery adds nothing
    return {row.integration_id for row in rows}


def _integrations_by_tenant() -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    connections = Connection.objects.filter(provider=Provider.XERO).exclude(tenant_id="")
    for tenant_id, integration_id in connections.values_list("tenant_id", "integration_id"):
        found.setdefault(tenant_id.strip().lower(), []).append(integration_id)
    return found


def hand_over(integration_id: int) -> bool:
    """Queue the integration's dispatch task once the transaction commits, unless one is on its
    way already. Returns whether this call queued it."""
    if not arm(integration_id):
        return False
    transaction.on_commit(lambda: async_task(TASK, integration_id, task_name=f"webhook-sync-{integration_id}"))
    return True


def arm(integration_id: int, *, now: dt.datetime | None = None) -> bool:
    """Mark a dispatch task on its way, unless one is (or a lost one's arming is not stale yet).

    The row stays locked until the caller's transaction ends. So a task that disarms while a
    delivery is being stored waits for that delivery's commit, and its look for events left
    waiting (`dispatch`) sees them; had it disarmed first, the delivery arms and queues a task."""
    now = now or timezone.now()
    WebhookDispatch.objects.get_or_create(integration_id=integration_id)
    with transaction.atomic():
        row = WebhookDispatch.objects.select_for_update().get(integration_id=integration_id)
        if row.armed_at is not None and row.armed_at >= now - STALE_ARMING:
            return False
        WebhookDispatch.objects.filter(pk=row.pk).update(armed_at=now)
        return True


def _disarm(integration: Integration) -> None:
    WebhookDispatch.objects.filter(integration=integration).update(armed_at=None)


def _still_here(integration: Integration) -> None:
    WebhookDispatch.objects.filter(integration=integration, armed_at__isnull=False).update(armed_at=timezone.now())


# --- the task ---------------------------------------------------------------------------------


def waiting(integration: Integration) -> QuerySet[XeroWebhookEvent]:
    return XeroWebhookEvent.objects.filter(integration=integration, consumed_at__isnull=True)


def dispatch(integration_id: int, *, sleep: Callable[[float], None] = time.sleep) -> SyncRun | None:
    """The task: once the burst is over, one targeted run for every waiting event's bill, unless
    a run is going (then its end hands the events over again). Returns the run it started."""
    integration = Integration.objects.filter(pk=integration_id).first()
    if integration is None:
        return None
    started = None
    while True:
        _wait_for_quiet(integration, sleep)
        started = _start(integration) or started
        _disarm(integration)
        # An event stored after our read found the dispatch armed and queued nothing: look again.
        if not waiting(integration).exists() or _held(integration) or not arm(integration.pk):
            return started


def _wait_for_quiet(integration: Integration, sleep: Callable[[float], None]) -> None:
    quiet = debounce()
    while True:
        span = waiting(integration).aggregate(first=Min("received_at"), last=Max("received_at"))
        if span["first"] is None:
            return
        now = timezone.now()
        due = min(span["last"] + quiet, span["first"] + 4 * quiet)
        if now >= due:
            return
        _still_here(integration)
        sleep(min((due - now).total_seconds(), 1.0))


def _held(integration: Integration) -> str | None:
    """Why the waiting events cannot have their run now (the end of the run in the way, or of the
    first run after a reconnect, hands them over again); None when they can."""
    runs = SyncRun.objects.filter(integration=integration)
    if runs.filter(state__in=ACTIVE_RUN_STATES).exists():
        return "a run is going"
    # Until the run that resumes it has started (django-q's scheduler looks every 30 s): a run
    # of ours started first would take its place, and the paused run would not resume.
    resumed = SyncRun.objects.filter(integration=integration, resumes__isnull=False).values("resumes")
    pausing = runs.filter(state=RunState.PAUSED, paused_until__gt=timezone.now() - RESUME_GRACE)
    if pausing.exclude(pk__in=resumed).exists():
        return "a run waits out a rate limit and resumes by itself"
    # A run would only fail (and alert) on every delivery.
    return connection_problem(integration)


def _start(integration: Integration) -> SyncRun | None:
    held = _held(integration)
    if held:
        logger.info("webhook events of %s wait: %s", integration, held)
        return None
    taken = dict(waiting(integration).values_list("pk", "resource_id"))
    if not taken:
        return None
    with transaction.atomic():
        run, created = start_run(
            integration=integration, trigger=SyncRun.Trigger.WEBHOOK, bill_ids=sorted(set(taken.values()))
        )
        if not created:
            return None
        XeroWebhookEvent.objects.filter(pk__in=taken, consumed_at__isnull=True).update(
            consumed_by_run=run, consumed_at=timezone.now()
        )
        enqueue_run(run)
    return run


# --- after a run ------------------------------------------------------------------------------


def after_run(sender, run: SyncRun, **kwargs) -> None:
    """`sync.signals.run_ended`: a full run that succeeded took the events received before it
    started; events still waiting get their targeted run now that this one is over."""
    if run.state == RunState.SUCCEEDED and not run.bill_ids and not run.dry_run and run.started_at:
        waiting(run.integration).filter(received_at__lt=run.started_at).update(
            consumed_by_run=run, consumed_at=timezone.now()
        )
    if run.state == RunState.PAUSED:
        return  # the run that resumes it ends later, and hands the events over then
    if waiting(run.integration).exists():
        hand_over(run.integration_id)

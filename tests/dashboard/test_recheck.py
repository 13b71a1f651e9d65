"""Re-check now: a payment (or a selection) is checked again by a targeted run for its bills, not a
full run; never a second run while one is queued or running."""

from __future__ import annotations

import pytest
from django.urls import reverse

from syncapp.sync.models import RunState, SyncRun
from tests.dashboard.conftest import make_payment

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_recheck_button_on_the_payment_page(world, finance_client):
    page = finance_client.get(reverse("payment", args=[world.blocked.pk]))
    assert reverse("payment-recheck", args=[world.blocked.pk]) in page.content.decode()


def test_recheck_queues_a_targeted_run_for_the_payments_bill(
    world, finance_client, finance_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = finance_client.post(reverse("payment-recheck", args=[world.blocked.pk]), follow=True)
    run = SyncRun.objects.get(state=RunState.QUEUED)
    assert run.bill_ids == [world.blocked.xero_invoice_id]
    assert run.requested_by == finance_user
    assert f"Re-check queued as run #{run.pk}." in messages_of(response)
    assert len(callbacks) == 1  # handed to the worker once the transaction commits


def test_recheck_refuses_a_second_run_while_one_is_active(world, finance_client):
    running = SyncRun.objects.create(
        integration=world.integration, trigger=SyncRun.Trigger.BUTTON, state=RunState.RUNNING
    )
    response = finance_client.post(reverse("payment-recheck", args=[world.blocked.pk]), follow=True)
    assert SyncRun.objects.filter(state__in=[RunState.QUEUED, RunState.RUNNING]).count() == 1
    assert f"Run #{running.pk} is in progress; it will re-check it." in messages_of(response)


def test_recheck_while_a_targeted_run_for_other_bills_runs_says_to_wait(world, finance_client):
    running = SyncRun.objects.create(
        integration=world.integration, trigger=SyncRun.Trigger.WEBHOOK, state=RunState.RUNNING, bill_ids=["other"]
    )
    response = finance_client.post(reverse("payment-recheck", args=[world.blocked.pk]), follow=True)
    assert SyncRun.objects.count() == 2  # the world's finished run and the running one: no new run
    assert f"Run #{running.pk} is in progress (for other bills); re-check again when it ends." in messages_of(response)


def test_bulk_recheck_targets_the_selected_bills_only(world, finance_client):
    other = make_payment(world.integration, 40, xero_invoice_id=world.blocked.xero_invoice_id)
    response = finance_client.post(
        reverse("payments-bulk"),
        {"action": "recheck", "ids": [world.blocked.pk, world.failed.pk, other.pk], "next": reverse("payments")},
        follow=True,
    )
    run = SyncRun.objects.get(state=RunState.QUEUED)
    assert run.bill_ids == sorted({world.blocked.xero_invoice_id, world.failed.xero_invoice_id})
    assert run.trigger == SyncRun.Trigger.RECHECK
    assert f"Re-check queued as run #{run.pk}." in messages_of(response)


def test_recheck_is_a_post(world, finance_client):
    assert finance_client.get(reverse("payment-recheck", args=[world.blocked.pk])).status_code == 405
    assert not SyncRun.objects.filter(state=RunState.QUEUED).exists()

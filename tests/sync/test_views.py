"""The Get All Payments endpoint and a run's page and status: who may use them, what they do."""

from __future__ import annotations

import pytest
from django.urls import reverse

from syncapp.connections.models import Integration
from syncapp.sync.models import RunLogLine, RunState, SyncRun


@pytest.fixture
def integration(db) -> Integration:
    return Integration.objects.create(name="demo")


def test_it_requires_a_login(client, integration):
    response = client.post(reverse("sync-start"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not SyncRun.objects.exists()


def test_it_refuses_users_without_a_role(client, roleless_user, integration):
    client.force_login(roleless_user)
    assert client.post(reverse("sync-start")).status_code == 403
    assert not SyncRun.objects.exists()


def test_it_refuses_get(finance_client, integration):
    assert finance_client.get(reverse("sync-start")).status_code == 405


def test_finance_starts_a_run_that_is_queued_for_the_worker(
    finance_client, finance_user, integration, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = finance_client.post(reverse("sync-start"), {"integration": "demo"})
    run = SyncRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("sync-run", args=[run.pk])
    assert run.state == RunState.QUEUED and run.requested_by == finance_user and run.trigger == "button"
    assert len(callbacks) == 1  # the task is enqueued only once the run is committed
    from django_q.models import OrmQ

    assert OrmQ.objects.count() == 1


def test_a_second_click_shows_the_running_run(admin_client, integration, django_capture_on_commit_callbacks):
    running = SyncRun.objects.create(integration=integration, trigger="button", state=RunState.RUNNING)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post(reverse("sync-start"))
    assert response["Location"] == reverse("sync-run", args=[running.pk])
    assert SyncRun.objects.count() == 1 and not callbacks


def test_the_status_returns_only_log_lines_after_the_cursor(finance_client, integration):
    run = SyncRun.objects.create(integration=integration, trigger="button", state=RunState.RUNNING)
    first = RunLogLine.objects.create(run=run, message="Run started")
    RunLogLine.objects.create(run=run, message="Fetched 3 changed payments")
    data = finance_client.get(reverse("sync-run-status", args=[run.pk]), {"after": first.pk}).json()
    assert data["state"] == "running" and data["active"] is True
    assert [line["message"] for line in data["log"]] == ["Fetched 3 changed payments"]


def test_the_run_page_shows_the_run(finance_client, integration):
    run = SyncRun.objects.create(integration=integration, trigger="button", state=RunState.FAILED, error="Boom")
    response = finance_client.get(reverse("sync-run", args=[run.pk]))
    assert response.status_code == 200 and b"Boom" in response.content


def test_the_status_refuses_users_without_a_role(client, roleless_user, integration):
    run = SyncRun.objects.create(integration=integration, trigger="button")
    client.force_login(roleless_user)
    assert client.get(reverse("sync-run-status", args=[run.pk])).status_code == 403

"""Alerts after a run's end, with runs that really fail (no connections): the Admins get one mail
with a link to the run, however often the end is announced, and a mail server that is down is
noted, not raised."""

from __future__ import annotations

import datetime as dt
import logging
import threading

import pytest
from django.core import mail
from django.db import connections
from django.utils import timezone

from syncapp.alerts.models import AlertKind, AlertSent
from syncapp.alerts.services import alert_run_ended
from syncapp.sync.models import RunState, SyncRun
from syncapp.sync.runs import claim_run, recover_stale_runs, start_run
from syncapp.sync.signals import run_ended
from tests.alerts.conftest import ADMINS, failing_run


@pytest.fixture
def site(settings):
    settings.SITE_URL = "https://sync.example.com"
    return settings.SITE_URL


def test_a_failed_run_mails_the_active_admins_once_with_a_link_to_the_run(
    people, integration, site, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run = failing_run(integration)
    assert run.state == RunState.FAILED
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ADMINS  # not the Admin without an address, the inactive one, nor Finance
    assert sent.subject == f"northwind: sync run #{run.pk} failed"
    assert f"https://sync.example.com/runs/{run.pk}/" in sent.body
    assert run.error in sent.body and "not connected" in sent.body
    assert "&#x27;" not in sent.body and "&quot;" not in sent.body  # plain text, not HTML-escaped
    alert = AlertSent.objects.get()
    assert (alert.kind, alert.error, alert.recipients) == (AlertKind.RUN_FAILED, "", ADMINS)
    assert alert.sent_at is not None


def test_the_same_run_end_announced_again_sends_no_second_mail(people, integration, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = failing_run(integration)
        run_ended.send(sender=SyncRun, run=run)
        run_ended.send(sender=SyncRun, run=SyncRun.objects.get(pk=run.pk))
    assert len(mail.outbox) == 1
    assert AlertSent.objects.count() == 1


def test_each_failed_run_gets_its_own_mail(people, integration, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = failing_run(integration)
        second = failing_run(integration)
    assert [m.subject for m in mail.outbox] == [
        f"northwind: sync run #{first.pk} failed",
        f"northwind: sync run #{second.pk} failed",
    ]


def test_a_mail_server_that_is_down_is_logged_and_noted_and_the_run_ends_as_it_would(
    people, integration, settings, caplog, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.alerts.backends.RefusingBackend"
    with caplog.at_level(logging.ERROR, logger="syncapp.alerts"), django_capture_on_commit_callbacks(execute=True):
        run = failing_run(integration)
    assert run.state == RunState.FAILED and "not connected" in run.error
    assert SyncRun.objects.get(pk=run.pk).state == RunState.FAILED
    alert = AlertSent.objects.get()
    assert alert.sent_at is None
    assert "SMTPServerDisconnected" in alert.error
    assert any("could not be sent" in r.getMessage() for r in caplog.records)
    # Noted once: the next announcement of that end does not try again, nor raise.
    with django_capture_on_commit_callbacks(execute=True):
        run_ended.send(sender=SyncRun, run=run)
    assert AlertSent.objects.count() == 1


def test_with_no_admin_address_nothing_is_sent_and_the_alert_says_why(integration, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        failing_run(integration)
    assert mail.outbox == []
    assert AlertSent.objects.get().error == "Not sent: no active Admin has an email address."


def test_a_run_whose_worker_died_is_mailed_once_when_it_is_noticed(
    people, integration, django_capture_on_commit_callbacks
):
    run, _ = start_run(integration=integration, trigger="schedule")
    claim_run(run.pk)
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - dt.timedelta(minutes=10))
    with django_capture_on_commit_callbacks(execute=True):
        recover_stale_runs(integration=integration)
        recover_stale_runs(integration=integration)
    [sent] = mail.outbox
    assert sent.subject == f"northwind: sync run #{run.pk} failed"
    assert "stopped responding" in sent.body


def test_a_run_that_finished_sends_the_admins_nothing_when_no_payment_is_newly_stuck(
    people, integration, django_capture_on_commit_callbacks
):
    run, _ = start_run(integration=integration, trigger="command")
    claim_run(run.pk)
    SyncRun.objects.filter(pk=run.pk).update(state=RunState.SUCCEEDED, finished_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        run_ended.send(sender=SyncRun, run=SyncRun.objects.get(pk=run.pk))
    assert mail.outbox == []
    assert not AlertSent.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_handling_one_run_end_at_the_same_moment_send_one_mail(people, integration):
    run = failing_run(integration)
    AlertSent.objects.all().delete()
    mail.outbox.clear()
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def worker():
        try:
            barrier.wait()
            alert_run_ended(run_id=run.pk)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(mail.outbox) == 1
    assert AlertSent.objects.count() == 1


def test_the_subject_names_the_integration_as_people_read_it(people, integration, django_capture_on_commit_callbacks):
    integration.label = "Northwind AU"
    integration.save()
    with django_capture_on_commit_callbacks(execute=True):
        run = failing_run(integration)
    [sent] = mail.outbox
    assert sent.subject == f"Northwind AU: sync run #{run.pk} failed"
    assert "of Northwind AU failed" in sent.body


def test_the_failed_run_that_pauses_the_schedule_says_so_and_links_to_where_it_is_resumed(
    people, integration, site, django_capture_on_commit_callbacks
):
    from syncapp.sync.schedules import update_schedule

    update_schedule(
        integration=integration,
        schedule="every_hours",
        every_hours=6,
        daily_at=dt.time(2, 0),
        zone="",
        pause_after_failures=2,
    )
    with django_capture_on_commit_callbacks(execute=True):
        first = failing_run(integration)
    with django_capture_on_commit_callbacks(execute=True):
        second = failing_run(integration)
    assert [m.subject for m in mail.outbox] == [
        f"northwind: sync run #{first.pk} failed",
        f"northwind: sync run #{second.pk} failed; its schedule is paused",
    ]
    body = mail.outbox[1].body
    assert "The schedule of northwind is paused" in body and "2 runs failed in a row" in body
    assert "https://sync.example.com/settings/?integration=northwind" in body
    assert "paused" not in mail.outbox[0].body

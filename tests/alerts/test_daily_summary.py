"""The daily summary for Finance: off until an Admin turns it on; then one mail a day, soon after
07:00 in the integration's timezone, about the runs that ended in the 24 hours up to it, with
payments recorded in Procore counted and totalled per currency and a link to the failure queue.
Sent once a day; a day with nothing to report mails nothing; a run's end mails Finance nothing.

The runs and payments are rows written with the times a test needs (the windows are about
timestamps); test_world_alerts has one summary of real runs against the sandbox."""

from __future__ import annotations

import ast
import datetime as dt
import itertools
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils.module_loading import import_string

from syncapp.alerts.models import AlertKind, AlertSent
from syncapp.alerts.services import send_due_summaries, set_finance_summary
from syncapp.connections.models import Integration
from syncapp.sync.models import Payment, PaymentEvent, PaymentState, RunState, SyncRun, SyncSettings
from tests.alerts.conftest import ADMINS, failing_run

FINANCE = ["fin@example.com"]
_ids = itertools.count()


@pytest.fixture(autouse=True)
def site_in_utc(settings):
    settings.SITE_URL = "https://sync.example.com"
    settings.TIME_ZONE = "UTC"


def at(day: int, hour: int, minute: int = 0, zone: str = "UTC") -> dt.datetime:
    """A moment of November 2026 by the wall clock of `zone`."""
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=ZoneInfo(zone))


def ended_run(integration: Integration, when: dt.datetime, *, trigger: str = "webhook", **fields) -> SyncRun:
    fields.setdefault("state", RunState.SUCCEEDED)
    return SyncRun.objects.create(integration=integration, trigger=trigger, finished_at=when, **fields)


def payment(integration: Integration, state: str, *events: tuple[str, SyncRun], amount="", currency="AUD") -> Payment:
    """A payment with its history: (event kind, run) in order."""
    row = Payment.objects.create(
        integration=integration,
        xero_payment_id=f"pay-{next(_ids)}",
        payment_type="ACCPAYPAYMENT",
        xero_status="AUTHORISED",
        amount=Decimal(amount) if amount else None,
        currency_code=currency,
        vendor_name="Harbour Steel",
        state=state,
    )
    for kind, run in events:
        PaymentEvent.objects.create(payment=row, kind=kind, message=kind, run=run)
    return row


@pytest.fixture
def day_of_runs(integration) -> dict:
    """The day from 07:00 on 29 Nov to 07:00 on 30 Nov (UTC), with runs just before and after it."""
    before = ended_run(integration, at(28, 10), trigger="schedule", counts={"sent": 1, "blocked": 1})
    payment(integration, PaymentState.SENT, ("sent", before), amount="5000.00")
    older_blocked = payment(integration, PaymentState.BLOCKED, ("fetched", before), ("blocked", before))

    first = ended_run(integration, at(29, 9), counts={"sent": 2})
    payment(integration, PaymentState.SENT, ("fetched", first), ("sent", first), amount="100.00")
    payment(integration, PaymentState.SENT, ("fetched", first), ("sent", first), amount="250.50")
    second = ended_run(integration, at(29, 15), counts={"sent": 1, "blocked": 1})
    payment(integration, PaymentState.SENT, ("fetched", second), ("sent", second), amount="1000.00", currency="USD")
    newly_blocked = payment(integration, PaymentState.BLOCKED, ("fetched", second), ("blocked", second))
    rechecked = ended_run(integration, at(30, 2), trigger="schedule", counts={"blocked": 1})
    PaymentEvent.objects.create(payment=older_blocked, kind="blocked", message="blocked", run=rechecked)
    failed = ended_run(
        integration, at(30, 6, 59), trigger="button", state=RunState.FAILED, error="Procore did not answer (502)"
    )
    dry = ended_run(integration, at(29, 12), trigger="button", dry_run=True, counts={"would_send": 9})

    after = ended_run(integration, at(30, 7, 30), counts={"sent": 1})
    payment(integration, PaymentState.SENT, ("fetched", after), ("sent", after), amount="7.00")
    return {"failed": failed, "dry": dry, "newly_blocked": newly_blocked}


def finance_mail() -> list:
    return [m for m in mail.outbox if m.to == FINANCE]


def test_it_is_off_until_an_admin_turns_it_on(people, integration, day_of_runs):
    assert send_due_summaries(now=at(30, 8, 5)) == 0
    assert mail.outbox == [] and not AlertSent.objects.exists()

    set_finance_summary(integration=integration, enabled=True, actor=people["admin"])
    set_finance_summary(integration=integration, enabled=False, actor=people["admin"])
    assert send_due_summaries(now=at(30, 9, 5)) == 0
    assert mail.outbox == []


def test_one_mail_to_finance_counts_the_days_runs_and_totals_payments_per_currency(people, integration, day_of_runs):
    set_finance_summary(integration=integration, enabled=True, actor=people["admin"])
    assert send_due_summaries(now=at(30, 8, 5)) == 1
    [sent] = mail.outbox
    assert sent.to == FINANCE  # not the Admins
    assert sent.subject == (
        "northwind: daily sync summary, 30 Nov 2026 — 3 recorded in Procore, 1 newly blocked or failed, 1 run failed"
    )
    body = sent.body
    assert "from Sun 29 Nov 07:00 to Mon 30 Nov 2026 07:00 (UTC)" in body
    # The dry run and the runs before 07:00 yesterday and after 07:00 today are not the day's.
    assert "Runs: 4 (Xero webhook: 2, Get All Payments button: 1, Scheduled: 1), 1 failed:" in body
    failed = day_of_runs["failed"]
    line = f"- run #{failed.pk} (Get All Payments button), failed at Mon 30 Nov 06:59: Procore did not answer (502)"
    assert line in body
    assert f"https://sync.example.com/runs/{failed.pk}/" in body
    # Per currency, never added across currencies.
    assert "Payments recorded in Procore: 3\n- 350.50 AUD in 2 payments\n- 1,000.00 USD in 1 payment\n" in body
    assert "1,350.50" not in body and "5,000.00" not in body and "7.00" not in body
    assert "Newly blocked or failed, and not in Procore until the cause is fixed: 1\n" in body
    assert "Waiting for a fix now, in all: 2\n" in body
    assert "https://sync.example.com/failures/?integration=northwind" in body
    assert "&#x27;" not in body and "&amp;" not in body  # plain text, not HTML-escaped
    alert = AlertSent.objects.get()
    assert (alert.kind, alert.key, alert.recipients, alert.error) == (
        AlertKind.SUMMARY,
        f"summary:integration:{integration.pk}:2026-11-30",
        FINANCE,
        "",
    )


def test_it_is_sent_once_a_day_and_the_next_day_covers_what_came_after(people, integration, day_of_runs):
    set_finance_summary(integration=integration, enabled=True)
    assert send_due_summaries(now=at(30, 6, 55)) == 0  # not 07:00 yet
    assert mail.outbox == []
    # A worker that was down at 07:00 sends it at its next tick, about the same runs.
    assert send_due_summaries(now=at(30, 11, 5)) == 1
    assert send_due_summaries(now=at(30, 12, 5)) == 0
    assert send_due_summaries(now=at(30, 23, 5)) == 0
    assert len(mail.outbox) == 1

    assert send_due_summaries(now=dt.datetime(2026, 12, 1, 7, 5, tzinfo=dt.UTC)) == 1
    [_, next_day] = mail.outbox
    assert next_day.subject == "northwind: daily sync summary, 1 Dec 2026 — 1 recorded in Procore"
    assert "Runs: 1 (Xero webhook: 1), none failed." in next_day.body
    assert "- 7.00 AUD in 1 payment\n" in next_day.body
    assert "Newly blocked or failed, and not in Procore until the cause is fixed: none\n" in next_day.body


def test_a_day_with_nothing_to_report_sends_no_mail(people, integration):
    set_finance_summary(integration=integration, enabled=True)
    assert send_due_summaries(now=at(30, 8, 5)) == 0  # no run at all

    # Runs that only re-checked a payment blocked before, and a dry run: no news.
    earlier = ended_run(integration, at(20, 9))
    stuck = payment(integration, PaymentState.BLOCKED, ("fetched", earlier), ("blocked", earlier))
    for hour in (9, 15, 21):
        run = ended_run(integration, at(29, hour), trigger="schedule", counts={"blocked": 1})
        PaymentEvent.objects.create(payment=stuck, kind="blocked", message="blocked", run=run)
    ended_run(integration, at(29, 12), trigger="button", dry_run=True, counts={"would_send": 3})
    assert send_due_summaries(now=at(30, 9, 5)) == 0
    assert mail.outbox == []
    assert not AlertSent.objects.exists()


def test_it_goes_out_after_seven_in_the_integrations_schedule_timezone(people, integration):
    SyncSettings.objects.create(integration=integration, schedule_timezone="Australia/Sydney")
    set_finance_summary(integration=integration, enabled=True)
    # 07:00 on 30 Nov in Sydney (daylight time, UTC+11) is 20:00 on 29 Nov in UTC.
    inside = ended_run(integration, at(30, 6, 30, zone="Australia/Sydney"))
    payment(integration, PaymentState.SENT, ("sent", inside), amount="42.00")
    later = ended_run(integration, at(30, 7, 30, zone="Australia/Sydney"))
    payment(integration, PaymentState.SENT, ("sent", later), amount="99.00")

    assert send_due_summaries(now=at(29, 19, 55)) == 0  # 06:55 in Sydney
    assert send_due_summaries(now=at(29, 20, 5)) == 1
    [sent] = mail.outbox
    assert sent.subject == "northwind: daily sync summary, 30 Nov 2026 — 1 recorded in Procore"
    assert "from Sun 29 Nov 07:00 to Mon 30 Nov 2026 07:00 (Australia/Sydney)" in sent.body
    assert "- 42.00 AUD in 1 payment\n" in sent.body and "99.00" not in sent.body
    assert AlertSent.objects.get().key == f"summary:integration:{integration.pk}:2026-11-30"


def test_each_integration_gets_its_own_summary(people, integration):
    southwind = Integration.objects.create(name="southwind", label="Southwind NZ")
    for each, amount in ((integration, "10.00"), (southwind, "20.00")):
        set_finance_summary(integration=each, enabled=True)
        run = ended_run(each, at(29, 9))
        payment(each, PaymentState.SENT, ("sent", run), amount=amount, currency="NZD")
    assert send_due_summaries(now=at(30, 8, 5)) == 2
    bodies = {m.subject.split(":")[0]: m.body for m in mail.outbox}
    assert "- 10.00 NZD in 1 payment" in bodies["northwind"] and "20.00" not in bodies["northwind"]
    assert "- 20.00 NZD in 1 payment" in bodies["Southwind NZ"] and "10.00" not in bodies["Southwind NZ"]
    assert "https://sync.example.com/failures/?integration=southwind" not in bodies["Southwind NZ"]  # none waits


def test_with_no_finance_address_nothing_is_sent_and_the_alert_says_why(integration, day_of_runs):
    set_finance_summary(integration=integration, enabled=True)
    send_due_summaries(now=at(30, 8, 5))
    assert mail.outbox == []
    assert AlertSent.objects.get().error == "Not sent: no Finance user has an email address."
    assert send_due_summaries(now=at(30, 9, 5)) == 0  # noted once, not tried every hour


def test_a_runs_end_mails_finance_nothing(people, integration, django_capture_on_commit_callbacks):
    set_finance_summary(integration=integration, enabled=True)
    with django_capture_on_commit_callbacks(execute=True):
        failing_run(integration)
    assert [m.to for m in mail.outbox] == [ADMINS]  # the Admins' "run failed" only


def test_the_hourly_schedule_exists_after_migrate(db, people, integration):
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="alerts-daily-summaries")
    assert (schedule.func, schedule.schedule_type, schedule.repeats) == (
        "syncapp.alerts.tasks.send_due_summaries",
        Schedule.HOURLY,
        -1,
    )
    assert schedule.next_run is not None and schedule.next_run.minute == 5
    assert ast.literal_eval(schedule.kwargs) == {"q_options": {"save": False}}
    set_finance_summary(integration=integration, enabled=True)
    assert import_string(schedule.func)() == 0  # what the worker calls: no run, so no mail


def test_payments_removed_from_procore_are_news_with_their_total_per_currency(people, integration):
    set_finance_summary(integration=integration, enabled=True)
    earlier = ended_run(integration, at(20, 9))
    run = ended_run(integration, at(29, 9), counts={"reversed": 1})
    payment(integration, PaymentState.REVERSED, ("sent", earlier), ("reversed", run), amount="80.00")
    assert send_due_summaries(now=at(30, 8, 5)) == 1
    [sent] = mail.outbox
    assert sent.subject == "northwind: daily sync summary, 30 Nov 2026 — 1 removed from Procore"
    assert "Payments recorded in Procore: none\n" in sent.body
    assert "Payments deleted in Xero, so removed from Procore: 1\n- 80.00 AUD in 1 payment\n" in sent.body

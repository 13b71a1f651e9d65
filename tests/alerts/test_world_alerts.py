"""Alerts from real runs against the sandbox over HTTP: one digest per run of the payments that
run newly blocked or failed, and one mail when a connection needs reconnecting."""

from __future__ import annotations

import uuid

import pytest
from django.core import mail

from syncapp.alerts.models import AlertKind, AlertSent
from syncapp.alerts.selectors import PROBLEM_STATES
from syncapp.alerts.services import DIGEST_LISTED
from syncapp.connections.models import Connection
from syncapp.connections.services import connect_headless
from syncapp.sync import services
from syncapp.sync.models import Payment, PaymentEvent, PaymentState, RunState, VendorLink
from tests.alerts.conftest import ADMINS

pytestmark = pytest.mark.django_db(transaction=True)


def digests() -> list:
    return [m for m in mail.outbox if "need attention" in m.subject or "needs attention" in m.subject]


def test_one_digest_per_run_lists_every_payment_it_newly_blocked_or_failed(world, people):
    run = world.run()
    assert run.state == RunState.SUCCEEDED
    problems = list(Payment.objects.filter(integration=world.integration, state__in=PROBLEM_STATES))
    assert len(problems) >= 2, "the seeded world has payments that cannot be sent"
    [digest] = digests()
    assert digest.to == ADMINS
    assert digest.subject == f"northwind: {len(problems)} payments need attention (blocked or failed in run #{run.pk})"
    assert f"{world.url}/failures/?integration=northwind" in digest.body
    for payment in problems:
        assert f"{world.url}/payments/{payment.pk}/" in digest.body
        assert payment.message in digest.body
        assert f"{payment.amount:,.2f} {payment.currency_code}" in digest.body
    assert AlertSent.objects.filter(kind=AlertKind.PAYMENTS).count() == 1


def test_payments_already_blocked_before_a_run_are_not_new_in_its_digest(world, people):
    world.run()
    blocked = Payment.objects.filter(integration=world.integration, state=PaymentState.BLOCKED)
    assert blocked.count() >= 2
    mail.outbox.clear()
    # An Admin links a contact whose payments are blocked for want of a vendor to a vendor that has
    # none of its bills: the next run blocks them again, for another reason. Still not news.
    unlinked = blocked.filter(reason_code="vendor_not_linked").first()
    other_vendor = VendorLink.objects.filter(integration=world.integration).exclude(how="name_suggestion").first()
    services.link_vendor(
        integration=world.integration,
        xero_contact_id=unlinked.xero_contact_id,
        procore_vendor_id=other_vendor.procore_vendor_id,
        vendor_name=other_vendor.vendor_name,
        actor=people["admin"],
    )

    again = world.run()  # re-checks every blocked payment; none is newly blocked
    assert again.state == RunState.SUCCEEDED
    reblocked = Payment.objects.get(pk=unlinked.pk)
    assert reblocked.state == PaymentState.BLOCKED and reblocked.reason_code != "vendor_not_linked"
    assert PaymentEvent.objects.filter(payment=reblocked, run=again, kind="blocked").exists()
    assert digests() == []

    # An Admin ignores one and takes it back: the next run blocks it again, and that is news.
    payment = blocked.order_by("id").first()
    services.ignore_payment(payment=payment, reason="checking with the supplier", actor=people["admin"])
    services.unignore_payment(payment=payment, actor=people["admin"])
    third = world.run()
    [digest] = digests()
    assert digest.subject == f"northwind: 1 payment needs attention (blocked or failed in run #{third.pk})"
    assert f"/payments/{payment.pk}/" in digest.body
    others = blocked.exclude(pk=payment.pk)
    assert all(f"/payments/{other.pk}/" not in digest.body for other in others)


def test_a_connection_that_needs_reconnecting_is_mailed_once_per_change(world, people):
    xero = Connection.objects.get(integration=world.integration, provider="xero")
    # An organisation the app is no longer connected to: Xero answers 403 (tests/connectors).
    Connection.objects.filter(pk=xero.pk).update(tenant_id=str(uuid.uuid4()))
    run = world.run()
    assert run.state == RunState.FAILED
    xero.refresh_from_db()
    assert xero.needs_reconnect
    # The reconnect mail says what to do; no separate "run failed" mail repeats it.
    [sent] = mail.outbox
    assert sent.to == ADMINS
    assert sent.subject == "northwind: Xero needs reconnecting"
    assert f"{world.url}/connections/" in sent.body
    assert xero.status_reason in sent.body

    second = world.run()  # fails at once on the mark: nothing new to tell
    assert second.state == RunState.FAILED
    assert len(mail.outbox) == 1

    connect_headless(integration=world.integration, provider="xero")
    Connection.objects.filter(pk=xero.pk).update(tenant_id=str(uuid.uuid4()))
    world.run()  # a new loss of the connection after a reconnect is news again
    assert [m.subject for m in mail.outbox] == ["northwind: Xero needs reconnecting"] * 2


def test_the_next_daily_summary_totals_what_real_runs_sent_and_mails_finance_nothing_before(world, people):
    import datetime as dt
    from zoneinfo import ZoneInfo

    from django.db.models import Count, Sum

    from syncapp.alerts.services import SUMMARY_AT, send_due_summaries, set_finance_summary, summary_zone
    from syncapp.sync.schedules import next_daily_run

    set_finance_summary(integration=world.integration, enabled=True, actor=people["admin"])
    run = world.run(trigger="webhook")
    again = world.run()  # only re-checks the blocked ones
    assert again.counts == {"blocked": run.counts["blocked"]}
    assert [m for m in mail.outbox if m.to == ["fin@example.com"]] == []  # a run's end mails Finance nothing

    # The first 07:00 after the runs ended, in the integration's zone, closes their day.
    zone = summary_zone(world.integration)
    due = next_daily_run(at=SUMMARY_AT, zone=zone, after=dt.datetime.now(dt.UTC)) + dt.timedelta(minutes=5)
    day = due.astimezone(ZoneInfo(zone)).date()
    assert send_due_summaries(now=due) == 1
    [summary] = [m for m in mail.outbox if m.to == ["fin@example.com"]]
    sent = (
        Payment.objects.filter(integration=world.integration, state=PaymentState.SENT)
        .values("currency_code")
        .annotate(n=Count("id"), total=Sum("amount"))
    )
    recorded = run.counts["sent"] + run.counts.get("already_in_procore", 0)
    assert sent and sum(row["n"] for row in sent) == recorded
    assert summary.subject.startswith(f"northwind: daily sync summary, {day.day} {day:%b %Y} — {recorded} recorded in")
    if run.counts.get("already_in_procore"):
        assert f"({run.counts['already_in_procore']} of them were found already in Procore" in summary.body
    assert "Runs: 2 (Command line: 1, Xero webhook: 1), none failed." in summary.body
    for row in sent:
        each = "payment" if row["n"] == 1 else "payments"
        assert f"- {row['total']:,.2f} {row['currency_code']} in {row['n']} {each}\n" in summary.body
    stuck = Payment.objects.filter(integration=world.integration, state__in=PROBLEM_STATES).count()
    assert f"Newly blocked or failed, and not in Procore until the cause is fixed: {stuck}\n" in summary.body
    assert f"{world.url}/failures/?integration=northwind" in summary.body


def test_payments_procore_refuses_are_in_the_digest_and_again_only_after_an_admin_retries_one(world, people, settings):
    settings.SANDBOX_PROCORE_PAYMENT_422 = "text"  # Procore refuses every payment create (422)
    run = world.run()
    failed = Payment.objects.filter(integration=world.integration, state=PaymentState.FAILED)
    blocked = Payment.objects.filter(integration=world.integration, state=PaymentState.BLOCKED)
    assert failed.count() >= 2 and blocked.count() >= 2
    [digest] = digests()
    total = failed.count() + blocked.count()
    assert digest.subject == f"northwind: {total} payments need attention (blocked or failed in run #{run.pk})"
    # One mail however many: the first 50 by name, the rest counted, all in the failure queue.
    assert total > DIGEST_LISTED
    assert digest.body.count("- Blocked: ") + digest.body.count("- Failed: ") == DIGEST_LISTED
    assert f"... and {total - DIGEST_LISTED} more in the failure queue." in digest.body
    mail.outbox.clear()

    retried = failed.order_by("id").first()
    services.retry_payment(payment=retried, actor=people["admin"])
    again = world.run()  # Procore still refuses: the retried one fails again, and that is news
    [digest] = digests()
    assert digest.subject == f"northwind: 1 payment needs attention (blocked or failed in run #{again.pk})"
    assert f"/payments/{retried.pk}/" in digest.body and "- Failed: " in digest.body

"""Send each alert once: write its row (unique key) first, then the mail, then its outcome.

Called after a run's end (`alert_run_ended`) and when a connection is first marked "needs
reconnect" (`alert_needs_reconnect`), from `receivers`; and every hour by the q2 schedule of
migration 0002 (`send_due_summaries`: the daily summary for Finance). Nothing here raises into the
caller: the run is over, and a mail server that is down is logged and noted on the alert's row.

A failed run caused by a connection that needs reconnecting sends no "run failed" mail of its own:
the reconnect alert (sent once, when the connection was marked) says what to do, and every later
run of that integration fails the same way until an Admin reconnects.
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from syncapp.alerts import selectors
from syncapp.alerts.models import AlertKind, AlertSent, AlertSettings
from syncapp.connections.models import Connection, ConnectionStatus, Integration
from syncapp.core import audit
from syncapp.core.text import fit
from syncapp.sync.models import RunState, SyncRun, SyncSettings
from syncapp.sync.schedules import zone_name

logger = logging.getLogger(__name__)

# The digest names this many payments one by one; the failure queue has the rest.
DIGEST_LISTED = 50


def absolute(path: str) -> str:
    """A link for a mail: mails are read outside the site, so relative paths do not work there."""
    return f"{settings.SITE_URL}{path}"


def send_once(
    *, key: str, kind: str, integration: Integration | None, subject: str, body: str, recipients: list[str]
) -> AlertSent | None:
    """Mail `subject`/`body` unless an alert with `key` was already written; None when it was."""
    subject = fit(AlertSent, "subject", " ".join(subject.split()))  # one line: a newline in a subject is refused
    try:
        with transaction.atomic():
            alert = AlertSent.objects.create(
                key=key, kind=kind, integration=integration, subject=subject, recipients=recipients
            )
    except IntegrityError:
        return None
    if not recipients:
        who = "Finance user" if kind == AlertKind.SUMMARY else "active Admin"
        _outcome(alert, error=f"Not sent: no {who} has an email address.")
        logger.warning("alert %s not sent: no recipients", key)
        return alert
    try:
        EmailMessage(subject=subject, body=body, to=recipients).send()
    except Exception as exc:  # smtplib errors, refused or timed-out connections: note, never raise
        logger.error("alert %s could not be sent", key, exc_info=True)
        _outcome(alert, error=f"The mail server refused or did not answer ({type(exc).__name__}: {exc})")
    else:
        _outcome(alert, sent_at=timezone.now())
    return alert


def _outcome(alert: AlertSent, *, sent_at=None, error: str = "") -> None:
    alert.sent_at, alert.error = sent_at, fit(AlertSent, "error", error)
    AlertSent.objects.filter(pk=alert.pk).update(sent_at=alert.sent_at, error=alert.error)


# --- after a run ----------------------------------------------------------------------------------


def alert_run_ended(*, run_id: int) -> None:
    """Every alert a run's end may call for. One failing does not stop the others."""
    run = SyncRun.objects.select_related("integration").filter(pk=run_id).first()
    if run is None:
        return
    for alert in (_run_failed, _payments_digest):
        try:
            alert(run)
        except Exception:
            logger.exception("alert %s after run %s failed", alert.__name__, run_id)


def _run_failed(run: SyncRun) -> None:
    if run.state != RunState.FAILED:
        return
    if Connection.objects.filter(integration_id=run.integration_id, status=ConnectionStatus.NEEDS_RECONNECT).exists():
        return  # the reconnect alert covers it (module docstring)
    # Read after the schedule's own run_ended receiver (the sync app's, connected first) had its
    # say: after N failed runs in a row it paused the schedule, and this mail says how to resume.
    paused = SyncSettings.objects.filter(integration_id=run.integration_id, schedule_paused_at__isnull=False).first()
    context = {
        "run": run,
        "integration": run.integration,
        "run_url": absolute(reverse("run", args=[run.pk])),
        "paused": paused,
        "settings_url": absolute(f"{reverse('settings')}?integration={run.integration.name}"),
    }
    send_once(
        key=f"run_failed:run:{run.pk}",
        kind=AlertKind.RUN_FAILED,
        integration=run.integration,
        subject=f"{run.integration.display_name}: sync run #{run.pk} failed"
        + ("; its schedule is paused" if paused else ""),
        body=render_to_string("alerts/mail/run_failed.txt", context),
        recipients=selectors.admin_emails(),
    )


def _payments_digest(run: SyncRun) -> None:
    payments = selectors.new_problem_payments(run)
    total = payments.count()
    if not total:
        return
    query = f"?integration={run.integration.name}"
    listed = [
        {"payment": payment, "url": absolute(reverse("payment", args=[payment.pk]) + query)}
        for payment in payments[:DIGEST_LISTED]
    ]
    context = {
        "run": run,
        "integration": run.integration,
        "total": total,
        "listed": listed,
        "more": total - len(listed),
        "failures_url": absolute(reverse("failures") + query),
        "run_url": absolute(reverse("run", args=[run.pk])),
    }
    what = "payment needs" if total == 1 else "payments need"
    send_once(
        key=f"payments:run:{run.pk}",
        kind=AlertKind.PAYMENTS,
        integration=run.integration,
        subject=f"{run.integration.display_name}: {total} {what} attention (blocked or failed in run #{run.pk})",
        body=render_to_string("alerts/mail/payments.txt", context),
        recipients=selectors.admin_emails(),
    )


# --- the daily summary for Finance ---------------------------------------------------------------

# Each day, soon after this time in the integration's schedule timezone, Finance gets the summary of
# the day up to it (the peers' nightly email). Why a day and not each run: with Xero webhooks on,
# every burst of payments is a run of its own, and a mail per run is noise.
SUMMARY_AT = dt.time(7, 0)
# The summary names this many failed runs one by one; the run history has the rest.
SUMMARY_FAILED_LISTED = 10


def summary_zone(integration: Integration) -> str:
    """The integration's schedule timezone (Settings page), else the server's TIME_ZONE."""
    sync_settings = SyncSettings.objects.filter(integration=integration).first()
    zone = zone_name(sync_settings) if sync_settings else settings.TIME_ZONE
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        logger.warning("integration %s: unknown timezone %r, using %s", integration.pk, zone, settings.TIME_ZONE)
        return settings.TIME_ZONE
    return zone


def summary_window(*, zone: str, now: dt.datetime) -> tuple[dt.date, dt.datetime, dt.datetime] | None:
    """(the local day, start, end) of the summary due at `now`, or None before SUMMARY_AT today.

    The window runs from SUMMARY_AT yesterday to SUMMARY_AT today by the wall clock of `zone`
    (23 or 25 hours across a DST change), so the days' windows meet exactly: a summary sent late
    (a worker that was down at 07:00) covers the same runs as one sent on time, and a run that
    ends after 07:00 is in tomorrow's."""
    tz = ZoneInfo(zone)
    day = now.astimezone(tz).date()
    end = dt.datetime.combine(day, SUMMARY_AT, tzinfo=tz)
    if now < end:
        return None
    start = dt.datetime.combine(day - dt.timedelta(days=1), SUMMARY_AT, tzinfo=tz)
    return day, start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def summary_key(integration_id: int, day: dt.date) -> str:
    return f"summary:integration:{integration_id}:{day.isoformat()}"


def send_due_summaries(*, now: dt.datetime | None = None) -> int:
    """Every hour (q2 schedule): send today's summary of each integration that has it on, once its
    local SUMMARY_AT has passed and it was not sent yet. Returns how many were written (mailed, or
    noted on their row as not sent: no Finance address, a mail server that refused)."""
    now = now or timezone.now()
    sent = 0
    for row in AlertSettings.objects.filter(finance_summary=True).select_related("integration"):
        try:
            if send_summary(integration=row.integration, now=now):
                sent += 1
        except Exception:  # one integration's trouble does not keep the others' summaries back
            logger.exception("daily summary of integration %s failed", row.integration_id)
    return sent


def send_summary(*, integration: Integration, now: dt.datetime) -> AlertSent | None:
    """Today's summary of `integration` if it is due and has news; None when nothing was sent
    (not due yet, already sent today, or nothing happened: no mail, and no row)."""
    zone = summary_zone(integration)
    window = summary_window(zone=zone, now=now)
    if window is None:
        return None
    day, start, end = window
    key = summary_key(integration.pk, day)
    if AlertSent.objects.filter(key=key).exists():  # a cheap early out; send_once is the guarantee
        return None
    summary = selectors.day_summary(integration=integration, start=start, end=end)
    if not summary.has_news:
        return None
    query = f"?integration={integration.name}"
    context = {
        "integration": integration,
        "zone": zone,
        "day": day,
        "s": summary,
        "failed_listed": [
            {"run": run, "url": absolute(reverse("run", args=[run.pk]))}
            for run in summary.failed_runs[:SUMMARY_FAILED_LISTED]
        ],
        "failed_more": len(summary.failed_runs) - SUMMARY_FAILED_LISTED,
        "failures_url": absolute(reverse("failures") + query),
        "runs_url": absolute(reverse("runs") + query),
    }
    with timezone.override(ZoneInfo(zone)):  # times in the mail read in the integration's zone
        body = render_to_string("alerts/mail/summary.txt", context)
    return send_once(
        key=key,
        kind=AlertKind.SUMMARY,
        integration=integration,
        subject=f"{integration.display_name}: daily sync summary, {day.day} {day:%b %Y} — {_headline(summary)}",
        body=body,
        recipients=selectors.finance_emails(),
    )


def _headline(summary: selectors.DaySummary) -> str:
    parts = []
    if summary.sent_count:
        parts.append(f"{summary.sent_count:,} recorded in Procore")
    if summary.reversed_count:
        parts.append(f"{summary.reversed_count:,} removed from Procore")
    if summary.newly_stuck:
        parts.append(f"{summary.newly_stuck:,} newly blocked or failed")
    if summary.failed_runs:
        n = len(summary.failed_runs)
        parts.append(f"{n:,} run{'s' if n != 1 else ''} failed")
    return ", ".join(parts)


# --- connections ----------------------------------------------------------------------------------


def alert_needs_reconnect(*, connection_id: int, marked_at) -> None:
    """A connection was just marked "needs reconnect" (at `marked_at`): tell the Admins once."""
    connection = Connection.objects.select_related("integration").filter(pk=connection_id).first()
    if connection is None or connection.status != ConnectionStatus.NEEDS_RECONNECT:
        return  # reconnected (or removed) before this ran: nothing to fix any more
    provider = connection.get_provider_display()
    context = {
        "connection": connection,
        "integration": connection.integration,
        "provider": provider,
        "connections_url": absolute(reverse("connections")),
    }
    send_once(
        key=f"reconnect:connection:{connection.pk}:{marked_at.isoformat()}",
        kind=AlertKind.RECONNECT,
        integration=connection.integration,
        subject=f"{connection.integration.display_name}: {provider} needs reconnecting",
        body=render_to_string("alerts/mail/reconnect.txt", context),
        recipients=selectors.admin_emails(),
    )


# --- settings -------------------------------------------------------------------------------------


@transaction.atomic
def set_finance_summary(*, integration: Integration, enabled: bool, actor=None) -> AlertSettings:
    """An Admin turns the daily summary for Finance on or off for one integration."""
    row, _ = AlertSettings.objects.update_or_create(
        integration=integration, defaults={"finance_summary": enabled, "updated_by": actor}
    )
    audit.record(
        action="alerts.finance_summary",
        summary=f"Daily summary for Finance turned {'on' if enabled else 'off'}",
        actor=actor,
        integration=integration,
    )
    return row

"""Send each alert once: write its row (unique key) first, then the mail, then its outcome.

Called after a run's end (`alert_run_ended`) and when a connection is first marked "needs
reconnect" (`alert_needs_reconnect`), from `receivers`. Nothing here raises into the caller: the
run is over, and a mail server that is down is logged and noted on the alert's row.

A failed run caused by a connection that needs reconnecting sends no "run failed" mail of its own:
the reconnect alert (sent once, when the connection was marked) says what to do, and every later
run of that integration fails the same way until an Admin reconnects.
"""

from __future__ import annotations

import logging

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
from syncapp.sync.models import RunState, SyncRun, SyncSettings
from syncapp.sync.outcomes import summary_line

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
    subject = " ".join(subject.split())[:300]  # one line: a newline in a subject is refused
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
    alert.sent_at, alert.error = sent_at, error[:1000]
    AlertSent.objects.filter(pk=alert.pk).update(sent_at=alert.sent_at, error=alert.error)


# --- after a run ----------------------------------------------------------------------------------


def alert_run_ended(*, run_id: int) -> None:
    """Every alert a run's end may call for. One failing does not stop the others."""
    run = SyncRun.objects.select_related("integration").filter(pk=run_id).first()
    if run is None:
        return
    for alert in (_run_failed, _payments_digest, _finance_summary):
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


def _finance_summary(run: SyncRun) -> None:
    """The optional summary for Finance: runs that finished or failed (a paused run is summarised
    when its resumed run ends), not dry runs, and not a finished run that found nothing new (every
    run re-checks, and counts, the payments still blocked: that alone is no news)."""
    if run.dry_run or run.state not in (RunState.SUCCEEDED, RunState.FAILED):
        return
    if run.state == RunState.SUCCEEDED and not _news_in(run):
        return
    if not AlertSettings.objects.filter(integration_id=run.integration_id, finance_summary=True).exists():
        return
    outcome = "failed" if run.state == RunState.FAILED else "finished"
    # A run that failed before it handled a payment has no counts to give ("nothing new to send"
    # would read as if it had looked).
    summary = summary_line(run.counts) if run.state == RunState.SUCCEEDED or any(run.counts.values()) else ""
    context = {
        "run": run,
        "integration": run.integration,
        "outcome": outcome,
        "summary": summary,
        "run_url": absolute(reverse("run", args=[run.pk])),
    }
    send_once(
        key=f"summary:run:{run.pk}",
        kind=AlertKind.SUMMARY,
        integration=run.integration,
        subject=f"{run.integration.display_name}: sync run #{run.pk} {outcome}" + (f" — {summary}" if summary else ""),
        body=render_to_string("alerts/mail/summary.txt", context),
        recipients=selectors.finance_emails(),
    )


def _news_in(run: SyncRun) -> bool:
    happened = {key for key, n in run.counts.items() if n}
    return bool(happened - {"blocked"}) or selectors.new_problem_payments(run).exists()


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
    """An Admin turns the Finance run summary on or off for one integration."""
    row, _ = AlertSettings.objects.update_or_create(
        integration=integration, defaults={"finance_summary": enabled, "updated_by": actor}
    )
    audit.record(
        action="alerts.finance_summary",
        summary=f"Run summary for Finance turned {'on' if enabled else 'off'}",
        actor=actor,
        integration=integration,
    )
    return row

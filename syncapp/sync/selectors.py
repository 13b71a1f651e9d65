"""Reads for the dashboard: a run's status (progress, counts, new log lines), payment counts."""

from __future__ import annotations

from django.db.models import Count

from syncapp.connections.models import Integration
from syncapp.sync.models import Payment, RunLogLine, SyncRun


def run_status(*, run: SyncRun, after_log_id: int = 0) -> dict:
    """Everything a progress bar and a log tail need; log lines after `after_log_id` only."""
    lines = list(RunLogLine.objects.filter(run=run, id__gt=after_log_id).order_by("id")[:500])
    percent = int(100 * run.progress_done / run.progress_total) if run.progress_total else (0 if run.is_active else 100)
    return {
        "id": run.pk,
        "integration": run.integration.name,
        "state": run.state,
        "state_label": run.get_state_display(),
        "active": run.is_active,
        "dry_run": run.dry_run,
        "trigger": run.get_trigger_display(),
        "requested_by": run.requested_by.get_username() if run.requested_by else None,
        "phase": run.phase,
        "progress_done": run.progress_done,
        "progress_total": run.progress_total,
        "percent": percent,
        "fetched": run.fetched,
        "counts": run.counts,
        "api_calls": {"xero": run.api_calls_xero, "procore": run.api_calls_procore},
        "throttled": run.throttled,
        "created_at": run.created_at.isoformat(),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_seconds": run.duration_seconds,
        "paused_until": run.paused_until.isoformat() if run.paused_until else None,
        "error": run.error,
        "log": [
            {"id": line.pk, "at": line.at.isoformat(), "level": line.level, "message": line.message} for line in lines
        ],
    }


def latest_runs(*, integration: Integration, limit: int = 20) -> list[SyncRun]:
    return list(SyncRun.objects.filter(integration=integration).order_by("-created_at", "-id")[:limit])


def payment_counts(*, integration: Integration) -> dict[str, int]:
    """Payments per state, for the overview."""
    rows = Payment.objects.filter(integration=integration).values("state").annotate(n=Count("id"))
    return {row["state"]: row["n"] for row in rows}


def blocked_reasons(*, integration: Integration) -> dict[str, int]:
    rows = (
        Payment.objects.filter(integration=integration, state="blocked")
        .values("reason_code")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    return {row["reason_code"]: row["n"] for row in rows}

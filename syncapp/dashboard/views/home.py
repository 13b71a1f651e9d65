"""Home: one integration at a glance — connections, Get All Payments, progress, counts, chart, runs."""

import hashlib

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from syncapp.connections.models import Integration
from syncapp.connections.services import connection_problem
from syncapp.core.roles import finance_required, is_admin
from syncapp.dashboard import charts, selectors
from syncapp.dashboard.presentation import PAYMENT_STATE_ORDER, look
from syncapp.dashboard.views.common import page_integration
from syncapp.dashboard.views.runs import HOME_POLL, progress_card
from syncapp.sync.models import PaymentState, SyncSettings
from syncapp.sync.runs import recover_stale_runs, request_run

CHART_DAYS = 28
# With no run on screen, Home asks this often whether one started elsewhere (a schedule, a Xero
# webhook, another person): one small query, answered "204 No Content" while nothing changed.
WATCH_POLL = "12s"
# Always shown on Home, even at zero: the states people act on.
KEY_STATES = ("sent", "blocked", "failed", "ready")


def live_parts(*, integration: Integration | None, measure: str = "count") -> dict:
    """The parts of Home a run changes: the button, the connection cards, counts by state, the
    chart and the last runs. Home draws them; while a run works, its progress poll re-draws them
    out of band (`live_version` says when they changed)."""
    counts = selectors.state_counts(integration=integration)
    labels = dict(PaymentState.choices)
    tiles = [
        {"state": s, "label": labels.get(s, s), "count": counts.get(s, 0), "look": look("payment", s)}
        for s in PAYMENT_STATE_ORDER
        if s in KEY_STATES or counts.get(s)
    ]
    days = selectors.daily_outcomes(integration=integration, days=CHART_DAYS)
    return {
        "blocker": connection_problem(integration) if integration else "Connect Xero and Procore first.",
        "health": selectors.connection_health(integration=integration),
        "chart": charts.stacked_daily(days, measure=measure),
        "chart_days": days,
        "tiles": tiles,
        "total_payments": sum(counts.values()),
        # Sent payments a run found in Procore rather than created: why the Sent tile can say
        # more than the runs' "sent" (they say "already in Procore" for these).
        "already_in_procore": selectors.already_in_procore_count(integration=integration) if counts.get("sent") else 0,
        "runs": selectors.recent_runs(integration=integration),
    }


def live_version(parts: dict) -> str:
    """A short fingerprint of what the live parts show: a poll re-draws them only when it changed
    (an unchanged re-draw would close the chart's open table and move the reader's focus)."""
    seen = (
        parts["blocker"],
        [(h.status, h.last_success_at, h.last_error_at, h.last_error) for h in parts["health"]],
        [(t["state"], t["count"]) for t in parts["tiles"]],
        parts["already_in_procore"],
        parts["chart_days"],
        [(r.pk, r.state, r.counts, r.started_at, r.finished_at) for r in parts["runs"]],
    )
    return hashlib.sha256(repr(seen).encode()).hexdigest()[:16]


def chart_measure(request: HttpRequest) -> str:
    return "amount" if request.GET.get("chart") == "amount" else "count"


@finance_required
def home(request: HttpRequest) -> HttpResponse:
    integrations, integration = page_integration(request)
    if integration is not None:
        # A run whose worker died shows as failed at once, not as running until the schedule's
        # next minute (one query when nothing is stale).
        recover_stale_runs(integration=integration)
    run = selectors.active_run(integration=integration)
    parts = live_parts(integration=integration, measure=chart_measure(request))
    context = {
        "integrations": integrations,
        "integration": integration,
        "run": run,
        "card": progress_card(run) if run else None,
        "every": HOME_POLL,
        "watch_every": WATCH_POLL,
        "version": live_version(parts),
        "chart_weeks": CHART_DAYS // 7,
        "schedule": SyncSettings.objects.filter(integration=integration).first() if integration else None,
        "can_resume": is_admin(request.user),
        **parts,
    }
    return render(request, "dashboard/home.html", context)


@finance_required
def run_watch(request: HttpRequest) -> HttpResponse:
    """Home's slow poll: nothing (204, htmx keeps the page as it is) unless a run other than the one
    Home shows (?shown=<id>) is under way; then its progress card, which polls on its own and
    re-draws Home's live parts, and the watcher again, now knowing that run."""
    integrations, integration = page_integration(request)
    run = selectors.active_run(integration=integration)
    if run is None or str(run.pk) == request.GET.get("shown"):
        return HttpResponse(status=204)
    context = {
        "integrations": integrations,
        "integration": integration,
        "run": run,
        "card": progress_card(run),
        "every": HOME_POLL,
        "watch_every": WATCH_POLL,
        "chart": {"measure": chart_measure(request)},
        "version": "",  # the card's first poll re-draws Home's live parts: the run changed them
        "oob": True,
    }
    return render(request, "dashboard/components/home_run.html", context)


@require_POST
@finance_required
def start_sync(request: HttpRequest) -> HttpResponse:
    """Get All Payments from Home: start a run (or find the running one) and come back to Home,
    where its progress bar is. The sync engine's `request_run` does the work."""
    integrations, integration = page_integration(request)
    if integration is None:
        messages.error(request, "There is no integration to sync yet: connect Xero and Procore first.")
        return redirect("home")
    problem = connection_problem(integration)
    if problem:
        messages.error(request, problem)
    else:
        run, created = request_run(integration=integration, requested_by=request.user)
        if not created:
            # No notice for a new run: its progress card says queued, then what it does (a
            # "queued" message would stay on the page after the run started).
            messages.info(request, f"Run #{run.pk} had already been started: follow it below.")
    url = reverse("home")
    return redirect(f"{url}?integration={integration.name}" if len(integrations) > 1 else url)

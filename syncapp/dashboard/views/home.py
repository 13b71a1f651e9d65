"""Home: one integration at a glance — connections, Get All Payments, progress, counts, chart, runs."""

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
from syncapp.sync.models import PaymentState, SyncSettings
from syncapp.sync.runs import recover_stale_runs, request_run

CHART_DAYS = 28
# Always shown on Home, even at zero: the states people act on.
KEY_STATES = ("sent", "blocked", "failed", "ready")


def live_parts(*, integration: Integration | None, measure: str = "count") -> dict:
    """The parts of Home that change when a run ends: the button, counts by state, the chart and
    the last runs (re-drawn out of band when the progress bar sees the run finish)."""
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
        "chart": charts.stacked_daily(days, measure=measure),
        "chart_days": days,
        "tiles": tiles,
        "total_payments": sum(counts.values()),
        "runs": selectors.recent_runs(integration=integration),
    }


@finance_required
def home(request: HttpRequest) -> HttpResponse:
    integrations, integration = page_integration(request)
    if integration is not None:
        # A run whose worker died shows as failed at once, not as running until the schedule's
        # next minute (one query when nothing is stale).
        recover_stale_runs(integration=integration)
    health = selectors.connection_health(integration=integration)
    measure = "amount" if request.GET.get("chart") == "amount" else "count"
    context = {
        "integrations": integrations,
        "integration": integration,
        "health": health,
        "run": selectors.active_run(integration=integration),
        "chart_weeks": CHART_DAYS // 7,
        "schedule": SyncSettings.objects.filter(integration=integration).first() if integration else None,
        "can_resume": is_admin(request.user),
        **live_parts(integration=integration, measure=measure),
    }
    return render(request, "dashboard/home.html", context)


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
        if created:
            messages.success(request, f"Getting all payments: run #{run.pk} is queued.")
        else:
            messages.info(request, f"Run #{run.pk} is already in progress: follow it below.")
    url = reverse("home")
    return redirect(f"{url}?integration={integration.name}" if len(integrations) > 1 else url)

"""The Get All Payments button's endpoint, and a run's page and status (thin: services do the work).

The dashboard issue builds the full pages on `syncapp.sync.selectors` and `syncapp.sync.runs`.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from syncapp.connections.models import Integration
from syncapp.core.roles import finance_required
from syncapp.sync.models import SyncRun
from syncapp.sync.runs import request_run
from syncapp.sync.selectors import run_status


def _integration_from(request: HttpRequest) -> Integration:
    """The integration named in the form, or the only one there is."""
    key = (request.POST.get("integration") or "").strip()
    if key:
        lookup = {"pk": int(key)} if key.isdigit() else {"name": key}
        return get_object_or_404(Integration, **lookup)
    integrations = list(Integration.objects.order_by("name")[:2])
    if len(integrations) != 1:
        raise Http404("Say which integration to sync.")
    return integrations[0]


@require_POST
@finance_required
def start(request: HttpRequest) -> HttpResponse:
    """Get All Payments: start a run, or show the one already queued or running."""
    integration = _integration_from(request)
    dry_run = request.POST.get("dry_run") in ("1", "true", "on")
    run, created = request_run(integration=integration, requested_by=request.user, dry_run=dry_run)
    if created:
        messages.success(request, "Getting all payments: the run is queued.")
    else:
        messages.info(request, "A run is already in progress: here it is.")
    return redirect("sync-run", run_id=run.pk)


@require_GET
@finance_required
def run_page(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(SyncRun.objects.select_related("integration", "requested_by"), pk=run_id)
    return render(request, "sync/run.html", {"run": run, "status": run_status(run=run)})


@require_GET
@finance_required
def run_status_view(request: HttpRequest, run_id: int) -> HttpResponse:
    """JSON for a progress bar and log tail; `?after=<log id>` returns only newer log lines."""
    run = get_object_or_404(SyncRun.objects.select_related("integration", "requested_by"), pk=run_id)
    after = request.GET.get("after", "0")
    status = run_status(run=run, after_log_id=int(after) if after.isdigit() else 0)
    return JsonResponse(status)

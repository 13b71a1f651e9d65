"""Runs: the history, one run's detail, and the two live parts (progress bar, log tail)."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from syncapp.core.roles import finance_required
from syncapp.dashboard import selectors
from syncapp.dashboard.views.common import page_integration, pager, show_integration, stop_polling
from syncapp.sync.models import SyncRun
from syncapp.sync.runs import recover_stale_runs


def _run(run_id: int) -> SyncRun:
    """The run, marked failed first if its worker died (so no page polls a dead run for ever)."""
    run = get_object_or_404(SyncRun.objects.select_related("integration", "requested_by"), pk=run_id)
    if run.is_active and recover_stale_runs(integration=run.integration):
        run.refresh_from_db()
    return run


RUNS_PER_PAGE = 25


@finance_required
def run_list(request: HttpRequest) -> HttpResponse:
    integrations, integration = page_integration(request)
    page = Paginator(selectors.runs_page(integration=integration), RUNS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboard/runs.html",
        {
            "integrations": integrations,
            "integration": integration,
            "runs": page.object_list,
            "pager": pager(request, page),
        },
    )


@finance_required
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run(run_id)
    show_integration(request, run.integration)
    lines = selectors.last_log_lines(run=run)
    return render(
        request,
        "dashboard/run_detail.html",
        {
            "run": run,
            "outcomes": selectors.run_outcomes(run=run),
            "lines": lines,
            "cursor": lines[-1].id if lines else 0,
        },
    )


@finance_required
def run_progress(request: HttpRequest, run_id: int) -> HttpResponse:
    """The progress bar alone, polled by htmx while the run is unfinished. On Home, the end of
    the run also refreshes the counts and the run list (out-of-band swaps)."""
    run = _run(run_id)
    context = {
        "run": run,
        "outcomes": selectors.run_outcomes(run=run),
        "poll": run.is_active,
        "on": "home" if request.GET.get("on") == "home" else "",
    }
    if not run.is_active and request.GET.get("on") == "home":
        from syncapp.dashboard.views.home import live_parts

        context.update(
            live_parts(integration=run.integration),
            refresh_home=True,
            integration=run.integration,
            integrations=selectors.list_integrations(),
        )
    response = render(request, "dashboard/components/run_progress.html", context)
    return response if run.is_active else stop_polling(response)


@finance_required
def run_log(request: HttpRequest, run_id: int) -> HttpResponse:
    """New log lines after the cursor (?after=<id>), then the poller row again while the run goes on."""
    run = get_object_or_404(SyncRun, pk=run_id)
    try:
        after = max(0, int(request.GET.get("after", "0")))
    except ValueError:
        after = 0
    lines = selectors.log_lines_after(run=run, after=after)
    cursor = lines[-1].id if lines else after
    # Poll again while the run works, or if this page of lines was full (more may be waiting).
    more = run.is_active or len(lines) >= 500
    response = render(
        request, "dashboard/components/log_rows.html", {"run": run, "lines": lines, "cursor": cursor, "poll": more}
    )
    return response if more else stop_polling(response)

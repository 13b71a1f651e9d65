"""Runs: the history, one run's detail, and the two live parts (progress bar, log tail)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from syncapp.core.roles import finance_required
from syncapp.core.times import minute_by
from syncapp.dashboard import selectors
from syncapp.dashboard.views.common import page_integration, pager, show_integration, stop_polling
from syncapp.sync.models import RunState, SyncRun
from syncapp.sync.outcomes import summary_line
from syncapp.sync.progress import phase_label, seconds_left, time_left_text, waiting_text
from syncapp.sync.runs import recover_stale_runs

# Home polls every part a run changes; the engine saves its progress every 2 s (HEARTBEAT_EVERY).
HOME_POLL = "2s"
RUN_POLL = "1s"


@dataclass(frozen=True)
class ProgressCard:
    """What the progress card says about a run, from its real state: a failed run is never "100%"
    nor "in progress", a queued one says it waits for a worker until a worker takes it."""

    step: str  # "Sending to Procore…", "Stopped while matching with Procore"
    percent: int | None  # None: not known yet (the bar slides); the fill of an ended run too
    shown_percent: str  # the number beside the bar: "39%", "100%" or "" (ended early)
    tone: str  # "" | "done" | "failed" | "paused"
    meta: str  # the line under the bar


def progress_card(run: SyncRun) -> ProgressCard:
    label = phase_label(run.phase) if run.phase else ""
    reached = _percent(run.progress_done, run.progress_total)
    if run.state == RunState.QUEUED:
        return ProgressCard("Queued: waiting for a worker to start it…", None, "", "", "Not started yet.")
    if run.state == RunState.RUNNING:
        return _running_card(run, label, reached)
    if run.state == RunState.SUCCEEDED:
        return ProgressCard("Every payment handled", 100, "100%", "done", f"Finished: {summary_line(run.counts)}.")
    return _ended_early_card(run, label, reached)


def _running_card(run: SyncRun, label: str, reached: int | None) -> ProgressCard:
    if run.progress_total:
        meta = f"{run.progress_done:,} of {run.progress_total:,} payments"
    else:
        meta = f"{run.fetched:,} fetched so far"
    return ProgressCard(f"{label or 'Starting'}…", reached, f"{reached}%" if reached is not None else "", "", meta)


def _ended_early_card(run: SyncRun, label: str, reached: int | None) -> ProgressCard:
    """Paused, skipped or stopped: the bar stays where the run got to, and says no percent."""
    where = f" while {label[0].lower()}{label[1:]}" if label else ""
    if run.state == RunState.PAUSED:
        until = f" until {minute_by(run.paused_until):%H:%M}" if run.paused_until else ""
        return ProgressCard(f"Paused{where}", reached or 0, "", "paused", f"Paused{until}: {run.error}")
    if run.state == RunState.SKIPPED:
        return ProgressCard("Skipped", 0, "", "", run.error or "Skipped.")
    return ProgressCard(f"Stopped{where}", reached or 0, "", "failed", f"Stopped: {run.error or 'the run failed.'}")


def _percent(done: int, total: int) -> int | None:
    if not total:
        return None
    return max(0, min(100, round(100 * done / total)))


def estimate(run: SyncRun, sample: str) -> tuple[str, str]:
    """(the time left under the bar, the sample the next poll carries back). The sample,
    "phase:done:epoch", is the first the page saw of the current phase: the pace is the payments
    done since then over the time since then. A missing, foreign or older-phase sample starts anew."""
    if run.state == RunState.PAUSED:
        return waiting_text(run.paused_until), ""
    if run.state != RunState.RUNNING or not run.progress_total:
        return "", ""
    now = timezone.now().timestamp()
    fresh = f"{run.phase}:{run.progress_done}:{now:.1f}"
    try:
        phase, done_then, at = sample.split(":")
        done_then, at = int(done_then), float(at)
    except ValueError:
        return "", fresh
    if phase != run.phase or not 0 <= done_then <= run.progress_done or not 0 < at <= now:
        return "", fresh
    left = run.progress_total - run.progress_done
    seconds = seconds_left(phase=run.phase, left=left, done=run.progress_done - done_then, elapsed=now - at)
    return time_left_text(seconds), sample


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
            "card": progress_card(run),
            "every": RUN_POLL,
            "outcomes": selectors.run_outcomes(run=run),
            "lines": lines,
            "cursor": lines[-1].id if lines else 0,
        },
    )


@finance_required
def run_progress(request: HttpRequest, run_id: int) -> HttpResponse:
    """The progress card alone, polled by htmx while the run is unfinished. On Home (?on=home) it
    also re-draws, out of band, every part of Home the run changes whenever they changed since the
    page's last poll (?v=<fingerprint>), and at the end of the run."""
    run = _run(run_id)
    on_home = request.GET.get("on") == "home"
    eta, sample = estimate(run, request.GET.get("s", ""))
    context = {
        "run": run,
        "card": progress_card(run),
        "eta": eta,
        "sample": sample,
        "poll": run.is_active,
        "on": "home" if on_home else "",
        "every": HOME_POLL if on_home else RUN_POLL,
    }
    if on_home:
        # Imported here: views.home imports this module (HOME_POLL, progress_card).
        from syncapp.dashboard.views.home import chart_measure, live_parts, live_version

        parts = live_parts(integration=run.integration, measure=chart_measure(request))
        version = live_version(parts)
        context.update(
            parts,
            version=version,
            refresh_home=version != request.GET.get("v") or not run.is_active,
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

"""The reconciliation pages (Finance and Admin): the latest report with its summary, totals, lines and
per-commitment totals; "Reconcile now"; the live progress of a build; CSV and XLSX downloads.

Thin: `reports` starts and builds, `selectors` reads, `export` writes files.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget

from syncapp.connections.models import Integration
from syncapp.connections.services import connection_problem
from syncapp.connectors.values import integer_id
from syncapp.core import audit
from syncapp.core.roles import finance_required
from syncapp.dashboard import selectors as dashboard_selectors
from syncapp.dashboard.views.common import page_integration, pager, show_integration, stop_polling
from syncapp.reconcile import export, selectors
from syncapp.reconcile.models import CommitmentTotal, LineStatus, ReconciliationReport, ReportState
from syncapp.reconcile.presentation import line_look
from syncapp.reconcile.reports import active_report, request_report

LINES_PER_PAGE = 50
COMMITMENTS_SHOWN = 200  # more than this: the XLSX has them all


@require_GET
@finance_required
def reconciliation(request: HttpRequest) -> HttpResponse:
    integrations, integration = page_integration(request)
    shown = None
    wanted = integer_id(request.GET.get("report", ""))
    if wanted is not None:
        shown = get_object_or_404(ReconciliationReport, pk=wanted, state=ReportState.DONE)
        integration = shown.integration
        show_integration(request, integration)
    context = page_context(request, integrations=integrations, integration=integration, shown=shown)
    return render(request, "reconcile/page.html", context)


@require_POST
@finance_required
def start(request: HttpRequest) -> HttpResponse:
    """Reconcile now: start a build, or point at the one already queued or running."""
    integrations, integration = page_integration(request)
    if integration is None:
        messages.error(request, "There is no integration yet: connect Xero and Procore first.")
        return redirect("reconciliation")
    problem = connection_problem(integration)
    if problem:
        messages.error(request, problem)
    else:
        report, created = request_report(integration=integration, requested_by=request.user)
        if created:
            messages.success(
                request, f"Reconciliation #{report.pk} is queued: it reads Procore commitment by commitment."
            )
        else:
            messages.info(request, f"Reconciliation #{report.pk} is already running: follow it below.")
    return redirect(_page_url(integrations, integration))


@require_GET
@finance_required
def progress(request: HttpRequest, report_id: int) -> HttpResponse:
    """The progress box, polled by htmx while the build is unfinished. When it ends, the whole page
    body is sent in its place (with the new report) and polling stops (286)."""
    report = get_object_or_404(ReconciliationReport.objects.select_related("integration", "requested_by"), pk=report_id)
    if report.is_active:
        return render(request, "reconcile/components/progress.html", {"report": report, "poll": True})
    integrations = dashboard_selectors.list_integrations()
    context = page_context(request, integrations=integrations, integration=report.integration, shown=None)
    response = render(request, "reconcile/components/body.html", context)
    if request.htmx:
        response = reswap(retarget(response, "#reconcile-body"), "innerHTML")
    return stop_polling(response)


@require_GET
@finance_required
def download(request: HttpRequest, report_id: int, fmt: str) -> HttpResponse:
    report = get_object_or_404(ReconciliationReport.objects.select_related("integration", "requested_by"), pk=report_id)
    if report.state != ReportState.DONE:
        raise Http404("This report is not finished.")
    if fmt == "csv":
        response = HttpResponse(export.csv_text(report), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        response = HttpResponse(
            export.xlsx_bytes(report),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        raise Http404("Unknown format.")
    response["Content-Disposition"] = f'attachment; filename="{export.filename(report, fmt)}"'
    audit.record(
        action="reconciliation.downloaded",
        summary=f"Downloaded reconciliation #{report.pk} as {fmt.upper()}",
        actor=request.user,
        integration=report.integration,
        report_id=report.pk,
        format=fmt,
    )
    return response


# --- the page's context ------------------------------------------------------------------------------


def page_context(
    request: HttpRequest,
    *,
    integrations: list[Integration],
    integration: Integration | None,
    shown: ReconciliationReport | None,
) -> dict:
    latest = selectors.latest_report(integration=integration)
    shown = shown or selectors.latest_done_report(integration=integration)
    context: dict = {
        "integrations": integrations,
        "integration": integration,
        "active": active_report(integration=integration) if integration else None,
        "failed": latest if latest is not None and latest.state == ReportState.FAILED else None,
        "blocker": connection_problem(integration) if integration else "Connect Xero and Procore first.",
        "shown": shown,
        "is_latest": shown is not None and latest is not None and shown.pk == latest.pk,
        "recent": selectors.recent_reports(integration=integration),
    }
    if shown is not None:
        context.update(_report_context(request, integrations=integrations, report=shown))
    return context


def _report_context(request: HttpRequest, *, integrations: list[Integration], report: ReconciliationReport) -> dict:
    filters = selectors.LineFilters.from_query(request.GET)
    keep = {}
    if len(integrations) > 1:
        keep["integration"] = report.integration.name
    if integer_id(request.GET.get("report", "")) is not None:
        keep["report"] = str(report.pk)
    base = reverse("reconciliation")
    page = Paginator(selectors.report_lines(report=report, filters=filters), LINES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    counts = report.counts or {}
    tiles = [
        {
            "status": status,
            "label": label,
            "count": counts.get(status, 0),
            "look": line_look(status),
            "url": f"{base}?{urlencode({**keep, 'status': status})}",
            "current": filters.status == status,
        }
        for status, label in LineStatus.choices
        if counts.get(status) or status == LineStatus.MATCHED
    ]
    commitments = CommitmentTotal.objects.filter(report=report)
    return {
        "filters": filters,
        "keep": keep,
        "clear_url": f"{base}?{urlencode(keep)}" if keep else base,
        "status_choices": LineStatus.choices,
        **selectors.filter_choices(report=report),
        "tiles": tiles,
        "lines": page.object_list,
        "lines_total": page.paginator.count,
        "pager": pager(request, page),
        "commitment_rows": list(commitments.order_by("project", "commitment", "id")[:COMMITMENTS_SHOWN]),
        "commitments_count": commitments.count(),
        "commitments_cap": COMMITMENTS_SHOWN,
    }


def _page_url(integrations: list[Integration], integration: Integration) -> str:
    url = reverse("reconciliation")
    return f"{url}?{urlencode({'integration': integration.name})}" if len(integrations) > 1 else url

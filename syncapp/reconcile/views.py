"""The reconciliation pages (Finance and Admin): the latest report with its summary, totals, lines and
per-commitment totals; "Reconcile now"; the live progress of a build; CSV and XLSX downloads.

Thin: `reports` starts and builds, `selectors` reads, `export` writes files.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
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
from syncapp.reconcile import charts, export, selectors
from syncapp.reconcile.models import CommitmentTotal, LineStatus, ReconciliationReport, ReportState
from syncapp.reconcile.presentation import line_look
from syncapp.reconcile.reports import active_report, request_report

LINES_PER_PAGE = 50
COMMITMENTS_SHOWN = 200
GROUP_ROWS_SHOWN = 50  # per project, commitment, vendor, bill: more than this, the XLSX has them all


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
        # A new build needs no message: its progress box says "queued" and gives way to the report
        # when it is done; a message would stay on the page after that.
        if not created:
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
    """The report within the scope and filters of the page, streamed: CSV line by line, XLSX from a
    write-only workbook in a temporary file."""
    report = get_object_or_404(ReconciliationReport.objects.select_related("integration", "requested_by"), pk=report_id)
    if report.state != ReportState.DONE:
        raise Http404("This report is not finished.")
    filters = selectors.LineFilters.from_query(request.GET, today=timezone.localdate())
    name = export.filename(report, fmt, filters)
    if fmt == "csv":
        response = StreamingHttpResponse(export.iter_csv(report, filters), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
    elif fmt == "xlsx":
        response = FileResponse(
            export.xlsx_file(report, filters),
            as_attachment=True,
            filename=name,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        raise Http404("Unknown format.")
    audit.record(
        action="reconciliation.downloaded",
        summary=f"Downloaded reconciliation #{report.pk} as {fmt.upper()} ({filters.describe()})",
        actor=request.user,
        integration=report.integration,
        report_id=report.pk,
        format=fmt,
        filters=filters.params(),
        file=name,
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
    filters = selectors.LineFilters.from_query(request.GET, today=timezone.localdate())
    keep = {}
    if len(integrations) > 1:
        keep["integration"] = report.integration.name
    if integer_id(request.GET.get("report", "")) is not None:
        keep["report"] = str(report.pk)
    base = reverse("reconciliation")

    def link(**changes) -> str:
        """The page narrowed to the rows behind a number: the scope, plus `changes`."""
        return f"{base}?{urlencode({**keep, **filters.scope.with_(**changes).params()})}"

    page = Paginator(selectors.report_lines(report=report, filters=filters), LINES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    currencies = selectors.currency_totals(report=report, filters=filters)
    counts: dict[str, int] = {}
    for row in currencies:
        row["link"] = link(currency=row["currency"])
        row["count_links"] = [
            (status, label, row["counts"][status], link(currency=row["currency"], status=status))
            for status, label in LineStatus.choices
            if row["counts"].get(status)
        ]
        for status, n in row["counts"].items():
            counts[status] = counts.get(status, 0) + n
    tiles = [
        {
            "status": status,
            "label": label,
            "count": counts.get(status, 0),
            "look": line_look(status),
            "url": link(status=status),
            "current": filters.status == status,
        }
        for status, label in LineStatus.choices
        if counts.get(status) or status == LineStatus.MATCHED
    ]
    groups = {}
    for by, key in (("project", "procore_project_id"), ("commitment", "procore_commitment_id"),
                    ("vendor", "vendor_id"), ("bill", "xero_invoice_id")):  # fmt: skip
        rows = list(selectors.totals_by(report=report, filters=filters, by=by, limit=GROUP_ROWS_SHOWN + 1))
        for row in rows:
            row["link"] = link(currency=row["currency"], **{by: row[key]})
        groups[by] = rows
    today = timezone.localdate()
    presets = []
    for value, label in selectors.PRESETS:
        start, end = selectors.preset_range(value, today=today)
        presets.append({"label": label, "url": link(date_from=start, date_to=end),
                        "current": (filters.date_from, filters.date_to) == (start, end)})  # fmt: skip
    commitments = CommitmentTotal.objects.filter(report=report).exclude(note="").exclude(procore_commitment_id=None)
    return {
        "filters": filters,
        "scope_text": filters.describe(),
        "keep": keep,
        "clear_url": link(),
        "all_url": f"{base}?{urlencode(keep)}" if keep else base,
        "presets": presets,
        "status_choices": LineStatus.choices,
        **selectors.filter_choices(report=report),
        "tiles": tiles,
        "currencies": currencies,
        "groups": groups,
        "group_cap": GROUP_ROWS_SHOWN,
        "chart": charts.paired_bars(groups["project"][:GROUP_ROWS_SHOWN]),
        "unread_commitments": list(commitments[:COMMITMENTS_SHOWN]),
        "lines": page.object_list,
        "lines_total": page.paginator.count,
        "pager": pager(request, page),
        "download_query": urlencode(filters.params()),
        "procore_web": settings.PROCORE_WEB_URL,
        "xero_web": settings.XERO_WEB_URL,
    }


def _page_url(integrations: list[Integration], integration: Integration) -> str:
    url = reverse("reconciliation")
    return f"{url}?{urlencode({'integration': integration.name})}" if len(integrations) > 1 else url

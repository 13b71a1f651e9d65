"""Reads for the reconciliation pages and downloads: which report to show, its lines filtered and
the choices of the filter menus."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, IntegerField, QuerySet, Value, When

from syncapp.connections.models import Integration
from syncapp.reconcile.models import LineStatus, ReconciliationLine, ReconciliationReport, ReportState

# The order of the table: what needs a person first, matched lines last.
PROBLEMS_FIRST = [s for s in LineStatus.values if s != LineStatus.MATCHED] + [LineStatus.MATCHED]


def latest_report(*, integration: Integration | None) -> ReconciliationReport | None:
    if integration is None:
        return None
    return ReconciliationReport.objects.filter(integration=integration).select_related("requested_by").first()


def latest_done_report(*, integration: Integration | None) -> ReconciliationReport | None:
    if integration is None:
        return None
    return (
        ReconciliationReport.objects.filter(integration=integration, state=ReportState.DONE)
        .select_related("requested_by")
        .first()
    )


def recent_reports(*, integration: Integration | None, limit: int = 10) -> list[ReconciliationReport]:
    if integration is None:
        return []
    return list(ReconciliationReport.objects.filter(integration=integration).select_related("requested_by")[:limit])


@dataclass(frozen=True)
class LineFilters:
    status: str = ""
    vendor: str = ""
    project: str = ""

    @classmethod
    def from_query(cls, query) -> LineFilters:
        status = (query.get("status") or "").strip()
        return cls(
            status=status if status in LineStatus.values else "",
            vendor=(query.get("vendor") or "").strip()[:255],
            project=(query.get("project") or "").strip()[:255],
        )

    @property
    def active(self) -> bool:
        return bool(self.status or self.vendor or self.project)


def report_lines(*, report: ReconciliationReport, filters: LineFilters = LineFilters()) -> QuerySet:
    """Problems first (by status, in the order of the tiles, matched last), then by project, vendor
    and date."""
    rank = Case(
        *[When(status=status, then=Value(i)) for i, status in enumerate(PROBLEMS_FIRST)],
        default=Value(len(PROBLEMS_FIRST)),
        output_field=IntegerField(),
    )
    lines = ReconciliationLine.objects.filter(report=report).alias(rank=rank)
    if filters.status:
        lines = lines.filter(status=filters.status)
    if filters.vendor:
        lines = lines.filter(vendor=filters.vendor)
    if filters.project:
        lines = lines.filter(project=filters.project)
    return lines.order_by("rank", "project", "commitment", "vendor", "xero_date", "procore_date", "id")


def filter_choices(*, report: ReconciliationReport) -> dict[str, list[str]]:
    lines = ReconciliationLine.objects.filter(report=report)
    return {
        "vendors": [v for v in lines.order_by("vendor").values_list("vendor", flat=True).distinct() if v],
        "projects": [p for p in lines.order_by("project").values_list("project", flat=True).distinct() if p],
    }

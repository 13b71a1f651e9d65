"""Reads for the reconciliation pages and downloads: which report to show, the scope a person asked
for (a period on the Xero payment date, a project, a vendor) and, within it, the lines filtered and
the totals per currency, project, commitment, vendor and bill.

A report is a snapshot of the whole integration; a scope is a view of it. So a month, a quarter or
one vendor read the same snapshot, and its "as of" time holds for every one of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal

from django.db.models import Case, Count, F, IntegerField, Max, Q, QuerySet, Sum, Value, When

from syncapp.connections.models import Integration
from syncapp.connectors.values import integer_id
from syncapp.reconcile.models import LineStatus, MissingReason, ReconciliationLine, ReconciliationReport, ReportState

# The order of the table: what needs a person first, matched lines last.
PROBLEMS_FIRST = [s for s in LineStatus.values if s != LineStatus.MATCHED] + [LineStatus.MATCHED]
# Lines whose Xero amount is part of "paid in Xero" (compare.Line.counts_in_xero): an ignored payment
# is kept out of Procore on purpose, a deleted one is no longer paid, the others have no Xero side.
XERO_COUNTED = (
    LineStatus.MATCHED,
    LineStatus.AMOUNT_DIFFERS,
    LineStatus.DATE_DIFFERS,
    LineStatus.MISSING_IN_PROCORE,
    LineStatus.NOT_SENT,
)
ZERO = Decimal("0.00")
PRESETS = [("this_month", "This month"), ("last_month", "Last month"), ("this_quarter", "This quarter")]


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


# --- the period ----------------------------------------------------------------------------------------


def preset_range(preset: str, *, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """First and last day of this month, last month or this quarter."""
    if preset == "this_month":
        start = today.replace(day=1)
    elif preset == "last_month":
        start = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    elif preset == "this_quarter":
        start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    else:
        return None
    months = 3 if preset == "this_quarter" else 1
    year, month = divmod(start.month - 1 + months, 12)
    end = dt.date(start.year + year, month + 1, 1) - dt.timedelta(days=1)
    return start, end


def parse_day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((value or "").strip()[:10])
    except ValueError:
        return None


@dataclass(frozen=True)
class LineFilters:
    """The scope (period, project, vendor) and, within it, what the table narrows to. Every part is
    a URL parameter, so a number on the page links to exactly the rows behind it."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    project: int | None = None  # Procore project id
    vendor: str = ""  # Xero ContactID
    status: str = ""
    reason: str = ""
    currency: str = ""
    commitment: int | None = None  # Procore commitment id
    bill: str = ""  # Xero InvoiceID

    @classmethod
    def from_query(cls, query, *, today: dt.date | None = None) -> LineFilters:
        date_from, date_to = _period(query, today=today or dt.date.today())
        return cls(
            date_from=date_from,
            date_to=date_to,
            project=integer_id(query.get("project") or ""),
            vendor=_token(query.get("vendor")),
            status=_one_of(query.get("status"), LineStatus.values),
            reason=_one_of(query.get("reason"), MissingReason.values),
            currency=_currency(query.get("currency")),
            commitment=integer_id(query.get("commitment") or ""),
            bill=_token(query.get("bill")),
        )

    @property
    def scope(self) -> LineFilters:
        """Only the period, project and vendor: what the summary totals."""
        return LineFilters(date_from=self.date_from, date_to=self.date_to, project=self.project, vendor=self.vendor)

    @property
    def active(self) -> bool:
        return self.narrowed or self.scope != LineFilters()

    @property
    def narrowed(self) -> bool:
        """Narrower than the scope: a status, reason, currency, commitment or bill."""
        return bool(self.status or self.reason or self.currency or self.commitment or self.bill)

    def params(self) -> dict[str, str]:
        """The URL parameters that give these filters back."""
        values = {
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "project": str(self.project or ""),
            "vendor": self.vendor,
            "currency": self.currency,
            "commitment": str(self.commitment or ""),
            "bill": self.bill,
            "status": self.status,
            "reason": self.reason,
        }
        return {name: value for name, value in values.items() if value}

    def with_(self, **changes) -> LineFilters:
        return replace(self, **changes)

    def describe(self) -> str:
        """The scope in words, for the page, the files and the audit log."""
        parts = [self.period_text()]
        if self.project:
            parts.append(f"project {self.project}")
        if self.vendor:
            parts.append(f"vendor {self.vendor}")
        return ", ".join(parts)

    def period_text(self) -> str:
        if self.date_from and self.date_to:
            return f"paid {self.date_from.isoformat()} to {self.date_to.isoformat()}"
        if self.date_from:
            return f"paid from {self.date_from.isoformat()}"
        if self.date_to:
            return f"paid up to {self.date_to.isoformat()}"
        return "every date"

    def slug(self) -> str:
        """The scope for a file name: dates, project and vendor, nothing a file system minds."""
        parts = [
            f"{self.date_from.isoformat() if self.date_from else 'start'}_to_"
            f"{self.date_to.isoformat() if self.date_to else 'now'}"
        ]
        if self.project:
            parts.append(f"project-{self.project}")
        if self.vendor:
            parts.append("vendor-" + "".join(c for c in self.vendor if c.isalnum() or c == "-")[:40])
        return "-".join(parts)


def _token(value: str | None) -> str:
    value = (value or "").strip()
    return value[:64] if value.isprintable() else ""


def _period(query, *, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The dates given; a preset period ("last_month") only when no date is."""
    date_from, date_to = parse_day(query.get("from")), parse_day(query.get("to"))
    period = preset_range((query.get("period") or "").strip(), today=today)
    if period is not None and date_from is None and date_to is None:
        return period
    return date_from, date_to


def _one_of(value: str | None, allowed: list[str]) -> str:
    value = (value or "").strip()
    return value if value in allowed else ""


def _currency(value: str | None) -> str:
    """An ISO 4217 code ("AUD"), whatever its case; anything else is no filter."""
    code = (value or "").strip().upper()
    return code if len(code) == 3 and code.isascii() and code.isalpha() else ""


def scoped_lines(*, report: ReconciliationReport, filters: LineFilters = LineFilters()) -> QuerySet:
    lines = ReconciliationLine.objects.filter(report=report)
    f = filters
    if f.date_from:
        lines = lines.filter(day__gte=f.date_from)
    if f.date_to:
        lines = lines.filter(day__lte=f.date_to)
    for field, value in (
        ("procore_project_id", f.project),
        ("vendor_id", f.vendor),
        ("status", f.status),
        ("reason", f.reason),
        ("currency", f.currency),
        ("procore_commitment_id", f.commitment),
        ("xero_invoice_id", f.bill),
    ):
        if value:
            lines = lines.filter(**{field: value})
    return lines


def report_lines(*, report: ReconciliationReport, filters: LineFilters = LineFilters()) -> QuerySet:
    """Problems first (by status, in the order of the tiles, matched last), then by vendor, bill and
    date."""
    rank = Case(
        *[When(status=status, then=Value(i)) for i, status in enumerate(PROBLEMS_FIRST)],
        default=Value(len(PROBLEMS_FIRST)),
        output_field=IntegerField(),
    )
    lines = scoped_lines(report=report, filters=filters).alias(rank=rank)
    return lines.order_by("rank", "vendor", "invoice_number", "commitment", "day", "id")


def filter_choices(*, report: ReconciliationReport) -> dict[str, list[tuple[str, str]]]:
    """(id, name) of the projects and vendors the report has lines for."""
    lines = ReconciliationLine.objects.filter(report=report)
    projects = (
        lines.exclude(procore_project_id=None)
        .values("procore_project_id")
        .annotate(name=Max("project"))
        .order_by("name", "procore_project_id")
    )
    vendors = lines.exclude(vendor_id="").values("vendor_id").annotate(name=Max("vendor")).order_by("name", "vendor_id")
    return {
        "projects": [(str(p["procore_project_id"]), p["name"] or f"#{p['procore_project_id']}") for p in projects],
        "vendors": [(v["vendor_id"], v["name"] or v["vendor_id"]) for v in vendors],
    }


# --- totals of a scope ---------------------------------------------------------------------------------


def _sums() -> dict:
    counted = Q(status__in=XERO_COUNTED)
    sums = {
        "xero": Sum("xero_amount", filter=counted, default=ZERO),
        "procore": Sum("procore_amount", default=ZERO),
        "lines": Count("id"),
        "problems": Count("id", filter=~Q(status=LineStatus.MATCHED)),
    }
    for status in LineStatus.values:
        sums[f"n_{status}"] = Count("id", filter=Q(status=status))
    return sums


def _grouped(lines: QuerySet, group: list[str], names: dict[str, object]) -> QuerySet:
    """Totals per `group`, the groups with a difference or a problem first (ordered in SQL, so an
    export can stream them)."""
    grouped = lines.values(*group).annotate(**names, **_sums())
    grouped = grouped.annotate(
        difference=F("xero") - F("procore"),
        clean=Case(When(Q(xero=F("procore")) & Q(problems=0), then=Value(1)), default=Value(0)),
    )
    order = ["clean", "name"] if "name" in names else ["clean"]
    return grouped.order_by(*order, *group)


def _finish(row: dict) -> dict:
    row.pop("clean", None)
    row["counts"] = {s: row[f"n_{s}"] for s in LineStatus.values if row[f"n_{s}"]}
    for s in LineStatus.values:
        row.pop(f"n_{s}")
    return row


def _rows(lines: QuerySet, group: list[str], names: dict[str, object]) -> list[dict]:
    return [_finish(row) for row in _grouped(lines, group, names)]


def currency_totals(*, report: ReconciliationReport, filters: LineFilters) -> list[dict]:
    """One row per currency (never summed across currencies): paid in Xero, recorded in Procore,
    the difference and the lines per status."""
    rows = _rows(scoped_lines(report=report, filters=filters.scope), ["currency"], {})
    return sorted(rows, key=lambda row: row["currency"])


def totals_by(
    *, report: ReconciliationReport, filters: LineFilters, by: str, limit: int | None = None
) -> Iterator[dict]:
    """Totals per project, commitment, vendor or bill (and currency), the rows with a difference or
    a problem first. Read in chunks: a year of bills can be tens of thousands of rows."""
    lines = scoped_lines(report=report, filters=filters.scope)
    if by == "project":
        grouped = _grouped(lines, ["currency", "procore_project_id"], {"name": Max("project")})
    elif by == "commitment":
        grouped = _grouped(
            lines,
            ["currency", "procore_commitment_id"],
            {"name": Max("commitment"), "project": Max("project"), "vendor": Max("vendor")},
        )
    elif by == "vendor":
        grouped = _grouped(lines, ["currency", "vendor_id"], {"name": Max("vendor")})
    elif by == "bill":
        grouped = _grouped(
            lines.exclude(xero_invoice_id=""),
            ["currency", "xero_invoice_id"],
            {"name": Max("invoice_number"), "vendor": Max("vendor"), "total": Max("bill_total"),
             "commitment": Max("commitment")},
        )  # fmt: skip
    else:
        raise ValueError(by)
    if limit:
        grouped = grouped[:limit]
    return (_finish(row) for row in grouped.iterator(chunk_size=2000))

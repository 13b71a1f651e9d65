"""The documented list filters the product uses to read only what changed: `filters[updated_at]`
(a time range) and `filters[vendor_id]` on projects. Pure parsing and queryset narrowing; the API
views in `api.py` turn a `FilterError` into Procore's 400.

Sources:
- The `filters[updated_at]` parameter of RestV10ProjectsGet, RestV10VendorsGet,
  RestV10WorkOrderContractsGet, RestV10PurchaseOrderContractsGet and RestV11RequisitionsGet
  (tests/specs/procore): "Return item(s) last updated within the specified ISO 8601 datetime
  range. Formats: `YYYY-MM-DD`...`YYYY-MM-DD` - Date, `YYYY-MM-DDTHH:MM:SSZ`...`YYYY-MM-DDTHH:MM:SSZ`
  - DateTime with UTC Offset, `YYYY-MM-DDTHH:MM:SS+XX:00`...`YYYY-MM-DDTHH:MM:SS+XX:00` - Datetime
  with Custom Offset" (our copies of the specs cut the text before the last form; Procore's
  reference pages print it in full for the same parameter of other list operations).
  RestV10CommitmentsGet documents no filter at all.
- developers.procore.com, "Filtering and Sorting on List Actions": the date-time strings "must
  adhere to ISO8601 standards" and "must be formatted as a range using the ... delimiter".
- developers.procore.com, "Error Code Reference": 400 Bad Request for "invalid parameter values".
"""

from __future__ import annotations

import datetime as dt
import re

from django.db.models import QuerySet

from syncapp.sandbox.procore.models import Commitment

RANGE_DELIMITER = "..."
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Only the documented forms: seconds, then Z or a +HH:MM / -HH:MM offset. No fractions, no
# offset-less local times (what zone would they be in?), no open ends.
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")
RANGE_FORMS = (
    "YYYY-MM-DD...YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ...YYYY-MM-DDTHH:MM:SSZ "
    "or YYYY-MM-DDTHH:MM:SS+XX:00...YYYY-MM-DDTHH:MM:SS+XX:00"
)


class FilterError(ValueError):
    """A filter value Procore would refuse with 400; the message says what is wrong."""


def _day(text: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise FilterError(f"{name} holds an impossible date: {text}") from error


def _moment(text: str, name: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise FilterError(f"{name} holds an impossible date and time: {text}") from error


def time_range(raw: str, *, name: str = "filters[updated_at]") -> tuple[dt.datetime, dt.datetime]:
    """The inclusive [start, end] instants of a `START...END` range.

    Both ends take the same form (the docs list each form as a pair). A date range covers whole
    UTC days, END included: "within" 2026-11-01...2026-11-30 reads as the thirtieth too (the docs
    name no time zone for a date; UTC is the API's zone for every time it answers). A datetime
    range compares exact instants: rows updated at END's second plus a fraction are after END.
    START after END is a range nothing falls in: an empty list, not an error.
    """
    parts = raw.split(RANGE_DELIMITER)
    if len(parts) != 2 or not all(parts):
        raise FilterError(f"{name} must be a range START...END in one of: {RANGE_FORMS}")
    start, end = (part.strip() for part in parts)
    if _DATE.match(start) and _DATE.match(end):
        first, last = _day(start, name), _day(end, name)
        midnight = dt.time(tzinfo=dt.UTC)
        return (
            dt.datetime.combine(first, midnight),
            dt.datetime.combine(last + dt.timedelta(days=1), midnight) - dt.timedelta(microseconds=1),
        )
    if _DATETIME.match(start) and _DATETIME.match(end):
        return _moment(start, name), _moment(end, name)
    raise FilterError(f"{name} must be a range START...END in one of: {RANGE_FORMS}")


def updated_within(rows: QuerySet, raw: str | None) -> QuerySet:
    """`rows` last updated within the `filters[updated_at]` range; all of them without one."""
    if raw is None or not raw.strip():
        return rows
    start, end = time_range(raw.strip())
    return rows.filter(updated_at__gte=start, updated_at__lte=end)


# --- filters[vendor_id] on projects -----------------------------------------------------------

# RestV10ProjectsGet documents `filters[vendor_id]` only as "Return item(s) with the specified
# Vendor ID". Which projects "have" a vendor is not said: where the vendor holds a commitment (our
# reading), where it is in the project's directory, or nothing at all in some companies. The
# `SANDBOX_PROCORE_PROJECTS_VENDOR_FILTER` switch (faults.projects_vendor_filter) picks one:
VENDOR_COMMITMENTS = "commitments"  # projects where the vendor holds a non-deleted commitment
VENDOR_IGNORED = "ignored"  # the filter is not applied: every project is listed
VENDOR_NONE = "none"  # no project is listed for any vendor
VENDOR_FILTER_MODES = (VENDOR_COMMITMENTS, VENDOR_IGNORED, VENDOR_NONE)


def projects_of_vendor(rows: QuerySet, raw: str | None, *, mode: str) -> QuerySet:
    """`rows` (projects) narrowed by `filters[vendor_id]` as `mode` reads it."""
    if raw is None or not raw.strip() or mode == VENDOR_IGNORED:
        return rows
    if not raw.strip().isdigit():
        raise FilterError("filters[vendor_id] must be an integer")
    if mode == VENDOR_NONE:
        return rows.none()
    holding = Commitment.objects.filter(vendor_id=int(raw.strip()), deleted_at__isnull=True)
    return rows.filter(pk__in=holding.values("project_id"))

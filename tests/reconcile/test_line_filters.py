"""Reconciliation filters read from the URL: a preset period unless dates are given, and values that
are not a known status, reason, currency or id are dropped rather than errors."""

from __future__ import annotations

import datetime as dt

from django.http import QueryDict

from syncapp.reconcile.models import LineStatus, MissingReason
from syncapp.reconcile.selectors import LineFilters

TODAY = dt.date(2026, 5, 14)


def filters(query: str) -> LineFilters:
    return LineFilters.from_query(QueryDict(query), today=TODAY)


def test_a_preset_period_gives_its_first_and_last_day_unless_a_date_is_given():
    assert filters("period=last_month").params() == {"from": "2026-04-01", "to": "2026-04-30"}
    assert filters("period=this_quarter").params() == {"from": "2026-04-01", "to": "2026-06-30"}
    assert filters("period=last_month&from=2026-01-05").params() == {"from": "2026-01-05"}
    assert filters("period=next_year").params() == {}


def test_known_values_are_kept_and_the_currency_is_read_in_capitals():
    query = (
        f"status={LineStatus.NOT_SENT}&reason={MissingReason.BLOCKED}&currency=%20aud%20"
        "&project=5&commitment=70&vendor=c-acme&bill=inv-1"
    )
    assert filters(query) == LineFilters(
        project=5,
        vendor="c-acme",
        status=LineStatus.NOT_SENT,
        reason=MissingReason.BLOCKED,
        currency="AUD",
        commitment=70,
        bill="inv-1",
    )


def test_unknown_or_malformed_values_are_dropped():
    assert filters("status=lost&reason=why&currency=AUDX&project=five&commitment=-1&to=tomorrow") == LineFilters()
    assert filters("currency=A1D") == filters("currency=ÅUD") == LineFilters()

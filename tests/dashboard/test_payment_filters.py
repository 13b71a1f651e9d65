"""The payments list's FilterSet: each query-string parameter selects what it always selected, the
sort keeps one order across pages, and a stale bookmark with bad values still opens the list."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from syncapp.dashboard import selectors
from syncapp.dashboard.filters import PaymentFilterSet
from syncapp.sync.models import PaymentState
from tests.dashboard.conftest import World, make_payment

pytestmark = pytest.mark.django_db


def filtered(world: World, query: str) -> PaymentFilterSet:
    return PaymentFilterSet(QueryDict(query), queryset=selectors.payment_rows(integration=world.integration))


def numbers(filterset: PaymentFilterSet) -> list[str]:
    return [p.invoice_number for p in filterset.qs]


def test_each_parameter_narrows_the_list_to_what_it_names(world):
    today = timezone.localdate()
    make_payment(world.integration, 50, vendor_name="Acme", project_name="Tower", amount=Decimal("5000.00"))
    make_payment(world.integration, 51, date=today - dt.timedelta(days=400), reason_code="vendor_not_linked")
    assert numbers(filtered(world, "vendor=Acme")) == ["INV-00050"]
    assert numbers(filtered(world, "project=Tower")) == ["INV-00050"]
    assert numbers(filtered(world, "amount_min=4999.99&amount_max=5000")) == ["INV-00050"]
    old = (today - dt.timedelta(days=399)).isoformat()
    assert numbers(filtered(world, f"date_to={old}")) == ["INV-00051"]
    assert "INV-00051" not in numbers(filtered(world, f"date_from={old}"))
    assert numbers(filtered(world, "reason=vendor_not_linked&state=sent")) == ["INV-00051"]
    assert numbers(filtered(world, "reason=vendor_not_linked&state=failed")) == []
    assert numbers(filtered(world, "state=sent&vendor=Acme&q=INV-0005")) == ["INV-00050"]


def test_without_a_sort_the_newest_payment_comes_first(world):
    dates = [p.date for p in filtered(world, "").qs]
    assert dates == sorted(dates, reverse=True)


def test_payments_of_equal_value_keep_one_order_by_id_in_the_sort_direction(world):
    same = [make_payment(world.integration, n, amount=Decimal("7.00")).pk for n in range(60, 64)]
    ascending = [p.pk for p in filtered(world, "sort=amount").qs if p.pk in same]
    descending = [p.pk for p in filtered(world, "sort=-amount").qs if p.pk in same]
    assert ascending == same and descending == same[::-1]


@pytest.mark.parametrize("sort", ["foo", "-foo", "amount;drop", "x" * 3000])
def test_an_unknown_sort_falls_back_to_newest_first(world, sort):
    filterset = filtered(world, urlencode({"sort": sort}))
    assert filterset.sort_value == "-date" and "sort" not in filterset.chosen
    assert [p.pk for p in filterset.qs] == [p.pk for p in filtered(world, "").qs]


def test_a_bad_value_is_dropped_and_the_good_ones_still_filter(world):
    filterset = filtered(world, "state=nonsense&amount_min=1e309&date_from=2024-13-45&vendor=Vendor%203")
    assert filterset.chosen == {"vendor": "Vendor 3"}
    assert {p.vendor_name for p in filterset.qs} == {"Vendor 3"}


def test_what_was_chosen_reads_as_the_query_string_spelled_it(world):
    chosen = filtered(world, "sort=-amount&amount_min=120&date_from=2026-01-02&q=%20EFT%20&state=").chosen
    assert chosen == {"sort": "-amount", "amount_min": "120", "date_from": "2026-01-02", "q": "EFT"}


def test_a_stale_bookmark_with_bad_values_opens_the_list(finance_client, world):
    response = finance_client.get(reverse("payments"), {"state": "gone", "sort": "bogus", "amount_max": "abc"})
    assert response.status_code == 200
    assert {p.state for p in response.context["payments"]} > {PaymentState.SENT}
    assert 'name="sort" value=""' in response.content.decode()


def test_the_sorted_column_heading_flips_direction_on_a_second_click(finance_client, world):
    headings = {h["label"]: h for h in finance_client.get(reverse("payments"), {"sort": "-amount"}).context["headings"]}
    assert headings["Amount"]["sort"] == "descending" and "sort=amount" in headings["Amount"]["url"]
    assert headings["Date"]["sort"] == "" and "sort=-date" in headings["Date"]["url"]
    assert headings["Project / commitment"]["url"] == ""

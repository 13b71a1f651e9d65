"""Month-end reconciliation against the sandbox: discrepancies planted in the sandbox's Xero and
Procore (a hand-entered payment, an edited amount, a duplicate, a deletion in Xero not carried over,
a blocked payment), each inside a period and just outside it, then one report read for that period:
every category appears for the planted payment inside, none for the one outside, and the totals
add up per currency."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from django.utils import timezone

from syncapp.reconcile import selectors
from syncapp.reconcile.models import ReconciliationLine, ReportState
from syncapp.reconcile.reports import execute_report, start_report
from syncapp.reconcile.selectors import LineFilters
from syncapp.sandbox.procore.models import Company, ContractPayment
from syncapp.sandbox.xero.models import Payment as XeroPaymentRow
from syncapp.sync.models import Payment, PaymentState

pytestmark = pytest.mark.django_db(transaction=True)


def sent(world) -> list[Payment]:
    return list(Payment.objects.filter(integration=world.integration, state=PaymentState.SENT).order_by("date", "id"))


def copy(remote: ContractPayment, **changes) -> ContractPayment:
    """A second Procore payment like `remote` (the sandbox's own fields only)."""
    fields = {"project": remote.project, "commitment": remote.commitment, "date": remote.date,
              "amount": remote.amount, "invoice_number": remote.invoice_number, "origin_id": ""}  # fmt: skip
    return ContractPayment.objects.create(**{**fields, **changes})


@pytest.fixture
def planted(synced):
    """Each discrepancy twice: on a payment paid up to `cut` (inside the period) and on one paid
    after it (just outside). Returns (world, period, {category: (inside id, outside id)})."""
    payments = sent(synced)
    cut = payments[len(payments) // 2].date
    inside = [p for p in payments if p.date <= cut][::-1]  # nearest the edge first
    outside = [p for p in payments if p.date > cut]
    assert len(inside) >= 4 and len(outside) >= 4
    period = LineFilters(date_from=payments[0].date, date_to=cut)
    plants: dict[str, tuple] = {}

    def remote_of(payment: Payment) -> ContractPayment:
        return ContractPayment.objects.get(origin_id=payment.xero_payment_id)

    # Edited amount in Procore.
    for side in (inside[0], outside[0]):
        ContractPayment.objects.filter(origin_id=side.xero_payment_id).update(amount=Decimal("1.23"))
    plants["amount_differs"] = (inside[0].xero_payment_id, outside[0].xero_payment_id)
    # Duplicates: the same Xero payment twice, and one entered again by hand (same bill, amount, date).
    twice = [copy(remote_of(p), origin_id=p.xero_payment_id) for p in (inside[1], outside[1])]
    again = [copy(remote_of(p)) for p in (inside[2], outside[2])]
    plants["duplicate"] = tuple(r.pk for r in twice)
    plants["duplicate_by_hand"] = tuple(r.pk for r in again)
    # Entered by hand, on the last day of the period and the day after it.
    target = remote_of(inside[3])
    last, after = cut, cut + dt.timedelta(days=1)
    hand = [
        copy(target, date=last, amount=Decimal("250.00"), invoice_number="HAND-1"),
        copy(target, date=after, amount=Decimal("260.00"), invoice_number="HAND-2"),
    ]
    plants["by_hand"] = tuple(r.pk for r in hand)
    # Deleted in Xero; Procore refuses the reversal (its documented default for a synced payment),
    # so the deletion is not carried over.
    Company.objects.update(refuse_delete_with_origin=True)
    for side in (inside[4], outside[3]):
        XeroPaymentRow.objects.filter(payment_id=side.xero_payment_id).update(
            status="DELETED", updated_at=timezone.now()
        )
    plants["deleted_in_xero"] = (inside[4].xero_payment_id, outside[3].xero_payment_id)
    run = synced.run()
    assert run.state == "succeeded", run.error
    assert synced.payment(inside[4].xero_payment_id).state == PaymentState.NEEDS_ATTENTION
    blocked = Payment.objects.filter(integration=synced.integration, state=PaymentState.BLOCKED).exclude(date=None)
    plants["blocked"] = (
        blocked.filter(date__gte=period.date_from, date__lte=cut).first(),
        blocked.filter(date__gt=cut).first(),
    )
    report, _ = start_report(integration=synced.integration)
    report = execute_report(report.pk)
    assert report.state == ReportState.DONE, report.error
    return report, period, plants


def scoped(report, period: LineFilters):
    return selectors.scoped_lines(report=report, filters=period)


def test_each_planted_discrepancy_has_its_category_inside_the_period_and_not_outside(planted):
    report, period, plants = planted
    lines = scoped(report, period)
    every = ReconciliationLine.objects.filter(report=report)

    for category in ("amount_differs", "deleted_in_xero"):
        inside, outside = plants[category]
        assert lines.get(xero_payment_id=inside).status == category
        assert not lines.filter(xero_payment_id=outside).exists()
        assert every.get(xero_payment_id=outside).status == category  # it is there, in the next period

    for category in ("duplicate", "duplicate_by_hand"):
        inside, outside = plants[category]
        row = lines.get(procore_payment_id=inside)
        assert row.status == "duplicate" and row.difference == -row.procore_amount
        assert not lines.filter(procore_payment_id=outside).exists()
        assert every.get(procore_payment_id=outside).status == "duplicate"
    twice = lines.get(procore_payment_id=plants["duplicate"][0])
    assert "twice" in twice.note and twice.payment_id and twice.vendor  # named after our payment
    assert "Same invoice, amount and date" in lines.get(procore_payment_id=plants["duplicate_by_hand"][0]).note

    inside, outside = plants["by_hand"]
    hand = lines.get(procore_payment_id=inside)
    assert hand.status == "by_hand" and hand.difference == Decimal("-250.00") and hand.day == period.date_to
    assert not lines.filter(procore_payment_id=outside).exists()

    blocked_in, blocked_out = plants["blocked"]
    if blocked_in is not None:
        row = lines.get(xero_payment_id=blocked_in.xero_payment_id)
        assert row.status == "not_sent" and row.reason == "blocked" and row.note.startswith("Blocked")
    if blocked_out is not None:
        assert not lines.filter(xero_payment_id=blocked_out.xero_payment_id).exists()
    assert blocked_in is not None or blocked_out is not None
    # Everything else inside the period is matched (the planted ones are the only problems, with the
    # blocked and other not-sent payments the seed makes).
    planted_ids = {plants["amount_differs"][0], plants["deleted_in_xero"][0]}
    others = lines.exclude(xero_payment_id__in=planted_ids).filter(status__in=["amount_differs", "deleted_in_xero"])
    assert not others.exists()
    assert lines.filter(status="matched").exists()


def test_the_reasons_of_payments_missing_in_procore(planted):
    report, _, _ = planted
    waiting = ReconciliationLine.objects.filter(report=report, status="not_sent")
    states = dict(Payment.objects.filter(integration=report.integration).values_list("xero_payment_id", "state"))
    for row in waiting:
        expected = {"blocked": "blocked", "failed": "failed"}.get(states[row.xero_payment_id], "not_yet_run")
        assert row.reason == expected
    assert waiting.filter(reason="blocked").exists()


def test_the_totals_of_a_period_add_up_per_currency(planted):
    report, period, _ = planted
    lines = list(scoped(report, period))
    expected: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in lines:
        if row.status in selectors.XERO_COUNTED and row.xero_amount is not None:
            expected[row.currency]["xero"] += row.xero_amount
        expected[row.currency]["procore"] += row.procore_amount or 0
        expected[row.currency]["difference"] += row.difference or 0
    totals = selectors.currency_totals(report=report, filters=period)
    assert {t["currency"] for t in totals} == set(expected)
    for t in totals:
        assert t["xero"] == expected[t["currency"]]["xero"]
        assert t["procore"] == expected[t["currency"]]["procore"]
        # The difference is paid minus recorded, and the lines' differences add up to it.
        assert t["difference"] == t["xero"] - t["procore"] == expected[t["currency"]]["difference"]
        assert sum(t["counts"].values()) == t["lines"]
    # Per bill: the bill's total from Xero beside what was paid and recorded.
    from syncapp.sync.models import XeroBillRecord

    totals_of_bills = dict(XeroBillRecord.objects.values_list("invoice_id", "total"))
    bills = list(selectors.totals_by(report=report, filters=period, by="bill"))
    assert bills and all(b["total"] == totals_of_bills[b["xero_invoice_id"]] for b in bills)
    assert bills[0]["difference"] != 0 or bills[0]["problems"]  # the bills with a problem first
    # Per project, commitment, vendor and bill, the rows of a currency add up to its total.
    for by in ("project", "commitment", "vendor"):
        rows = list(selectors.totals_by(report=report, filters=period, by=by))
        for t in totals:
            mine = [r for r in rows if r["currency"] == t["currency"]]
            assert sum(r["xero"] for r in mine) == t["xero"] and sum(r["procore"] for r in mine) == t["procore"]


def test_the_page_shows_the_period_with_links_to_the_rows_and_an_empty_period_says_so(planted, finance_client):
    report, period, plants = planted
    client = finance_client
    query = {"from": period.date_from.isoformat(), "to": period.date_to.isoformat()}
    html = client.get("/reconciliation/", query).content.decode()
    assert f"Scope: paid {period.date_from.isoformat()} to {period.date_to.isoformat()}" in html
    link = f"from={query['from']}&amp;to={query['to']}&amp;currency=AUD&amp;status=duplicate"
    assert link in html  # the count of duplicates links to them
    rows = client.get("/reconciliation/", {**query, "currency": "AUD", "status": "duplicate"}).content.decode()
    assert "2 lines match the filters" in rows
    empty = client.get("/reconciliation/", {"from": "2001-01-01", "to": "2001-01-31"}).content.decode()
    assert "No payment in this scope (paid 2001-01-01 to 2001-01-31), on either side." in empty

"""The comparison's matching rules over plain inputs (no database, no HTTP): a payment whose Procore
payment lost its origin id is still found by the id we recorded, unless Procore says it came from
another system; bill totals fill the lines of their bill."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from syncapp.connectors.types import ProcorePayment
from syncapp.reconcile.compare import BILL_PAYMENT, CommitmentKey, CommitmentRead, compare
from syncapp.reconcile.models import LineStatus
from syncapp.sync.models import Payment, PaymentState

DAY = dt.date(2026, 3, 2)
KEY = CommitmentKey(project_id=10, commitment_id=20)


def sent(xero_payment_id: str, procore_payment_id: int) -> Payment:
    return Payment(
        xero_payment_id=xero_payment_id,
        payment_type=BILL_PAYMENT,
        xero_status="AUTHORISED",
        date=DAY,
        amount=Decimal("100.00"),
        currency_code="AUD",
        xero_invoice_id=f"bill-{xero_payment_id}",
        procore_project_id=KEY.project_id,
        procore_commitment_id=KEY.commitment_id,
        procore_payment_id=procore_payment_id,
        state=PaymentState.SENT,
    )


def remote(payment_id: int, origin_id: str) -> ProcorePayment:
    return ProcorePayment(
        id=payment_id, commitment_id=KEY.commitment_id, amount=Decimal("100.00"), date=DAY, origin_id=origin_id
    )


def test_a_payment_is_found_by_its_recorded_procore_id_unless_procore_says_it_is_another_systems():
    ours, theirs = sent("x-1", 501), sent("x-2", 502)
    read = CommitmentRead(key=KEY, payments=[remote(501, ""), remote(502, "other-system")])
    comparison = compare(payments=[ours, theirs], reads=[read], bill_totals={"bill-x-1": Decimal("250.00")})
    by_status = {(line.status, line.xero_payment_id, line.procore_payment_id) for line in comparison.lines}
    assert by_status == {
        (LineStatus.MATCHED, "x-1", 501),
        (LineStatus.MISSING_IN_PROCORE, "x-2", 502),
        (LineStatus.BY_HAND, "", 502),
    }
    assert {line.xero_payment_id: line.bill_total for line in comparison.lines} == {
        "x-1": Decimal("250.00"),
        "x-2": None,
        "": None,
    }

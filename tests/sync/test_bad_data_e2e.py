"""Bad and missing data end to end (issue 8, section 4): a sync over HTTP against the sandbox, where
one payment's Xero answer (or one Procore row) is wrong in some way. The run finishes, the bad
payment ends in a visible state with a reason a person can read, and the good ones are sent
exactly once.

Wrong values the sandbox can store (an unknown PaymentType or Status, a zero or negative amount)
are written into its database. Those it cannot (a missing date, an amount as "abc", a missing
Invoice) are mangled in the sandbox's own answer on the way out: its JSON builder is wrapped for
the chosen PaymentIDs, so the rest of the answer stays exactly what the sandbox says.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncapp.sandbox.procore.models import ContractPayment
from syncapp.sandbox.xero import payloads as xero_payloads
from syncapp.sandbox.xero.factories import make_payment
from syncapp.sandbox.xero.models import Invoice
from syncapp.sandbox.xero.models import Payment as XeroPaymentRow
from syncapp.sync.models import Payment, PaymentState, RunLogLine, RunState
from tests.sync.conftest import procore_duplicates

pytestmark = pytest.mark.django_db(transaction=True)

ABSENT = object()
VISIBLE = (PaymentState.BLOCKED, PaymentState.SKIPPED, PaymentState.FAILED)

# (where in the payment's JSON, the wrong value, what the product must do with that payment)
MANGLINGS: list[tuple[str, object, str]] = [
    ("PaymentType", "BILLPAYMENT", "skipped:not_bill_payment"),  # a type Xero added since
    ("PaymentType", ABSENT, "skipped:not_bill_payment"),
    ("Status", "VOIDED", "blocked:unknown_xero_status"),  # a status Xero added since
    ("Status", None, "blocked:unknown_xero_status"),
    ("Date", ABSENT, "blocked:incomplete"),
    ("Date", None, "blocked:incomplete"),
    ("Date", "not a date", "blocked:incomplete"),
    ("Date", 1709251200000, "blocked:incomplete"),
    ("Date", "/Date(99999999999999999999)/", "blocked:incomplete"),
    ("Amount", ABSENT, "blocked:incomplete"),
    ("Amount", None, "blocked:incomplete"),
    ("Amount", "abc", "blocked:incomplete"),
    ("Amount", True, "blocked:incomplete"),
    ("Amount", {"value": 1}, "blocked:incomplete"),
    ("Amount", 0, "blocked:incomplete"),
    ("Amount", -12.5, "blocked:incomplete"),
    ("Amount", 1e30, "blocked:incomplete"),
    ("Amount", "0.75", "sent:0.75"),  # amounts arrive as strings or numbers, compared as decimals
    ("Amount", 1, "sent:1.00"),
    ("Invoice", ABSENT, "blocked:bill_not_fetched"),
    ("Invoice", None, "blocked:bill_not_fetched"),
    ("Invoice", "INV-1", "blocked:bill_not_fetched"),
    ("Invoice.InvoiceID", 12345, "blocked:bill_not_fetched"),
    ("Invoice.Type", "ACCPAYNEW", "sent"),  # the bill itself says ACCPAY
    ("Invoice.CurrencyCode", "XBT", "sent"),  # the bill's own currency is checked
    ("Invoice.Contact", ["not", "an", "object"], "sent"),  # the bill names its contact
    ("Reference", {"text": "EFT"}, "sent"),
    ("Reference", 4711, "sent"),
    ("IsReconciled", "yes", "sent"),
    ("CurrencyRate", "abc", "sent"),
    ("BankAmount", "abc", "sent"),
    ("UpdatedDateUTC", "yesterday", "sent"),
    ("PaymentID", ABSENT, "left_out"),  # cannot become a payment at all: the run's log says so
    ("PaymentID", 42, "left_out"),
]


class MangledXero:
    """Wraps the sandbox's payment JSON builder: listed PaymentIDs go out with fields changed."""

    def __init__(self, monkeypatch):
        self.changes: dict[str, list[tuple[str, object]]] = {}
        original = xero_payloads.payment_json

        def payment_json(row, **kwargs):
            body = original(row, **kwargs)
            for path, value in self.changes.get(str(row["payment_id"]), []):
                _set(body, path, value)
            return body

        monkeypatch.setattr(xero_payloads, "payment_json", payment_json)

    def change(self, payment_id: str, path: str, value: object) -> None:
        self.changes.setdefault(payment_id, []).append((path, value))


def _set(body: dict, path: str, value: object) -> None:
    *parents, last = path.split(".")
    for name in parents:
        if not isinstance(body.get(name), dict):
            return
        body = body[name]
    if value is ABSENT:
        body.pop(last, None)
    else:
        body[last] = value


@pytest.fixture
def bad_data_world(world, monkeypatch):
    """The seeded world after a first clean sync, with a bill that has room for many more small
    payments (its total raised in the sandbox Xero) and whose payments reach Procore."""
    first = world.run()
    assert first.state == RunState.SUCCEEDED, first.error
    sent = Payment.objects.filter(integration=world.integration, state=PaymentState.SENT).order_by("id")
    bill = Invoice.objects.get(invoice_id=sent.first().xero_invoice_id)
    Invoice.objects.filter(pk=bill.pk).update(
        total=bill.total + 100_000,
        amount_due=bill.amount_due + 100_000,
        status="AUTHORISED",
        updated_at=dt.datetime.now(dt.UTC),
    )
    world.bill = Invoice.objects.get(pk=bill.pk)
    world.mangle = MangledXero(monkeypatch)
    return world


def _new_payment(world, amount: str) -> str:
    return str(make_payment(invoice=world.bill, amount=Decimal(amount), date=dt.date(2024, 3, 1)).payment_id)


def _assert_outcome(world, run, payment_id: str, expected: str, path: str) -> None:
    if expected == "left_out":
        assert not Payment.objects.filter(integration=world.integration, xero_payment_id=payment_id).exists()
        assert RunLogLine.objects.filter(run=run, level="warning", message__contains="without a usable PaymentID")
        assert not ContractPayment.objects.filter(origin_id=payment_id).exists()
        return
    payment = world.payment(payment_id)
    kind, _, detail = expected.partition(":")
    if kind == "sent":
        assert payment.state == PaymentState.SENT, (path, payment.state, payment.message)
        [remote] = ContractPayment.objects.filter(origin_id=payment_id)
        if detail:
            assert remote.amount == Decimal(detail) == payment.amount
        return
    assert payment.state in VISIBLE and payment.state == kind, (path, payment.state, payment.reason_code)
    assert payment.reason_code == detail, (path, payment.reason_code, payment.message)
    assert payment.message, "a person reads why"
    assert not ContractPayment.objects.filter(origin_id=payment_id).exists()


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,  # the same examples on every run: a stable CI
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    manglings=st.lists(st.sampled_from(MANGLINGS), min_size=1, max_size=4, unique_by=lambda m: (m[0], repr(m[1]))),
    good=st.integers(min_value=1, max_value=2),
)
def test_payments_with_bad_data_end_visible_and_the_others_are_sent_once(bad_data_world, manglings, good):
    """Each example is one more sync of the same world: new payments, some of them mangled."""
    world = bad_data_world
    good_ids = [_new_payment(world, f"{n + 1}.10") for n in range(good)]
    bad = []
    for path, value, expected in manglings:
        payment_id = _new_payment(world, "0.40")
        world.mangle.change(payment_id, path, value)
        bad.append((payment_id, expected, path))

    run = world.run()

    assert run.state == RunState.SUCCEEDED, run.error
    for payment_id, expected, path in bad:
        _assert_outcome(world, run, payment_id, expected, path)
    for payment_id in good_ids:
        assert world.payment(payment_id).state == PaymentState.SENT
        assert ContractPayment.objects.filter(origin_id=payment_id).count() == 1
    assert procore_duplicates() == {}


def test_an_unknown_payment_type_and_status_stored_in_xero_do_not_fail_the_run(bad_data_world):
    """Stored in the sandbox's database, outside the spec's enums, as Xero might send tomorrow:
    xero-python alone refuses the whole page (the run failed with "Xero sent data the client
    cannot read" before this change)."""
    world = bad_data_world
    new_type, new_status, zero, negative, good = (_new_payment(world, "2.00") for _ in range(5))
    XeroPaymentRow.objects.filter(payment_id=new_type).update(payment_type="ACCPAYBATCHPAYMENT")
    XeroPaymentRow.objects.filter(payment_id=new_status).update(status="PENDING")
    XeroPaymentRow.objects.filter(payment_id=zero).update(amount=Decimal("0.00"))
    XeroPaymentRow.objects.filter(payment_id=negative).update(amount=Decimal("-2.00"))

    run = world.run()

    assert run.state == RunState.SUCCEEDED, run.error
    assert (world.payment(new_type).state, world.payment(new_type).reason_code) == ("skipped", "not_bill_payment")
    assert "ACCPAYBATCHPAYMENT" in world.payment(new_type).message
    assert (world.payment(new_status).state, world.payment(new_status).reason_code) == (
        "blocked",
        "unknown_xero_status",
    )
    assert "PENDING" in world.payment(new_status).message
    for payment_id in (zero, negative):
        assert (world.payment(payment_id).state, world.payment(payment_id).reason_code) == ("blocked", "incomplete")
    assert world.payment(good).state == PaymentState.SENT
    assert ContractPayment.objects.filter(origin_id=good).count() == 1
    assert procore_duplicates() == {}


def test_a_bill_with_an_unknown_status_blocks_its_payments_and_the_run_goes_on(bad_data_world, monkeypatch):
    world = bad_data_world
    other_bill_payment = (
        Payment.objects.filter(integration=world.integration, state=PaymentState.SENT)
        .exclude(xero_invoice_id=str(world.bill.invoice_id))
        .first()
    )
    odd_bill = Invoice.objects.get(invoice_id=other_bill_payment.xero_invoice_id)
    Invoice.objects.filter(pk=odd_bill.pk).update(
        total=odd_bill.total + 1000, amount_due=odd_bill.amount_due + 1000, updated_at=dt.datetime.now(dt.UTC)
    )
    original = xero_payloads.invoice_json

    def invoice_json(invoice, *args, **kwargs):
        body = original(invoice, *args, **kwargs)
        if body.get("InvoiceID") == str(odd_bill.invoice_id):
            body.update(Status="AWAITINGPAYMENT", Total="abc", CurrencyCode="XBT", LineItems="none")
        return body

    monkeypatch.setattr(xero_payloads, "invoice_json", invoice_json)
    on_odd_bill = str(make_payment(invoice=Invoice.objects.get(pk=odd_bill.pk), amount=Decimal("3.00")).payment_id)
    good = _new_payment(world, "3.00")

    run = world.run()

    assert run.state == RunState.SUCCEEDED, run.error
    blocked = world.payment(on_odd_bill)
    assert (blocked.state, blocked.reason_code) == ("blocked", "bill_not_approved")
    assert "awaitingpayment" in blocked.message.lower()
    assert world.payment(good).state == PaymentState.SENT
    assert procore_duplicates() == {}


def test_a_procore_commitment_row_without_an_id_blocks_only_its_payments(bad_data_world, monkeypatch, settings):
    """Procore's list answer mangled on the way out of the sandbox: the commitment the bill
    resolved to comes without its id, a sibling row is not even an object. (The lists are read in
    full on this run, as on the first run or a run after PROCORE_FULL_READ_HOURS.)"""
    from syncapp.sandbox.procore import payloads as procore_payloads

    settings.PROCORE_FULL_READ_HOURS = 0
    world = bad_data_world
    target = world.payment(
        Payment.objects.filter(integration=world.integration, state=PaymentState.SENT)
        .filter(xero_invoice_id=str(world.bill.invoice_id))
        .first()
        .xero_payment_id
    )
    original = procore_payloads.commitment_json

    def commitment_json(commitment, **kwargs):
        body = original(commitment, **kwargs)
        if commitment.pk == target.procore_commitment_id and not kwargs.get("detail"):
            body["id"] = None
            body["vendor"] = "not an object"
        return body

    monkeypatch.setattr(procore_payloads, "commitment_json", commitment_json)
    on_hidden = _new_payment(world, "4.00")
    elsewhere = (
        Payment.objects.filter(integration=world.integration, state=PaymentState.SENT)
        .exclude(procore_commitment_id=target.procore_commitment_id)
        .first()
    )
    other = str(
        make_payment(
            invoice=Invoice.objects.get(invoice_id=elsewhere.xero_invoice_id), amount=Decimal("0.01")
        ).payment_id
    )
    Invoice.objects.filter(invoice_id=elsewhere.xero_invoice_id).update(
        total=Decimal("999999.00"),
        amount_due=Decimal("999999.00"),
        status="AUTHORISED",
        updated_at=dt.datetime.now(dt.UTC),
    )

    run = world.run()

    assert run.state == RunState.SUCCEEDED, run.error
    hidden = world.payment(on_hidden)
    assert (hidden.state, hidden.reason_code) == (PaymentState.BLOCKED, "invoice_not_found"), hidden.message
    assert not ContractPayment.objects.filter(origin_id=on_hidden).exists()
    assert world.payment(other).state == PaymentState.SENT
    assert procore_duplicates() == {}


def test_rows_xero_sends_without_a_payment_id_are_named_in_the_run_log(bad_data_world):
    world = bad_data_world
    lost = _new_payment(world, "5.00")
    world.mangle.change(lost, "PaymentID", str(uuid.uuid4())[:8])

    run = world.run()

    assert run.state == RunState.SUCCEEDED, run.error
    [line] = RunLogLine.objects.filter(run=run, level="warning", message__contains="PaymentID")
    assert line.message.startswith("Xero sent a payment without a usable PaymentID")

"""The one way a payment changes state (`Payment.objects.transition`) and the one way a line of its
history is written (`PaymentEvent.objects.record`): texts are cut to the columns they go to."""

from __future__ import annotations

import pytest
from django.db.models import F, Q

from syncapp.connections.models import Integration
from syncapp.core.text import fit, fitted
from syncapp.sync.models import Payment, PaymentEvent, PaymentState, RunState, SyncRun
from tests.dashboard.conftest import make_payment


@pytest.fixture
def payment(db) -> Payment:
    return make_payment(Integration.objects.create(name="demo"), 1, state=PaymentState.READY)


def test_a_payment_moves_from_an_allowed_state_and_holds_what_was_written(payment):
    before = payment.updated_at

    moved = Payment.objects.transition(
        payment, from_states=(PaymentState.READY,), to=PaymentState.SENT, procore_payment_id=9001
    )

    assert moved is True
    assert (payment.state, payment.procore_payment_id) == (PaymentState.SENT, 9001)
    assert payment.updated_at > before
    saved = Payment.objects.get(pk=payment.pk)
    assert (saved.state, saved.procore_payment_id, saved.updated_at) == (
        PaymentState.SENT,
        9001,
        payment.updated_at,
    )


def test_a_payment_in_another_state_does_not_move_and_is_left_as_it_was(payment):
    moved = Payment.objects.transition(
        payment, from_states=(PaymentState.FAILED, PaymentState.BLOCKED), to=PaymentState.NEW, message="x"
    )

    assert moved is False
    assert payment.state == PaymentState.READY
    saved = Payment.objects.get(pk=payment.pk)
    assert (saved.state, saved.message) == (PaymentState.READY, "")


def test_a_stale_copy_cannot_move_a_row_someone_else_moved_first(payment):
    stale = Payment.objects.get(pk=payment.pk)
    assert Payment.objects.transition(payment, from_states=(PaymentState.READY,), to=PaymentState.IGNORED)

    assert not Payment.objects.transition(stale, from_states=(PaymentState.READY,), to=PaymentState.SENDING)
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.IGNORED


def test_the_guard_must_hold_too(payment):
    run = SyncRun.objects.create(integration=payment.integration, trigger="button", state=RunState.RUNNING)
    Payment.objects.filter(pk=payment.pk).update(claimed_by_run=run)
    other = SyncRun.objects.create(integration=payment.integration, trigger="button", state=RunState.FAILED)

    refused = Payment.objects.transition(
        payment, from_states=(PaymentState.READY,), to=PaymentState.SENDING, guard=Q(claimed_by_run=other)
    )
    taken = Payment.objects.transition(
        payment, from_states=(PaymentState.READY,), to=PaymentState.SENDING, guard=Q(claimed_by_run=run)
    )

    assert (refused, taken) == (False, True)
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.SENDING


def test_a_field_written_as_an_expression_is_read_back(payment):
    Payment.objects.filter(pk=payment.pk).update(attempts=2)

    Payment.objects.transition(
        payment, from_states=(PaymentState.READY,), to=PaymentState.SENDING, attempts=F("attempts") + 1
    )

    assert payment.attempts == 3


def test_texts_are_cut_to_their_columns_on_a_move(payment):
    Payment.objects.transition(
        payment,
        from_states=(PaymentState.READY,),
        to=PaymentState.FAILED,
        message="m" * 600,
        fix="f" * 600,
        last_error="e" * 1200,
    )

    saved = Payment.objects.get(pk=payment.pk)
    assert (len(saved.message), len(saved.fix), len(saved.last_error)) == (500, 500, 1000)
    assert payment.message == saved.message


def test_an_event_is_recorded_with_each_text_cut_at_its_field_max_length(payment):
    run = SyncRun.objects.create(integration=payment.integration, trigger="button")

    event = PaymentEvent.objects.record(payment, "k" * 40, "word " * 300, run=run)

    saved = PaymentEvent.objects.get(pk=event.pk)
    assert len(saved.kind) == PaymentEvent._meta.get_field("kind").max_length == 30
    assert len(saved.message) == PaymentEvent._meta.get_field("message").max_length == 1000
    assert (saved.payment_id, saved.run_id, saved.actor_id) == (payment.pk, run.pk, None)


def test_a_built_event_is_cut_the_same_and_not_saved(payment):
    event = PaymentEvent.objects.build(payment, "fetched", "x" * 2000)

    assert event.pk is None
    assert len(event.message) == 1000


def test_fit_cuts_only_what_is_too_long_and_leaves_other_values_alone():
    assert fit(Payment, "currency_code", "AUDX") == "AUD"
    assert fit(Payment, "currency_code", "NZ") == "NZ"
    assert fitted(Payment, reference="r" * 300, amount=5, xero_invoice_id=None) == {
        "reference": "r" * 255,
        "amount": 5,
        "xero_invoice_id": None,
    }

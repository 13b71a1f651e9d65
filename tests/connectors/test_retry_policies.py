"""How many requests a failing call costs, per kind of call (connectors.retries), counted on an
httpx.MockTransport: one policy in the client, none on top of it in the engine."""

from __future__ import annotations

import time
from types import SimpleNamespace

import httpx
import pytest

from syncapp.connectors import retries
from syncapp.connectors.types import RateLimited, TransientError
from syncapp.sync import send
from tests.connectors.mock_procore import PAYMENT, MockProcore


def overloaded() -> httpx.Response:
    return httpx.Response(503, headers={"Retry-After": "1"}, json={"errors": "busy"})


def server_error() -> httpx.Response:
    return httpx.Response(500, json={"errors": "oops"})


def rate_limited() -> httpx.Response:
    return httpx.Response(429, headers={"X-Rate-Limit-Reset": str(int(time.time()) + 2)}, json={})




def test_a_read_that_keeps_answering_503_costs_four_requests_even_through_the_engine():
    """Before one policy, the engine retried the client's nine 503 answers six times: 54 requests."""
    procore = MockProcore(overloaded)
    index = SimpleNamespace(
        payments_on=lambda **ids: {p.origin_id: p for p in procore.client.commitment(2, project_id=1)[1]}
    )
    payment = SimpleNamespace(procore_project_id=1, procore_commitment_id=2, xero_payment_id="xero-payment")
    with pytest.raises(RateLimited):  # the run pauses until Procore is back; no payment fails
        send._read_existing(index, payment)
    assert len(procore.requests) == retries.FAILURE_TRIES == 4


def test_a_read_that_keeps_answering_500_costs_four_requests_with_growing_waits():
    """Before: 24 requests (the client's four, six times over)."""
    procore = MockProcore(server_error)
    with pytest.raises(TransientError) as failed:
        procore.client.projects()
    assert len(procore.requests) == 4
    assert failed.value.ambiguous is False and failed.value.status == 500
    assert len(procore.sleeps) == 3 and procore.sleeps == sorted(procore.sleeps)  # backing off: 0.25-0.5 s, then more


def test_a_payment_post_answered_500_is_sent_once_and_reported_ambiguous():
    procore = MockProcore(server_error)
    with pytest.raises(TransientError) as unsure:
        procore.client.create_contract_payment(PAYMENT)
    assert len(procore.requests) == 1
    assert unsure.value.ambiguous is True


def test_a_payment_post_without_an_answer_is_sent_once():
    procore = MockProcore(httpx.ReadTimeout("no answer"))
    with pytest.raises(TransientError) as unsure:
        procore.client.create_contract_payment(PAYMENT)
    assert len(procore.requests) == 1
    assert unsure.value.ambiguous is True and unsure.value.status is None


def test_a_payment_post_that_never_left_is_tried_four_times():
    procore = MockProcore(httpx.ConnectError("refused"))
    with pytest.raises(TransientError) as refused:
        procore.client.create_contract_payment(PAYMENT)
    assert len(procore.requests) == 4
    assert refused.value.ambiguous is False


def test_a_payment_post_met_by_503_ends_as_procore_overloaded_as_a_read_does():
    """Procore did not take it: the engine sets the payment aside and the run pauses."""
    procore = MockProcore(overloaded)
    with pytest.raises(RateLimited) as overloaded_error:
        procore.client.create_contract_payment(PAYMENT)
    assert len(procore.requests) == 4
    assert overloaded_error.value.status == 503 and "overloaded" in overloaded_error.value.message


def test_a_delete_answered_502_is_tried_four_times():
    procore = MockProcore(lambda: httpx.Response(502, json={}))
    with pytest.raises(TransientError) as failed:
        procore.client.delete_contract_payment(7, project_id=1, commitment_id=2)
    assert len(procore.requests) == 4
    assert failed.value.ambiguous is False and "may have been applied" not in failed.value.message


def test_a_vendor_create_that_never_gets_an_answer_is_tried_four_times_and_not_called_unsure():
    """Sent again freely (a vendor is found by its origin id), so a last failure is a plain one."""
    procore = MockProcore(httpx.ReadTimeout("no answer"))
    with pytest.raises(TransientError) as failed:
        procore.client.create_vendor(name="Acme Plumbing", origin_id="xero-contact-1")
    assert len(procore.requests) == 4
    assert failed.value.ambiguous is False
    assert failed.value.message == "Procore did not answer POST /rest/v1.0/vendors (ReadTimeout)."


def test_429s_are_waited_out_eight_times_then_the_caller_pauses():
    procore = MockProcore(rate_limited)
    procore.client.pacer._sleep = procore.sleeps.append  # the pacer sleeps until each reset
    with pytest.raises(RateLimited):
        procore.client.projects()
    assert len(procore.requests) == retries.RATE_LIMIT_WAITS + 1 == 9
    assert procore.client.counter.throttled == 9


def test_a_web_request_never_waits_for_a_429():
    procore = MockProcore(rate_limited)
    procore.client._max_wait = 0.0
    with pytest.raises(RateLimited):
        procore.client.projects()
    assert len(procore.requests) == 1 and procore.sleeps == []


def test_procore_overloaded_past_the_waits_is_the_connections_error_a_spent_rate_limit_is_not():
    overloaded_procore, limited_procore = MockProcore(overloaded), MockProcore(rate_limited)
    limited_procore.client.pacer._sleep = limited_procore.sleeps.append
    for procore in (overloaded_procore, limited_procore):
        with pytest.raises(RateLimited):
            procore.client.projects()

    [error] = overloaded_procore.health.errors
    assert error.startswith("Procore is overloaded")
    assert limited_procore.health.errors == [] and limited_procore.health.oks == 0

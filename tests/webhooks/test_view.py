"""POST /webhooks/xero/: Xero's rules for the endpoint (developer.xero.com/documentation/webhooks/
configuring-your-server): 200 for a correctly signed payload, 401 for any other, no body, no
cookies; it stores and queues, nothing more."""

from __future__ import annotations

import pytest
from django.test import Client
from django_q.models import OrmQ

from syncapp.sync.models import SyncRun
from syncapp.webhooks.models import XeroWebhookEvent
from tests.webhooks.conftest import URL, delivery, invoice_event, post, signed

BILL = "717f2bfc-c6d4-41fd-b238-3f2f0c0cf777"
# The intent-to-receive payload, as the docs print it.
INTENT_TO_RECEIVE = b'{"events": [], "lastEventSequence": 0, "firstEventSequence": 0, "entropy": "S0m3r4Nd0mt3xt"}'


@pytest.mark.django_db
def test_a_correctly_signed_intent_to_receive_payload_gets_200_with_no_body_and_no_cookies(webhook_key):
    client = Client(enforce_csrf_checks=True)  # anonymous, and no CSRF token: Xero has neither
    response = post(client, INTENT_TO_RECEIVE)
    assert response.status_code == 200
    assert response.content == b""
    assert not response.cookies
    assert not XeroWebhookEvent.objects.exists() and not OrmQ.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(signed(INTENT_TO_RECEIVE, "another-app's-key"), id="other key"),
        pytest.param(signed(INTENT_TO_RECEIVE + b" "), id="other body"),
        pytest.param(signed(INTENT_TO_RECEIVE).lower(), id="changed case"),
        pytest.param("", id="no header"),
    ],
)
def test_an_incorrectly_signed_payload_gets_401_with_no_body(webhook_key, client, signature):
    response = post(client, INTENT_TO_RECEIVE, signature=signature)
    assert response.status_code == 401
    assert response.content == b""


@pytest.mark.django_db
def test_an_event_signed_with_another_key_is_not_stored(webhook_key, integration, client):
    body = delivery(invoice_event(BILL))
    assert post(client, body, signature=signed(body, "guessed")).status_code == 401
    assert not XeroWebhookEvent.objects.exists()


@pytest.mark.django_db
def test_without_a_webhook_key_every_delivery_is_refused(settings, client):
    settings.XERO_WEBHOOK_KEY = ""
    assert post(client, INTENT_TO_RECEIVE, signature=signed(INTENT_TO_RECEIVE, "")).status_code == 401


@pytest.mark.django_db
def test_only_post_is_answered(webhook_key, client):
    assert client.get(URL).status_code == 405


@pytest.mark.django_db
def test_an_invoice_event_is_stored_and_handed_to_a_task_without_calling_xero_or_procore(
    webhook_key, integration, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, delivery(invoice_event(BILL.upper())))
    assert response.status_code == 200 and response.content == b""
    [event] = XeroWebhookEvent.objects.all()
    assert (event.integration, event.resource_id, event.event_type) == (integration, BILL, "UPDATE")
    assert event.event_date.isoformat() == "2024-06-21T01:15:39.902000+00:00"
    assert event.consumed_at is None
    [task] = OrmQ.objects.all()
    assert task.task["func"] == "syncapp.webhooks.tasks.dispatch" and task.task["args"] == (integration.pk,)
    assert not SyncRun.objects.exists()  # the run is the task's business, after the answer


@pytest.mark.django_db
def test_the_same_delivery_twice_keeps_one_event(webhook_key, integration, client, django_capture_on_commit_callbacks):
    body = delivery(invoice_event(BILL))
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, body).status_code == 200
        assert post(client, body).status_code == 200  # Xero retries a delivery it thinks failed
    assert XeroWebhookEvent.objects.count() == 1
    assert OrmQ.objects.count() == 1


@pytest.mark.django_db
def test_a_burst_of_deliveries_queues_one_task(webhook_key, integration, client, django_capture_on_commit_callbacks):
    bills = [f"00000000-0000-4000-8000-00000000000{n}" for n in range(5)]
    with django_capture_on_commit_callbacks(execute=True):
        for n, bill in enumerate(bills):
            assert post(client, delivery(invoice_event(bill), sequence=n + 1)).status_code == 200
    assert XeroWebhookEvent.objects.count() == 5
    assert OrmQ.objects.count() == 1


@pytest.mark.django_db
def test_contact_events_and_other_organisations_are_answered_but_not_kept(
    webhook_key, integration, client, django_capture_on_commit_callbacks
):
    body = delivery(
        invoice_event(BILL, category="CONTACT"),
        invoice_event(BILL, tenant="aef86862-2015-4b6b-88bc-d89032cecc50"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, body).status_code == 200
    assert not XeroWebhookEvent.objects.exists() and not OrmQ.objects.exists()


@pytest.mark.django_db
def test_a_signed_body_that_is_no_payload_is_acknowledged(webhook_key, integration, client):
    # Xero asks for 200 for every correctly signed payload; there is nothing in it to keep.
    assert post(client, b"not json").status_code == 200
    assert post(client, b'{"events": [{"resourceId": 1}]}').status_code == 200
    assert not XeroWebhookEvent.objects.exists()


def test_the_signature_is_that_of_the_docs_formula():
    # The tests sign with their own code; this pins it to a value computed independently
    # (printf '%s' '{}' | openssl dgst -sha256 -hmac KEY -binary | base64).
    assert signed(b"{}", "key") == "p3dyTZQ+tI3Gm8qKSm1XoE2z+ex+HeTlgehgJlvfMDI="

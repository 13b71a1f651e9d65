"""The sandbox Xero's deliveries: the spec's WebhookEvent, signed as the docs say, sent after a
payment on a bill is saved, and only when switched on."""

from __future__ import annotations

import json
from decimal import Decimal

import jsonschema
import pytest

from syncapp.sandbox.xero import webhooks as sandbox_webhooks
from syncapp.sandbox.xero.factories import make_payment, make_world
from tests.specs import xero_document
from tests.webhooks.conftest import KEY, signed

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, bytes]]:
    deliveries: list[tuple[str, bytes]] = []
    monkeypatch.setattr(sandbox_webhooks, "_deliver_in_background", lambda url, body: deliveries.append((url, body)))
    return deliveries


def test_a_delivery_is_a_webhook_event_of_the_spec_signed_with_the_webhook_key(settings):
    settings.XERO_WEBHOOK_KEY = KEY
    world = make_world()
    body = sandbox_webhooks.delivery_body(world.payments[0])

    payload = json.loads(body)
    schema = xero_document("xero-webhooks.yaml")["components"]["schemas"]["WebhookEvent"]
    jsonschema.validate(payload, schema)
    assert set(payload) <= set(schema["properties"])
    [event] = payload["events"]
    assert set(event) <= set(schema["properties"]["events"]["items"]["properties"])
    assert (event["eventCategory"], event["eventType"], event["tenantType"]) == ("INVOICE", "UPDATE", "ORGANISATION")
    assert event["resourceId"] == str(world.bill.invoice_id)
    assert event["tenantId"] == str(world.organisation.tenant_id)
    assert sandbox_webhooks.sign(body) == signed(body, KEY)


def test_adding_a_payment_to_a_bill_sends_one_delivery_after_the_commit(
    settings, sent, django_capture_on_commit_callbacks
):
    settings.XERO_WEBHOOK_KEY = KEY
    with django_capture_on_commit_callbacks(execute=True):
        world = make_world()  # its two payments, while switched off: nothing sent
    assert sent == []
    settings.SANDBOX_XERO_WEBHOOK_URL = "http://127.0.0.1:8000/webhooks/xero/"

    with django_capture_on_commit_callbacks() as callbacks:
        make_payment(invoice=world.bill, amount=Decimal("100.00"))
        assert sent == []  # not before the payment is committed
    for callback in callbacks:
        callback()

    [(url, body)] = sent
    assert url == "http://127.0.0.1:8000/webhooks/xero/"
    assert json.loads(body)["events"][0]["resourceId"] == str(world.bill.invoice_id)

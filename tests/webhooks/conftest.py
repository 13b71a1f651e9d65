"""Signed Xero deliveries, written here from Xero's documented shape and formula (never with the
product's own signing code), and an integration whose Xero connection is the delivering tenant."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from syncapp.connections.models import Connection, Integration
from tests.sync.conftest import fast_retries, world  # noqa: F401  (fixtures of the end-to-end tests)

KEY = "test-webhook-key-from-the-developer-portal"
TENANT = "c2cc9b6e-9458-4c7d-93cc-f02b81b0594f"
URL = "/webhooks/xero/"


def signed(body: bytes, key: str = KEY) -> str:
    """base64(HMAC-SHA256(body, key)): developer.xero.com/documentation/webhooks/configuring-your-server."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def invoice_event(
    invoice_id: str,
    *,
    tenant: str = TENANT,
    date: str = "2024-06-21T01:15:39.902",
    event_type: str = "UPDATE",
    category: str = "INVOICE",
) -> dict:
    """One event as the WebhookEvent schema (tests/specs/xero/xero-webhooks.yaml) writes it."""
    return {
        "resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{invoice_id}",
        "resourceId": invoice_id,
        "eventDateUtc": date,
        "eventType": event_type,
        "eventCategory": category,
        "tenantId": tenant,
        "tenantType": "ORGANISATION",
    }


def delivery(*events: dict, sequence: int = 1) -> bytes:
    payload = {
        "events": list(events),
        "firstEventSequence": sequence,
        "lastEventSequence": sequence + max(len(events) - 1, 0),
        "entropy": "S0m3r4Nd0mt3xt",
    }
    return json.dumps(payload).encode()


def post(client, body: bytes, *, signature: str | None = None):
    headers = {} if signature == "" else {"HTTP_X_XERO_SIGNATURE": signature or signed(body)}
    return client.post(URL, data=body, content_type="application/json", **headers)


@pytest.fixture
def webhook_key(settings) -> str:
    settings.XERO_WEBHOOK_KEY = KEY
    settings.WEBHOOK_DEBOUNCE_SECONDS = 0
    return KEY


@pytest.fixture
def integration(db) -> Integration:
    """Connected on both sides (rows only: nothing here calls Xero or Procore)."""
    integration = Integration.objects.create(name="northwind")
    Connection.objects.create(integration=integration, provider="xero", tenant_id=TENANT)
    Connection.objects.create(integration=integration, provider="procore", tenant_id="562949953421312")
    return integration

"""The sandbox Xero's webhook deliveries: a signed INVOICE UPDATE event when a bill's payments change.

Sources: https://developer.xero.com/documentation/webhooks/overview ("When one of these events
are triggered we'll send a HTTP POST payload to the webhook's configured URL"; Invoice UPDATE is
"An existing invoice has been updated"; the payload: `events` with `resourceUrl`, `resourceId`,
`eventDateUtc`, `eventType`, `eventCategory`, `tenantId`, `tenantType`, then
`firstEventSequence`, `lastEventSequence`, `entropy`), the WebhookEvent schema of
tests/specs/xero/xero-webhooks.yaml, and https://developer.xero.com/documentation/webhooks/
configuring-your-server (each delivery carries `x-xero-signature`, the base64 HMAC-SHA256 of the
body keyed with the app's webhook key; the receiver has 5 seconds to answer).

What the docs leave open, and what the sandbox does:
- Which changes of an invoice make an UPDATE event: adding (or deleting) a payment changes the
  bill's AmountPaid, AmountDue, Status and UpdatedDateUTC, so it sends one for the bill. Nothing
  else sends events (a created bill, a contact).
- Batching: Xero gathers events into deliveries of its own choosing; the sandbox sends each event
  in its own delivery, right after the change commits, once (no retries).

Switch: SANDBOX_XERO_WEBHOOK_URL (a Django setting of that name, else the environment), the URL
deliveries go to, e.g. http://127.0.0.1:8000/webhooks/xero/; empty (the default): none are sent.
The webhook key is the product's XERO_WEBHOOK_KEY, as the developer portal shows one key per app.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import itertools
import json
import logging
import secrets
import string
import threading

import httpx
from django.conf import settings
from django.db import transaction

from syncapp.sandbox.conf import SandboxConf
from syncapp.sandbox.xero.models import Payment

logger = logging.getLogger(__name__)

DELIVERY_TIMEOUT = 5.0  # Xero's own bound on the receiver's answer
_sequence = itertools.count(1)
_sequence_lock = threading.Lock()
_deliveries: list[threading.Thread] = []


def webhook_url() -> str:
    return SandboxConf.SANDBOX_XERO_WEBHOOK_URL


def payment_saved(sender, instance: Payment, created: bool = False, raw: bool = False, **kwargs) -> None:
    """post_save of a sandbox payment: the bill it is on changed, so Xero would tell the app."""
    url = webhook_url()
    if raw or not url or instance.invoice_id is None:
        return
    body = delivery_body(instance)
    transaction.on_commit(lambda: _deliver_in_background(url, body))


def delivery_body(payment: Payment) -> bytes:
    invoice = payment.invoice
    with _sequence_lock:
        sequence = next(_sequence)
    event = {
        "resourceUrl": f"{settings.SITE_URL}/sandbox/xero/api.xro/2.0/Invoices/{invoice.invoice_id}",
        "resourceId": str(invoice.invoice_id),
        # UTC without an offset, to the millisecond, as in the docs' examples.
        "eventDateUtc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
        "eventType": "UPDATE",
        "eventCategory": "INVOICE",
        "tenantId": str(invoice.organisation.tenant_id),
        "tenantType": "ORGANISATION",
    }
    payload = {
        "events": [event],
        "firstEventSequence": sequence,
        "lastEventSequence": sequence,
        "entropy": "".join(secrets.choice(string.ascii_uppercase) for _ in range(20)),
    }
    return json.dumps(payload).encode()


def sign(body: bytes) -> str:
    # Computed here, not borrowed from the product: the sandbox is the witness of its check.
    digest = hmac.new(settings.XERO_WEBHOOK_KEY.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _deliver_in_background(url: str, body: bytes) -> None:
    # Off the thread that made the change: a slow receiver must not hold a sandbox request or a
    # seeding command (nor deadlock a single-threaded server posting to itself). Not a daemon: a
    # command that exits right after (sandbox_seed --add-payments) still delivers first.
    thread = threading.Thread(target=deliver, args=(url, body), name="sandbox-xero-webhook")
    _deliveries.append(thread)
    thread.start()


def deliver(url: str, body: bytes) -> int | None:
    """POST one delivery, signed; returns the receiver's status (None when it did not answer)."""
    headers = {"Content-Type": "application/json", "x-xero-signature": sign(body)}
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=DELIVERY_TIMEOUT)
    except httpx.HTTPError as error:
        logger.warning("sandbox Xero webhook to %s not delivered: %s", url, type(error).__name__)
        return None
    if response.status_code != 200:
        logger.warning("sandbox Xero webhook to %s answered %s", url, response.status_code)
    return response.status_code


def wait_for_deliveries(timeout: float = 10.0) -> None:
    """Until the deliveries started so far are answered (for tests and benchmarks)."""
    while _deliveries:
        _deliveries.pop().join(timeout)

"""Xero's webhook deliveries: the signature check and the payload as typed events.

Sources: https://developer.xero.com/documentation/webhooks/overview (the payload: `events`,
`firstEventSequence`, `lastEventSequence`, `entropy`; each event's `resourceUrl`, `resourceId`,
`eventDateUtc`, `eventType`, `eventCategory`, `tenantId`, `tenantType`), the WebhookEvent schema of
tests/specs/xero/xero-webhooks.yaml, and https://developer.xero.com/documentation/webhooks/
configuring-your-server (the `x-xero-signature` header is the base64 HMAC-SHA256 of the raw body
keyed with the app's webhook key; "Intent to receive": 200 for every correctly signed payload,
401 for every other one, within 5 seconds, with no body and no cookies).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass

from django.utils.dateparse import parse_datetime

INVOICE = "INVOICE"


def signature(body: bytes, key: str) -> str:
    """The `x-xero-signature` Xero sends with `body` (also what the sandbox signs with)."""
    digest = hmac.new(key.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_by(body: bytes, header: str, key: str) -> bool:
    """Whether `header` is the signature of the raw `body` under `key` (compared in constant time).
    Without a key nothing is accepted: webhooks are off."""
    if not key or not header:
        return False
    return hmac.compare_digest(signature(body, key).encode(), header.strip().encode())


@dataclass(frozen=True)
class XeroEvent:
    tenant_id: str
    resource_id: str
    category: str  # CONTACT | INVOICE | CREDITNOTE | SUBSCRIPTION
    event_type: str  # CREATE | UPDATE
    date: dt.datetime  # eventDateUtc, aware (UTC)


def events(body: bytes) -> list[XeroEvent]:
    """The readable events of a delivery; an event without its ids or date is left out (it cannot
    be acted on), and a body that is no JSON object has none."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return []
    rows = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(rows, list):
        return []
    read = [_event(row) for row in rows if isinstance(row, dict)]
    return [event for event in read if event is not None]


def _event(row: dict) -> XeroEvent | None:
    tenant_id, resource_id = _text(row.get("tenantId")), _text(row.get("resourceId"))
    date = _utc(row.get("eventDateUtc"))
    if not (tenant_id and resource_id and date):
        return None
    return XeroEvent(
        tenant_id=tenant_id.lower(),
        resource_id=resource_id.lower(),
        category=_text(row.get("eventCategory")).upper(),
        event_type=_text(row.get("eventType")).upper(),
        date=date,
    )


def _text(value: object) -> str:
    return value.strip()[:64] if isinstance(value, str) else ""


def _utc(value: object) -> dt.datetime | None:
    """eventDateUtc is UTC, written without an offset (e.g. 2024-06-21T01:15:39.902)."""
    if not isinstance(value, str):
        return None
    try:
        moment = parse_datetime(value.strip())
    except ValueError:
        return None
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)

"""Faults on demand, shared by the simulated Xero and Procore: added latency, random 5xx and 429,
and three Procore switches kept outside the `Behaviour` table (no migration): a 422 of a chosen
body shape on the payment create, the service-account rule of Multiple Procore Regions, and what
`filters[vendor_id]` on the project list means.

Each API view calls `injected_fault(service)` first; a returned response is sent instead of the
real answer. What each service's 429 looks like (headers) is the caller's business: it passes a
`throttled` function that builds it.

The switches and their defaults are in sandbox.conf (read per request from a Django setting of
the same name, else from the environment).
"""

import random
import time
from collections.abc import Callable

from django.http import HttpResponse, JsonResponse

from syncapp.sandbox.conf import SandboxConf
from syncapp.sandbox.models import Behaviour
from syncapp.sandbox.procore.filters import VENDOR_FILTER_MODES

_random = random.Random()


def behaviour(service: str) -> Behaviour:
    """The switches in force for this request (one small query, so changes apply at once)."""
    return Behaviour.get(service)


def chance(rate: float) -> bool:
    return rate > 0 and _random.random() < rate


def injected_fault(current: Behaviour, throttled: Callable[[], HttpResponse]) -> HttpResponse | None:
    """Sleep the added latency, then maybe answer a 5xx or a 429 in place of the real answer."""
    if current.latency_ms:
        time.sleep(current.latency_ms / 1000)
    if chance(current.error_rate):
        status = _random.choice([500, 502, 503])
        response = JsonResponse({"errors": "Simulated server error"}, status=status)
        if status == 503:
            response["Retry-After"] = "1"
        return response
    if chance(current.throttle_rate):
        return throttled()
    if chance(slow_answer_rate()):
        # Processed for real once the wait is over: a request the client gave up on still lands.
        time.sleep(current.hang_seconds)
    return None


# --- Both services: a share of requests processed only after the client's timeout ---------------

SLOW_ANSWER_SWITCH = "SANDBOX_SLOW_ANSWER_RATE"
# Why a switch of its own: `latency_ms` slows every answer alike (set past the client's timeout,
# nothing works at all), and commit_then_fail="timeout" delays only the answer to a create that
# is already committed. What neither gives is a request that waits (a busy server, a queue in
# front of it) past the client's timeout and is then carried out anyway, the create included:
# the client must treat it as "maybe applied" (RFC 9110 section 9.2.2: a client cannot tell
# whether a request that got no answer was applied). The torture suite
# (tests/torture/test_torture.py) turns it on; off by default. A share 0..1 of API calls, each
# held for Behaviour.hang_seconds before it is processed.


def slow_answer_rate() -> float:
    text = SandboxConf.SANDBOX_SLOW_ANSWER_RATE
    if not text:
        return 0.0
    value = float(text)
    if not 0 <= value <= 1:
        raise ValueError(f"{SLOW_ANSWER_SWITCH} is a share between 0 and 1")
    return value


# --- Procore: a 422 on POST /rest/v1.0/contract_payments, in each documented body shape ----------

PAYMENT_422_SWITCH = "SANDBOX_PROCORE_PAYMENT_422"
# Procore answers business-rule refusals with 422 (developers.procore.com, Error Code Reference:
# "invalid status transitions, required dependent records missing"; RestV10ContractPaymentsPost
# lists 422). Its bodies come in several shapes: `{"errors": ...}` as text, list or per-field map
# (the Rails answers of the REST v1 tools, e.g. tutorials/using_sync_actions.md), and
# `{"error": {"code", "message", "details": [{"reason_code", "message"}]}}` (the newer services,
# document_management_technical_guide.md "Error Reference"). The messages are this sandbox's own.
PAYMENT_422_BODIES: dict[str, dict] = {
    "text": {"errors": "Payments cannot be added to a commitment that is not approved"},
    "list": {"errors": ["Amount exceeds the remaining balance of the commitment", "Date is before the contract date"]},
    "map": {"errors": {"amount": ["exceeds the remaining balance of the commitment"], "date": ["is not a valid date"]}},
    "error": {
        "error": {
            "code": "VALIDATION_ERROR",
            "message": "Validation errors detected",
            "details": [
                {"reason_code": "INVALID_PROPERTY", "message": "invoice_date must not be after the payment date"}
            ],
        }
    },
}


def payment_rejection() -> JsonResponse | None:
    """The 422 the switch asks for ("text", "list", "map" or "error"), or None when it is off."""
    shape = SandboxConf.SANDBOX_PROCORE_PAYMENT_422.lower()
    if not shape or shape in ("0", "off", "false"):
        return None
    body = PAYMENT_422_BODIES.get(shape)
    if body is None:
        raise ValueError(f"{PAYMENT_422_SWITCH} must be one of {', '.join(PAYMENT_422_BODIES)} (or empty)")
    return JsonResponse(body, status=422)


# --- Procore: Procore-Company-Id on /me and /companies for service accounts ----------------------


def service_accounts_need_company_header() -> bool:
    """oauth/oauth_client_credentials.md, "Using Developer Managed Service Accounts with MPR": a
    service account "must include the Procore-Company-Id request header when making calls to the
    /rest/v1.0/me or /rest/v1.0/companies endpoints" in Multiple Procore Regions; outside them the
    operations' own notes say neither needs it. Whether a company is in such a region is the
    company's, not ours: a switch, off by default (existing connections keep working), on in the
    tests of that rule."""
    return SandboxConf.SANDBOX_PROCORE_SERVICE_ACCOUNT_COMPANY_HEADER.lower() in ("1", "on", "true", "yes")


# --- Procore: what filters[vendor_id] on GET /rest/v1.0/projects means ---------------------------

PROJECTS_VENDOR_FILTER_SWITCH = "SANDBOX_PROCORE_PROJECTS_VENDOR_FILTER"


def projects_vendor_filter() -> str:
    """RestV10ProjectsGet documents `filters[vendor_id]` only as "Return item(s) with the specified
    Vendor ID"; what it does in the real API is unverified (see procore.filters). "commitments"
    (the default: projects where the vendor holds a non-deleted commitment), "ignored" (the filter
    is not applied) or "none" (no project for any vendor)."""
    mode = SandboxConf.SANDBOX_PROCORE_PROJECTS_VENDOR_FILTER.lower()
    if mode not in VENDOR_FILTER_MODES:
        raise ValueError(f"{PROJECTS_VENDOR_FILTER_SWITCH} must be one of {', '.join(VENDOR_FILTER_MODES)} (or empty)")
    return mode

"""Faults on demand, shared by the simulated Xero and Procore: added latency, random 5xx and 429.

Each API view calls `injected_fault(service)` first; a returned response is sent instead of the
real answer. What each service's 429 looks like (headers) is the caller's business: it passes a
`throttled` function that builds it.
"""

import random
import time
from collections.abc import Callable

from django.http import HttpResponse, JsonResponse

from syncapp.sandbox.models import Behaviour

_random = random.Random()


def behaviour(service: str) -> Behaviour:
    """The switches in force for this request (one small query, so changes apply at once)."""
    return Behaviour.get(service)


def chance(rate: float) -> bool:
    return rate > 0 and _random.random() < rate


def injected_fault(
    current: Behaviour, throttled: Callable[[], HttpResponse]
) -> HttpResponse | None:
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
    return None

"""Opening the Xero and Procore clients of an integration (its two connections' tokens)."""

from __future__ import annotations

import time
from collections.abc import Callable

from syncapp.connections.models import Integration
from syncapp.connectors.types import CallCounter, NeedsReconnect


def open_clients(
    integration: Integration,
    *,
    xero_counter: CallCounter,
    procore_counter: CallCounter,
    sleep: Callable[[float], None] = time.sleep,
):
    """(XeroClient, ProcoreClient) for the integration, or NeedsReconnect saying what is missing.
    `sleep` is how the clients wait (a run passes one that keeps its heartbeat going)."""
    from syncapp.connections.services import connection_problem, get_connection
    from syncapp.connections.tokens import ConnectionTokens
    from syncapp.connectors.procore import ProcoreClient
    from syncapp.connectors.xero import XeroClient

    problem = connection_problem(integration)
    if problem:
        raise NeedsReconnect(problem)
    xero_connection = get_connection(integration=integration, provider="xero")
    procore_connection = get_connection(integration=integration, provider="procore")
    xero = XeroClient(
        tokens=ConnectionTokens(xero_connection), tenant_id=xero_connection.tenant_id, counter=xero_counter, sleep=sleep
    )
    procore = ProcoreClient(
        tokens=ConnectionTokens(procore_connection),
        company_id=int(procore_connection.tenant_id),
        counter=procore_counter,
        sleep=sleep,
    )
    return xero, procore

"""The one factory of API clients: a run's Xero and Procore clients (they wait out short rate-limit
windows, through the run's heartbeat-keeping sleep), and the Xero and Procore clients of a web
request (they never wait on a limit: a spent one is answered at once, "Procore's rate limit is
spent until HH:MM").
Every client reports its calls to its connection's health (last success, last error)."""

from __future__ import annotations

import time
from collections.abc import Callable

from syncapp.connections.health import ConnectionHealth
from syncapp.connections.models import Connection, Integration, Provider
from syncapp.connections.services import connection_problem, get_connection
from syncapp.connections.tokens import ConnectionTokens
from syncapp.connectors.pacing import MAX_WAIT_SECONDS
from syncapp.connectors.procore import ProcoreClient
from syncapp.connectors.protocols import ProcoreApi, XeroApi
from syncapp.connectors.types import CallCounter, NeedsReconnect
from syncapp.connectors.xero import XeroClient

# A web request holds a browser and a server thread: it sleeps on no rate limit at all.
INTERACTIVE_MAX_WAIT = 0.0


def open_clients(
    integration: Integration,
    *,
    xero_counter: CallCounter,
    procore_counter: CallCounter,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[XeroApi, ProcoreApi]:
    """(XeroClient, ProcoreClient) for the integration, or NeedsReconnect saying what is missing.
    `sleep` is how the clients wait (a run passes one that keeps its heartbeat going)."""
    problem = connection_problem(integration)
    if problem:
        raise NeedsReconnect(problem)
    xero_connection = get_connection(integration=integration, provider="xero")
    procore_connection = get_connection(integration=integration, provider="procore")
    xero = xero_client(xero_connection, counter=xero_counter, sleep=sleep)
    procore = procore_client(procore_connection, counter=procore_counter, sleep=sleep)
    return xero, procore


def xero_client(
    connection: Connection,
    *,
    counter: CallCounter | None = None,
    sleep: Callable[[float], None] | None = None,
    max_wait: float = MAX_WAIT_SECONDS,
) -> XeroApi:
    """The Xero client of a connected Xero connection (close it after use, as `procore_client`'s)."""
    return XeroClient(
        tokens=ConnectionTokens(connection),
        tenant_id=connection.tenant_id,
        counter=counter,
        sleep=sleep or time.sleep,  # looked up now: a test can watch a web request's sleeps
        max_wait=max_wait,
        health=ConnectionHealth(connection),
    )


def procore_client(
    connection: Connection,
    *,
    counter: CallCounter | None = None,
    sleep: Callable[[float], None] | None = None,
    max_wait: float = MAX_WAIT_SECONDS,
) -> ProcoreApi:
    """The Procore client of a connected Procore connection (close it after use: its last calls'
    outcomes are written to the connection's health then)."""
    return ProcoreClient(
        tokens=ConnectionTokens(connection),
        company_id=int(connection.tenant_id),
        counter=counter,
        sleep=sleep or time.sleep,  # looked up now: a test can watch a web request's sleeps
        max_wait=max_wait,
        health=ConnectionHealth(connection),
    )


def interactive_procore_client(connection: Connection) -> ProcoreApi:
    """For a web request (Mappings pickers, vendor creation, the connection test): a call that would
    have to wait for a rate limit raises RateLimited at once instead, its message saying until when."""
    return procore_client(connection, max_wait=INTERACTIVE_MAX_WAIT)


def interactive_client(connection: Connection) -> XeroApi | ProcoreApi:
    """The web request's client of either provider (the "Test connection" button)."""
    if connection.provider == Provider.XERO:
        return xero_client(connection, max_wait=INTERACTIVE_MAX_WAIT)
    return interactive_procore_client(connection)

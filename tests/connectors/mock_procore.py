"""A ProcoreClient over an httpx.MockTransport: for tests of how the client reads answers and
how often it asks, where the sandbox's own behaviour is not what is tested."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import httpx

from syncapp.connectors.procore import ProcoreClient
from syncapp.connectors.types import NewContractPayment

PAYMENT = NewContractPayment(
    project_id=1,
    commitment_id=2,
    date=dt.date(2026, 11, 30),
    amount=Decimal("10.00"),
    origin_id="xero-payment",
    invoice_number="INV-778",
    payment_method="electronic",
)


class StaticTokens:
    def access_token(self) -> str:
        return "token"

    def refresh_after_unauthorized(self, failed_token: str) -> str:
        return "token"


class RecordedHealth:
    """The connection health a client reports to (`CallHealth`), kept in lists."""

    def __init__(self):
        self.oks = 0
        self.errors: list[str] = []

    def ok(self) -> None:
        self.oks += 1

    def failed(self, message: str) -> None:
        self.errors.append(message)

    def flush(self) -> None:
        pass


class MockProcore:
    """`client` gives every request the same answer (a response built by `answer()`, or the
    exception `answer` raised); `requests` and `sleeps` record what it sent and how it waited."""

    def __init__(self, answer: Callable[[], httpx.Response] | Exception):
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []
        self.health = RecordedHealth()

        def handle(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            if isinstance(answer, Exception):
                raise answer
            return answer()

        self.client = ProcoreClient(
            tokens=StaticTokens(),
            company_id=1,
            sleep=self.sleeps.append,
            health=self.health,
            transport=httpx.MockTransport(handle),
        )

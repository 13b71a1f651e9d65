"""Worlds in the sandbox Xero and Procore, built with their ORM models, and real tokens fetched
from the sandbox over HTTP (client_credentials), wrapped in a tiny TokenSource that counts
refreshes. The product's own TokenSource (connections.tokens.ConnectionTokens) is tested there."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from decimal import Decimal

import httpx
import pytest
from django.conf import settings

from syncapp.connectors.types import NeedsReconnect


class ClientCredentialsTokens:
    """A TokenSource over the client_credentials grant: refreshing is asking for a new token."""

    def __init__(self, *, token_url: str, client_id: str, client_secret: str, basic_auth: bool, scope: str = ""):
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.basic_auth = basic_auth
        self.scope = scope
        self.refreshes = 0
        self.refused_tokens: list[str] = []
        self.token = ""

    def _fetch(self) -> str:
        data = {"grant_type": "client_credentials"}
        if self.scope:
            data["scope"] = self.scope
        auth = None
        if self.basic_auth:
            auth = (self.client_id, self.client_secret)
        else:
            data.update(client_id=self.client_id, client_secret=self.client_secret)
        response = httpx.post(self.token_url, data=data, auth=auth, timeout=10)
        if response.status_code != 200:
            raise NeedsReconnect(f"token refused: {response.status_code}")
        return response.json()["access_token"]

    def access_token(self) -> str:
        if not self.token:
            self.token = self._fetch()
        return self.token

    def refresh_after_unauthorized(self, failed_token: str) -> str:
        self.refreshes += 1
        self.refused_tokens.append(failed_token)
        self.token = self._fetch()
        return self.token


# --- Procore ---------------------------------------------------------------------------------------


@dataclass
class ProcoreWorld:
    company: object
    user: object
    app: object
    project: object
    vendor: object
    commitment: object
    purchase_order: object
    requisition: object
    tokens: ClientCredentialsTokens
    extra: dict = field(default_factory=dict)


@pytest.fixture
def procore_world(sandbox) -> ProcoreWorld:
    from syncapp.sandbox.procore.models import (
        Commitment,
        Company,
        OAuthClient,
        Project,
        Requisition,
        User,
        Vendor,
    )
    from syncapp.sandbox.procore.ratelimit import reset_rate_limits

    reset_rate_limits()
    company = Company.objects.create(name="Harbour Builders")
    user = User.objects.create(login=f"svc-{secrets.token_hex(4)}@example.com", name="Sync", is_service_account=True)
    user.companies.add(company)
    secret = secrets.token_urlsafe(16)
    app = OAuthClient.objects.create(client_id=f"pc-{secrets.token_hex(6)}", client_secret=secret, service_account=user)
    app.installed_in.add(company)
    project = Project.objects.create(company=company, name="Harbour Tower", project_number="P-1001")
    vendor = Vendor.objects.create(company=company, name="Acme Plumbing Pty Ltd", business_id="51824753556")
    commitment = Commitment.objects.create(
        project=project, number="SC-001", title="Plumbing", vendor=vendor, grand_total=Decimal("100000.00")
    )
    purchase_order = Commitment.objects.create(
        project=project, kind=Commitment.PURCHASE_ORDER, number="PO-007", title="Pipes", vendor=vendor
    )
    requisition = Requisition.objects.create(
        project=project,
        commitment=commitment,
        number=1,
        invoice_number="INV-778",
        status="approved",
        origin_id="xero-invoice-1",
        total_amount=Decimal("12500.00"),
        billing_date=dt.date(2026, 10, 31),
    )
    tokens = ClientCredentialsTokens(
        token_url=f"{settings.PROCORE_LOGIN_URL}/oauth/token",
        client_id=app.client_id,
        client_secret=secret,
        basic_auth=False,
    )
    return ProcoreWorld(company, user, app, project, vendor, commitment, purchase_order, requisition, tokens)


@pytest.fixture
def make_procore_client(procore_world):
    """ProcoreClient(**options) for the world's company, closed after the test (a kept-alive
    connection holds a live-server thread and its database connection)."""
    from syncapp.connectors.procore import ProcoreClient

    made = []

    def make(**options):
        options.setdefault("timeout", 5)
        client = ProcoreClient(tokens=procore_world.tokens, company_id=procore_world.company.id, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def procore_client(make_procore_client):
    return make_procore_client()


# --- Xero ------------------------------------------------------------------------------------------


@dataclass
class XeroWorld:
    world: object  # syncapp.sandbox.xero.factories.XeroWorld: organisation, contact, bill, payments
    tokens: ClientCredentialsTokens

    @property
    def tenant_id(self) -> str:
        return str(self.world.organisation.tenant_id)


@pytest.fixture
def xero_world(sandbox) -> XeroWorld:
    """A custom-connection app on one organisation with a supplier, a bill of 1100.00 and two
    part payments (the sandbox's own builders), and a client_credentials TokenSource."""
    from syncapp.sandbox.xero import limits
    from syncapp.sandbox.xero.factories import make_world

    limits.reset()
    secret = secrets.token_urlsafe(16)
    world = make_world(client_id=f"xc-{secrets.token_hex(6)}", client_secret=secret, custom_connection=True)
    tokens = ClientCredentialsTokens(
        token_url=settings.XERO_TOKEN_URL, client_id=world.client.client_id, client_secret=secret, basic_auth=True
    )
    return XeroWorld(world=world, tokens=tokens)


@pytest.fixture
def make_xero_client(xero_world):
    """XeroClient(**options) for the world's organisation, closed after the test."""
    from syncapp.connectors.xero import XeroClient

    made = []

    def make(**options):
        options.setdefault("timeout", 5)
        options.setdefault("tenant_id", xero_world.tenant_id)
        client = XeroClient(tokens=xero_world.tokens, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def xero_client(make_xero_client):
    return make_xero_client()

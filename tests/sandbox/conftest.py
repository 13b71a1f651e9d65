"""Fixtures shared by the sandbox's own tests: fresh Xero rate-limit counters around every test,
and a small Xero world with a connected app and an HTTP client on its Accounting API."""

import httpx
import pytest

from syncapp.sandbox.xero import limits
from syncapp.sandbox.xero.factories import connect, make_world


@pytest.fixture(autouse=True)
def _fresh_limits():
    limits.reset()
    yield
    limits.reset()


@pytest.fixture
def world():
    return make_world()


@pytest.fixture
def tokens(world):
    return connect(client=world.client, organisations=[world.organisation])


@pytest.fixture
def api(sandbox, world, tokens):
    headers = {"Authorization": f"Bearer {tokens['access_token']}", "xero-tenant-id": str(world.organisation.tenant_id)}
    with httpx.Client(base_url=f"{sandbox}/sandbox/xero/api.xro/2.0/", headers=headers, timeout=30) as client:
        yield client

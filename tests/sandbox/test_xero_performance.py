"""A 1000-row page of payments is cheap to serve: a fixed handful of queries whatever the page
size, and well under a second over HTTP. Run with `-s` to see the measured milliseconds."""

import datetime as dt
import statistics
import time
from decimal import Decimal

import httpx
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from syncapp.sandbox.models import Behaviour
from syncapp.sandbox.xero.factories import connect, make_bill, make_contact, make_world
from syncapp.sandbox.xero.models import Payment

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def busy_world():
    """1000+ payments over 50 bills of 20 suppliers, as the product would page through them."""
    world = make_world()
    suppliers = [make_contact(organisation=world.organisation, name=f"Supplier {n:02d}") for n in range(20)]
    bills = [
        make_bill(organisation=world.organisation, contact=suppliers[n % 20], number=f"B-{n:03d}")
        for n in range(50)
    ]
    now = timezone.now()
    Payment.objects.bulk_create(
        Payment(
            organisation=world.organisation,
            invoice=bills[n % 50],
            date=dt.date(2024, 1, 1) + dt.timedelta(days=n % 300),
            amount=Decimal("12.34"),
            bank_amount=Decimal("12.34"),
            reference=f"EFT {n:05d}",
            updated_at=now + dt.timedelta(milliseconds=n),
        )
        for n in range(1000)
    )
    Behaviour.set("xero", minute_limit=10_000, day_limit=100_000)
    return world


def test_a_page_costs_the_same_few_queries_whatever_its_size(busy_world):
    tokens = connect(client=busy_world.client, organisations=[busy_world.organisation])
    tenant = str(busy_world.organisation.tenant_id)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}", HTTP_XERO_TENANT_ID=tenant)

    counts = {}
    for size in (10, 1000):
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/sandbox/xero/api.xro/2.0/Payments", {"page": 1, "pageSize": size})
        assert response.status_code == 200
        assert len(response.json()["Payments"]) == size
        counts[size] = len(queries)

    print(f"\nXero sandbox: queries per Payments page: {counts}")
    assert counts[1000] == counts[10] <= 6


def test_a_thousand_row_page_is_served_fast_over_http(sandbox, busy_world):
    tokens = connect(client=busy_world.client, organisations=[busy_world.organisation])
    tenant = str(busy_world.organisation.tenant_id)
    headers = {"Authorization": f"Bearer {tokens['access_token']}", "xero-tenant-id": tenant}
    url = f"{sandbox}/sandbox/xero/api.xro/2.0/Payments"

    timings = []
    with httpx.Client(headers=headers, timeout=30) as http:
        http.get(url, params={"page": 1, "pageSize": 10})  # warm the connection
        for _ in range(5):
            started = time.perf_counter()
            response = http.get(url, params={"page": 1, "pageSize": 1000, "order": "UpdatedDateUTC ASC"})
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200 and len(response.json()["Payments"]) == 1000

    median = statistics.median(timings)
    print(f"\nXero sandbox: 1000-row Payments page, median {median:.0f} ms over 5 calls ({connection.vendor})")
    assert median < 1000

"""The reconciliation tests reuse the sync tests' world: the seeded sandbox served over HTTP and an
integration connected to it headlessly (client credentials)."""

from __future__ import annotations

import pytest

from tests.sync.conftest import World, fast_retries, world  # noqa: F401  (fixtures)


@pytest.fixture
def synced(world) -> World:  # noqa: F811  (the imported fixture)
    """The world after one real sync: every sendable payment is in Procore."""
    run = world.run()
    assert run.state == "succeeded", run.error
    return world


EVIL = "<script>alert('x')</script> & Sons"


def make_report(integration, *, lines=(), totals=(), user=None, **fields):
    """A finished report written straight to the database (for pages and files, no Procore needed)."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from syncapp.reconcile.compare import Comparison, Totals
    from syncapp.reconcile.models import ReconciliationReport
    from syncapp.reconcile.reports import _save

    now = timezone.now()
    report = ReconciliationReport.objects.create(
        integration=integration,
        requested_by=user,
        state="running",
        started_at=now - dt.timedelta(seconds=12),
        organisation_name="Demo Builders Pty Ltd",
        company_name="Demo Builders (Procore)",
        commitments_total=len({line.procore_commitment_id for line in lines}),
        **fields,
    )
    if not totals:
        totals = [Totals(project_id=5, project="Harbour Tower", commitment_id=77, commitment="SC-001",
                         vendor="Vendor 1", currency="AUD", xero=Decimal("100.00"), procore=Decimal("100.00"),
                         lines=len(lines))]  # fmt: skip
    _save(report, Comparison(lines=list(lines), totals=list(totals)), calls=len(lines))
    report.refresh_from_db()
    return report


def line(status="matched", n=1, **fields):
    import datetime as dt
    from decimal import Decimal

    from syncapp.reconcile.compare import Line

    values = {
        "status": status,
        "xero_payment_id": f"6f1c2a9e-0000-4000-8000-{n:012d}",
        "procore_payment_id": 2**52 + n,
        "vendor": f"Vendor {n % 3}",
        "project": f"Project {n % 2}",
        "procore_project_id": 5,
        "commitment": "SC-001",
        "procore_commitment_id": 77,
        "invoice_number": f"INV-{n:04d}",
        "currency": "AUD",
        "xero_date": dt.date(2026, 10, 1) + dt.timedelta(days=n % 20),
        "xero_amount": Decimal("1000.50") + n,
        "procore_date": dt.date(2026, 10, 1) + dt.timedelta(days=n % 20),
        "procore_amount": Decimal("1000.50") + n,
        "difference": Decimal("0.00"),
        "counts_in_xero": True,
        "vendor_id": f"contact-{n % 3}",
        "xero_invoice_id": f"bill-{n:04d}",
    }
    values.update(fields)
    return Line(**values)

"""Procore reads follow the work: what Procore told us is kept between runs, a later run reads only
what changed where its payments are, and what changed in Procore is still seen."""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.signals import request_started

from syncapp.connections.models import Integration
from syncapp.sandbox.procore.models import Commitment, ContractPayment
from syncapp.sandbox.seed import register_oauth_clients, seed_company
from syncapp.sandbox.seeding.changes import add_payments
from syncapp.sandbox.seeding.company import CompanySize
from syncapp.sandbox.xero.models import Invoice as XeroInvoice
from syncapp.sync.models import PaymentState, ProcoreObject, RunLogLine, RunState
from tests.sync.conftest import World, connect

pytestmark = pytest.mark.django_db(transaction=True)

PROCORE_API = "/sandbox/procore/api/rest/"


@pytest.fixture
def procore_reads():
    """Procore API calls the sandbox received, as (method, path) counts; `.clear()` between runs."""
    seen: Counter = Counter()

    def note(sender, environ, **kwargs):
        path = environ.get("PATH_INFO", "")
        if path.startswith(PROCORE_API):
            seen[(environ["REQUEST_METHOD"], path[len(PROCORE_API) - 1 :])] += 1

    request_started.connect(note, weak=False)
    yield seen
    request_started.disconnect(note)


@pytest.fixture
def company(sandbox, settings, fast_retries) -> World:
    """A company of 12 projects (vendors on a few each), connected, and synced once."""
    from syncapp.sandbox.models import Behaviour

    summary = seed_company(size=CompanySize.of(projects=12, commitments=60, invoices=180, payments=30), seed=3)
    register_oauth_clients(site_url=sandbox)
    Behaviour.set("xero", minute_limit=10_000, day_limit=100_000)
    Behaviour.set("procore", hourly_limit=100_000, spike_limit=10_000)
    integration = Integration.objects.create(name="big")
    connect(integration)
    world = World(url=sandbox, integration=integration, summary=summary)
    first = world.run()
    assert first.state == RunState.SUCCEEDED, first.error
    assert first.counts.get("sent") == 30
    return world


def calls(reads: Counter, *, method: str = "GET") -> int:
    return sum(n for (m, _), n in reads.items() if m == method)


def test_the_first_run_keeps_what_procore_listed_and_a_run_with_nothing_new_reads_nothing(company, procore_reads):
    assert ProcoreObject.objects.filter(kind="project").count() == 12
    assert ProcoreObject.objects.filter(kind="requisition").count() == 180

    run = company.run()

    assert run.state == RunState.SUCCEEDED, run.error
    assert run.api_calls_procore == 0 == sum(procore_reads.values())


def test_new_payments_on_kept_invoices_read_each_touched_project_twice_at_most(company, procore_reads):
    added = add_payments(count=6, projects=2, seed=5)

    run = company.run()

    assert run.state == RunState.SUCCEEDED, run.error
    assert run.counts.get("sent") == 6
    assert procore_reads[("POST", "/v1.0/contract_payments")] == 6
    touched = len(set(added.project_ids))
    commitments = {company.payment(pid).procore_commitment_id for pid in added.payment_ids}
    # The company's projects and vendors (their changes), then per touched project its invoices'
    # changes, and one show per commitment paid (its status and the payments on it).
    assert calls(procore_reads) == 2 + touched + len(commitments), procore_reads
    assert procore_reads[("GET", "/v1.0/projects")] == 1 and procore_reads[("GET", "/v1.0/vendors")] == 1


def test_a_subcontractor_invoice_entered_in_procore_after_the_last_run_is_found_by_its_changes(
    company, procore_reads
):
    added = add_payments(count=3, projects=1, new_invoices=True, seed=6)

    run = company.run()

    assert run.state == RunState.SUCCEEDED, run.error
    for pid, requisition_id in zip(added.payment_ids, added.requisition_ids, strict=True):
        payment = company.payment(pid)
        assert payment.state == PaymentState.SENT, payment.message
        assert payment.procore_requisition_id == requisition_id
        assert ContractPayment.objects.filter(origin_id=pid).count() == 1
    # Found by reading what changed on the vendors' projects, never by re-reading all twelve.
    assert procore_reads[("GET", "/v1.1/requisitions")] < 12
    assert procore_reads[("GET", "/v1.0/work_order_contracts")] < 12


def test_a_commitment_voided_in_procore_since_the_last_run_takes_no_payment(company):
    added = add_payments(count=1, projects=1, seed=7)
    [pid] = added.payment_ids
    commitment = Commitment.objects.get(requisitions__id=added.requisition_ids[0])
    # A status neither list nor show calls payable, for its type; set without moving updated_at,
    # so only the commitment's show, read before paying on it, can tell.
    status = "Void" if commitment.kind == Commitment.WORK_ORDER else "Draft"
    Commitment.objects.filter(pk=commitment.pk).update(status=status)

    run = company.run()

    payment = company.payment(pid)
    assert run.state == RunState.SUCCEEDED, run.error
    assert (payment.state, payment.reason_code) == (PaymentState.BLOCKED, "commitment_not_payable"), payment.message
    assert f"is {status} in Procore" in payment.message
    assert not ContractPayment.objects.filter(origin_id=pid).exists()


def test_after_the_full_read_interval_every_project_is_read_again(company, procore_reads, settings):
    settings.PROCORE_FULL_READ_HOURS = 0
    add_payments(count=1, projects=1, seed=8)

    run = company.run()

    assert run.state == RunState.SUCCEEDED, run.error
    assert procore_reads[("GET", "/v1.1/requisitions")] >= 12


def untracked(bill_ids: list[str]) -> None:
    """The bills name no project (no tracking on their lines): only the invoice number matches."""
    for bill in XeroInvoice.objects.filter(invoice_id__in=bill_ids):
        bill.line_items = [{k: v for k, v in line.items() if k != "Tracking"} for line in bill.line_items]
        bill.save(update_fields=["line_items"])


@pytest.mark.parametrize("switch", ["none", "commitments"])
def test_when_procore_lists_no_project_for_a_vendor_the_kept_commitments_are_trusted(company, settings, switch):
    """Its exact meaning is unverified (README): an empty answer for a vendor whose commitments we
    hold is not believed, and the run log says so."""
    settings.SANDBOX_PROCORE_PROJECTS_VENDOR_FILTER = switch
    added = add_payments(count=2, projects=1, new_invoices=True, seed=9)
    untracked(added.bill_ids)

    run = company.run()

    assert run.state == RunState.SUCCEEDED, run.error
    assert [company.payment(pid).state for pid in added.payment_ids] == [PaymentState.SENT] * 2
    said = RunLogLine.objects.filter(run=run, message__contains="Procore listed no project for vendor").exists()
    assert said == (switch == "none")

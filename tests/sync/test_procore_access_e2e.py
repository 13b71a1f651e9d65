"""What real Procore companies refuse, end to end over HTTP against the seeded sandbox: connect,
Get All Payments (a run), and the outcome a person sees on the payment, the run and its log.

- A project the service account is not in, or whose Commitments or Invoicing tool is off: that
  project's payments are blocked "no access to project X in Procore" with the fix; every other
  payment is sent; the run succeeds.
- Commitments that must not take payments (Void, deleted, any status but Approved/Complete): a bill
  pointing at one is blocked with the status, never sent, never swapped for another commitment.
- A 422 on create fails the payment with Procore's own message, whatever its body's shape.
- Connecting a service account sends Procore-Company-Id where Procore's regions require it.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from syncapp.connections.models import Connection, Grant
from syncapp.connectors.types import ConnectorError
from syncapp.sandbox.procore.models import Commitment, ContractPayment, Project
from syncapp.sandbox.seed import COMPANY_ID, SERVICE_ACCOUNT_LOGIN
from syncapp.sandbox.xero.models import Payment as XeroPaymentRow
from syncapp.sync.models import BillLink, Payment, PaymentState, RunLogLine, RunState

pytestmark = pytest.mark.django_db(transaction=True)


def sent_ids(world) -> set[str]:
    return {pid for pid, outcome in world.summary.expected.items() if outcome == "sent"}


def in_procore(pid: str) -> bool:
    return ContractPayment.objects.filter(origin_id=pid).exists()


def tracked_project_number(pid: str) -> str:
    """The project number the bill's Xero tracking names ("P-1001 Harbour Tower" -> "P-1001")."""
    invoice = XeroPaymentRow.objects.select_related("invoice").get(payment_id=pid).invoice
    option = invoice.line_items[0]["Tracking"][0]["Option"]
    return option.split()[0]


# --- A. Projects Procore refuses ----------------------------------------------------------------


def test_payments_on_projects_procore_refuses_are_blocked_with_the_fix_and_the_rest_are_sent(world):
    hidden = Project.objects.get(refused_tools="project")
    tool_off = Project.objects.get(refused_tools="commitments")

    run = world.run()

    assert run.state == RunState.SUCCEEDED, run.error
    refused = world.summary.cases["project_refused"]
    assert len(refused) == 2
    by_project = {tracked_project_number(pid): world.payment(pid) for pid in refused}
    for project in (hidden, tool_off):
        payment = by_project[project.project_number]
        assert (payment.state, payment.reason_code) == (PaymentState.BLOCKED, "no_project_access"), payment.message
        named = (f"{project.project_number} {project.name}", project.name)  # from Xero's tracking, or Procore
        assert any(payment.message.startswith(f"No access to project {n} in Procore") for n in named), payment.message
        assert f"Add the service account {SERVICE_ACCOUNT_LOGIN} to project" in payment.fix
        assert not in_procore(payment.xero_payment_id)
    assert "Commitments tool refused: 403" in by_project[tool_off.project_number].message
    assert "not among the projects" in by_project[hidden.project_number].message
    not_sent = [pid for pid in sent_ids(world) if world.payment(pid).state != PaymentState.SENT]
    assert not not_sent
    logged = RunLogLine.objects.filter(run=run, message__startswith=f"Procore refused project {tool_off.name}")
    assert logged.count() == 1


def test_turning_a_busy_projects_invoicing_off_blocks_only_its_payments_and_the_run_finishes(world):
    busy = Project.objects.filter(refused_tools="").order_by("project_number").first()
    busy.refused_tools = "invoicing"
    busy.save()

    run = world.run()

    assert run.state == RunState.SUCCEEDED, run.error
    on_busy = {pid for pid in sent_ids(world) if tracked_project_number(pid) == busy.project_number}
    elsewhere = sent_ids(world) - on_busy
    assert on_busy and elsewhere
    for pid in on_busy:
        payment = world.payment(pid)
        assert (payment.state, payment.reason_code) == (PaymentState.BLOCKED, "no_project_access"), payment.message
        assert f"No access to project {busy.name} in Procore (Invoicing tool refused: 403)" in payment.message
        assert not in_procore(pid)
    assert {world.payment(pid).state for pid in elsewhere} == {PaymentState.SENT}


def test_access_given_back_sends_the_blocked_payments_on_the_next_run(world):
    world.run()
    refused = world.summary.cases["project_refused"]
    assert {world.payment(pid).reason_code for pid in refused} == {"no_project_access"}
    Project.objects.exclude(refused_tools="").update(refused_tools="")

    run = world.run()

    assert run.state == RunState.SUCCEEDED
    for pid in world.summary.cases["project_refused"]:
        assert world.payment(pid).state == PaymentState.SENT
        assert in_procore(pid)


def test_the_failure_queue_shows_the_groups_for_project_access_and_unpayable_commitments(world, admin_client):
    world.run()

    page = admin_client.get(reverse("failures"))

    html = page.content.decode()
    assert page.status_code == 200
    assert "No access to project" in html
    assert "in Procore: it cannot take payments" in html


# --- B. Commitments that must not take payments ----------------------------------------------------


def test_bills_pointing_at_a_void_or_deleted_commitment_are_blocked_with_the_status(world):
    void = Commitment.objects.get(status="Void", vendor__name="Corbel Stonemasonry")
    deleted = Commitment.objects.get(deleted_at__isnull=False)

    run = world.run()

    assert run.state == RunState.SUCCEEDED, run.error
    messages = {}
    for pid in world.summary.cases["commitment_not_payable"]:
        payment = world.payment(pid)
        assert (payment.state, payment.reason_code) == (PaymentState.BLOCKED, "commitment_not_payable")
        assert payment.fix
        assert not in_procore(pid)
        messages[payment.vendor_name] = payment.message
    assert messages["Corbel Stonemasonry"].startswith(
        f"Commitment {void.number} is Void in Procore: it cannot take payments."
    )
    assert messages["Quandong Tiled Facades"].startswith(
        f"Commitment {deleted.number} is deleted in Procore: it cannot take payments."
    )
    assert not ContractPayment.objects.filter(commitment__in=[void, deleted]).exists()


def test_a_bill_an_admin_linked_to_a_draft_commitment_is_blocked_and_not_sent(world):
    pid = next(iter(world.summary.cases["full"]))
    row = XeroPaymentRow.objects.select_related("invoice").get(payment_id=pid)
    draft = Commitment.objects.filter(status="Approved", deleted_at__isnull=True, kind=Commitment.WORK_ORDER).first()
    draft.status = "Draft"
    draft.save()
    BillLink.objects.create(
        integration=world.integration,
        xero_invoice_id=str(row.invoice.invoice_id),
        procore_project_id=draft.project_id,
        procore_commitment_id=draft.pk,
    )

    world.run()

    payment = world.payment(pid)
    assert (payment.state, payment.reason_code) == (PaymentState.BLOCKED, "commitment_not_payable")
    assert f"Commitment {draft.number} is Draft in Procore" in payment.message
    assert not in_procore(pid)


def test_a_terminated_commitment_is_never_picked_as_the_vendors_only_one_on_the_project(world):
    """The no_invoice case's vendor has two commitments on the tracked project: with one of them
    Terminated, the other is the only one that takes payments and is picked; with both Terminated
    none is picked and the bill is blocked with the statuses."""
    pid = world.summary.cases["no_invoice"][0]
    on_project = Commitment.objects.filter(
        vendor__name="Keystone Civil Pty Ltd", project__project_number=tracked_project_number(pid)
    )
    assert on_project.count() == 2
    world.run()
    assert world.payment(pid).reason_code == "invoice_not_found"  # two that take payments: none picked
    first, second = on_project
    Commitment.objects.filter(pk=first.pk).update(status="Terminated")
    world.run()
    payment = world.payment(pid)
    assert payment.state == PaymentState.SENT  # the only one left that takes payments
    assert payment.procore_commitment_id == second.pk
    Payment.objects.filter(pk=payment.pk).update(state=PaymentState.NEW)  # look at it afresh
    ContractPayment.objects.filter(origin_id=pid).delete()
    on_project.update(status="Terminated")

    world.run()

    payment = world.payment(pid)
    assert (payment.state, payment.reason_code) == (PaymentState.BLOCKED, "commitment_not_payable"), payment.message
    assert "Terminated" in payment.message
    assert not in_procore(pid)


# --- C. Procore's 422, whatever the shape of its body ----------------------------------------------


@pytest.mark.parametrize(
    ("shape", "shown"),
    [
        ("text", "Payments cannot be added to a commitment that is not approved"),
        ("list", "Amount exceeds the remaining balance of the commitment; Date is before the contract date"),
        ("map", "amount exceeds the remaining balance of the commitment; date is not a valid date"),
        ("error", "Validation errors detected: invoice_date must not be after the payment date"),
    ],
)
def test_a_422_on_create_fails_the_payment_with_procores_own_message(world, settings, admin_client, shape, shown):
    settings.SANDBOX_PROCORE_PAYMENT_422 = shape

    run = world.run()

    assert run.state == RunState.SUCCEEDED, run.error
    failed = Payment.objects.filter(integration=world.integration, state=PaymentState.FAILED)
    assert failed.count() == len(sent_ids(world))
    payment = failed.first()
    assert shown in payment.message
    assert not ContractPayment.objects.filter(origin_id__in=sent_ids(world)).exists()
    page = admin_client.get(reverse("payment", args=[payment.pk]))
    assert shown in page.content.decode()


# --- D. Connecting a service account across Procore's regions --------------------------------------


def test_a_service_account_connects_with_its_company_id_where_procores_regions_require_the_header(world, settings):
    from syncapp.connections.services import available_tenants, connect_headless

    settings.SANDBOX_PROCORE_SERVICE_ACCOUNT_COMPANY_HEADER = "on"

    connection = connect_headless(integration=world.integration, provider="procore", company_id=str(COMPANY_ID))
    tenants = available_tenants(connection)

    assert connection.grant == Grant.CLIENT_CREDENTIALS
    assert connection.tenant_id == str(COMPANY_ID)
    assert [t.id for t in tenants] == [str(COMPANY_ID)]
    assert world.run().state == RunState.SUCCEEDED


def test_a_service_account_without_a_company_id_is_told_to_pass_one_where_procore_requires_it(world, settings):
    from syncapp.connections.services import connect_headless

    settings.SANDBOX_PROCORE_SERVICE_ACCOUNT_COMPANY_HEADER = "on"
    before = Connection.objects.get(integration=world.integration, provider="procore").token_version

    with pytest.raises(ConnectorError, match="pass --company-id"):
        connect_headless(integration=world.integration, provider="procore")

    assert Connection.objects.get(integration=world.integration, provider="procore").token_version == before

"""Procore as one run sees it: each list read once per run, on first need, then looked up in memory.

Vendors and projects are read once; commitments and requisitions once per project; a
commitment's existing payments once per commitment (re-read only after an ambiguous write).
That is what keeps Procore calls per payment sent near one. A commitment whose payments Procore
refuses to show (403/404) is refused once per run, not once per payment on it.

Procore may refuse one project and not the others (403: the account is not in its directory, or
its Commitments or Invoicing tool is off or not permitted; developers.procore.com
troubleshooting, "403: Tool disabled in the project", "403: Resource outside access scope"). That
project is skipped, never the run: the refusal is recorded once (`refusals()`), and the resolver
blocks the payments that could only belong there. Deleted commitments are read only when asked
(`deleted_commitment`), so a bill pointing at one can be told why.

Which commitment statuses take payments is decided here, in `PAYABLE_STATUSES`, and nowhere else.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from syncapp.connectors.types import (
    ConnectorError,
    DataError,
    ProcoreCommitment,
    ProcorePayment,
    ProcoreProject,
    ProcoreRequisition,
    ProcoreVendor,
)

# Commitment statuses that take payments, by commitment type (Procore's `type`). Sources: the
# documented status lists (RestV10WorkOrderContractsIdGet `status`: Draft, Out For Bid, Out For
# Signature, Approved, Complete, Terminated, Void; RestV10PurchaseOrderContractsGet
# `filters[status]`: Draft, Processing, Submitted, Partially Received, Received, Approved, Closed)
# and domain.md section 3 ("Only Approved and Complete commitments take payments"). Reasoning: a
# subcontract is payable once approved and stays so when complete; drafts, bids, unsigned,
# terminated and void ones are not. A purchase order's receipt states come after its approval
# (Partially Received, Received) and Closed is its "complete"; Draft, Processing and Submitted
# are before approval. A deleted commitment never takes payments, whatever its status.
PAYABLE_STATUSES: dict[str, frozenset[str]] = {
    "WorkOrderContract": frozenset({"approved", "complete"}),
    "PurchaseOrderContract": frozenset({"approved", "partially received", "received", "closed"}),
}


def payable(commitment: ProcoreCommitment) -> bool:
    """Whether the commitment may take payments. A commitment whose status Procore did not send is
    not refused here (Procore itself answers the create; its refusal fails the payment with its
    message): refusing it would block every payment of a company whose list omits the field."""
    status = commitment.status.strip().casefold()
    if not status:
        return True
    allowed = PAYABLE_STATUSES.get(commitment.kind)
    if allowed is None:  # type unknown: what either type's list says is payable
        allowed = frozenset().union(*PAYABLE_STATUSES.values())
    return status in allowed


def payable_words(kind: str) -> str:
    """The payable statuses as a person reads them ("Approved or Complete")."""
    words = [w.title() for w in sorted(PAYABLE_STATUSES.get(kind, PAYABLE_STATUSES["WorkOrderContract"]))]
    return ", ".join(words[:-1]) + f" or {words[-1]}" if len(words) > 1 else words[0]


@dataclass
class ProjectRefusal:
    """A project Procore would not (fully) show this run, and what it refused."""

    project_id: int
    name: str
    refused: list[str] = field(default_factory=list)  # "Commitments tool", "Invoicing tool", ...
    message: str = ""  # Procore's own words, for the run log

    @property
    def what(self) -> str:
        return ", ".join(self.refused) + " refused: 403"


class ProcoreIndex:
    def __init__(self, client):
        self.client = client
        self._refusals: dict[int, ProjectRefusal] = {}
        self._deleted: dict[int, ProcoreCommitment] | None = None
        self._login: str | None = None
        self._vendors: dict[int, ProcoreVendor] | None = None
        self._projects: dict[int, ProcoreProject] | None = None
        self._commitments: dict[int, ProcoreCommitment] | None = None
        self._requisitions: list[ProcoreRequisition] | None = None
        self._payments: dict[int, dict[str, ProcorePayment]] = {}
        self._unkeyed: dict[int, list[ProcorePayment]] = {}  # payments without origin_id (hand-entered)
        self._refused: dict[int, DataError] = {}  # commitment -> Procore's 403/404 on its payments

    # --- vendors and projects ------------------------------------------------------------------

    def vendors(self) -> dict[int, ProcoreVendor]:
        if self._vendors is None:
            self._vendors = {v.id: v for v in self.client.vendors()}
        return self._vendors

    def add_vendor(self, vendor: ProcoreVendor) -> None:
        self.vendors()[vendor.id] = vendor

    def projects(self) -> dict[int, ProcoreProject]:
        if self._projects is None:
            self._projects = {p.id: p for p in self.client.projects()}
        return self._projects

    # --- commitments and subcontractor invoices -----------------------------------------------

    def commitments(self) -> dict[int, ProcoreCommitment]:
        """Every commitment Procore lists (all statuses, not deleted) on the projects it shows."""
        if self._commitments is None:
            found: dict[int, ProcoreCommitment] = {}
            for project_id in self.projects():
                try:
                    listed = self.client.commitments(project_id)
                except DataError as exc:
                    self._refuse_or_raise(project_id, "Commitments tool", exc)
                    continue
                for commitment in listed:
                    found[commitment.id] = commitment
            self._commitments = found
        return self._commitments

    def commitment(self, commitment_id: int) -> ProcoreCommitment | None:
        """A listed commitment, or a deleted one (read on first need), or None."""
        return self.commitments().get(commitment_id) or self.deleted_commitment(commitment_id)

    def deleted_commitment(self, commitment_id: int) -> ProcoreCommitment | None:
        return self._deleted_commitments().get(commitment_id)

    def deleted_of_vendor(self, vendor_id: int) -> list[ProcoreCommitment]:
        return [c for c in self._deleted_commitments().values() if c.vendor_id == vendor_id]

    def _deleted_commitments(self) -> dict[int, ProcoreCommitment]:
        """Deleted commitments of the readable projects: two calls a project, once per run, and
        only when a bill points at something the live lists do not hold."""
        if self._deleted is None:
            self.commitments()
            found: dict[int, ProcoreCommitment] = {}
            for project_id in self.projects():
                if project_id in self._refusals:
                    continue
                try:
                    listed = self.client.commitments(project_id, deleted=True)
                except DataError as exc:
                    self._refuse_or_raise(project_id, "Commitments tool", exc)
                    continue
                found.update((c.id, c) for c in listed)
            self._deleted = found
        return self._deleted

    def commitments_of_vendor(self, vendor_id: int) -> list[ProcoreCommitment]:
        by_vendor = self._by_vendor()
        return by_vendor.get(vendor_id, [])

    def _by_vendor(self) -> dict[int, list[ProcoreCommitment]]:
        if not hasattr(self, "_vendor_map"):
            mapping: dict[int, list[ProcoreCommitment]] = defaultdict(list)
            for commitment in self.commitments().values():
                if commitment.vendor_id is not None:
                    mapping[commitment.vendor_id].append(commitment)
            self._vendor_map = mapping
        return self._vendor_map

    def requisitions(self) -> list[ProcoreRequisition]:
        if self._requisitions is None:
            found: list[ProcoreRequisition] = []
            for project_id in self.projects():
                try:
                    found.extend(self.client.requisitions(project_id=project_id))
                except DataError as exc:
                    self._refuse_or_raise(project_id, "Invoicing tool", exc)
            self._requisitions = found
            self._req_by_origin = {r.origin_id: r for r in found if r.origin_id}
            by_number: dict[str, list[ProcoreRequisition]] = defaultdict(list)
            for requisition in found:
                if requisition.invoice_number:
                    by_number[normalise_invoice_number(requisition.invoice_number)].append(requisition)
            self._req_by_number = by_number
        return self._requisitions

    def requisition_by_origin(self, origin_id: str) -> ProcoreRequisition | None:
        self.requisitions()
        return self._req_by_origin.get(origin_id)

    def requisitions_by_invoice_number(self, invoice_number: str) -> list[ProcoreRequisition]:
        self.requisitions()
        return self._req_by_number.get(normalise_invoice_number(invoice_number), [])

    # --- payments already on a commitment ------------------------------------------------------

    def payments_on(self, *, project_id: int, commitment_id: int) -> dict[str, ProcorePayment]:
        """Existing payments of the commitment by origin_id, read once per run."""
        if commitment_id in self._refused:
            raise self._refused[commitment_id]
        if commitment_id not in self._payments:
            self.reload_payments(project_id=project_id, commitment_id=commitment_id)
        return self._payments[commitment_id]

    def reload_payments(self, *, project_id: int, commitment_id: int) -> dict[str, ProcorePayment]:
        try:
            payments = self.client.contract_payments(project_id=project_id, commitment_id=commitment_id)
        except DataError as exc:  # a refusal (no permission, cannot see it) will not change this run
            if exc.status == 403:
                commitment = self.commitment(commitment_id)
                number = commitment.number if commitment and commitment.number else f"#{commitment_id}"
                refusal = self._refuse(project_id, f"payments on commitment {number}", exc)
                exc = DataError(
                    f"No access to project {refusal.name} in Procore ({refusal.what}).", status=403, details=exc.details
                )
            self._refused[commitment_id] = exc
            raise exc from None
        self._refused.pop(commitment_id, None)
        self._payments[commitment_id] = {p.origin_id: p for p in payments if p.origin_id}
        self._unkeyed[commitment_id] = [p for p in payments if not p.origin_id]
        return self._payments[commitment_id]

    def payment_ids_on(self, commitment_id: int) -> set[int]:
        """Procore ids of every payment on a loaded commitment, ours and hand-entered ones."""
        keyed = self._payments.get(commitment_id, {}).values()
        return {p.id for p in keyed} | {p.id for p in self._unkeyed.get(commitment_id, [])}

    def unkeyed_payments(self, commitment_id: int) -> list[ProcorePayment]:
        """Payments on a loaded commitment that no integration owns (typed in by hand)."""
        return self._unkeyed.get(commitment_id, [])

    def remember_payment(self, *, commitment_id: int, payment: ProcorePayment) -> None:
        if payment.origin_id:
            self._payments.setdefault(commitment_id, {})[payment.origin_id] = payment

    # --- projects Procore refused --------------------------------------------------------------

    def refusals(self) -> dict[int, ProjectRefusal]:
        """Projects Procore refused (in part) so far this run, by id."""
        return self._refusals

    def refusal(self, project_id: int | None) -> ProjectRefusal | None:
        """The refusal of this project, once its commitments and invoices have been read."""
        if project_id is None:
            return None
        self.commitments()
        self.requisitions()
        return self._refusals.get(project_id)

    def all_refusals(self) -> list[ProjectRefusal]:
        """Every refusal of the run's reads of commitments and invoices, by project name."""
        self.commitments()
        self.requisitions()
        return sorted(self._refusals.values(), key=lambda r: r.name.casefold())

    def procore_login(self) -> str:
        """Who the integration is in Procore (its login), for the fix of a refusal; read once."""
        if self._login is None:
            try:
                self._login = self.client.me().login
            except ConnectorError:
                self._login = ""
        return self._login

    def _refuse_or_raise(self, project_id: int, what: str, exc: DataError) -> None:
        """A 403 on one project's list skips that project; any other refusal stays an error."""
        if exc.status != 403:
            raise exc
        self._refuse(project_id, what, exc)

    def _refuse(self, project_id: int, what: str, exc: DataError) -> ProjectRefusal:
        project = self.projects().get(project_id)
        refusal = self._refusals.get(project_id)
        if refusal is None:
            name = project.name if project else f"#{project_id}"
            refusal = self._refusals[project_id] = ProjectRefusal(project_id, name, message=exc.message)
        if what not in refusal.refused:
            refusal.refused.append(what)
        return refusal


def normalise_invoice_number(number: str) -> str:
    return "".join(number.split()).casefold()

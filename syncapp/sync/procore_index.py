"""Procore as one run sees it: each list read once per run, on first need, then looked up in memory.

Vendors and projects are read once; commitments and requisitions once per project; a
commitment's existing payments once per commitment (re-read only after an ambiguous write).
That is what keeps Procore calls per payment sent near one. A commitment whose payments Procore
refuses to show (403/404) is refused once per run, not once per payment on it.
"""

from __future__ import annotations

from collections import defaultdict

from syncapp.connectors.types import (
    DataError,
    ProcoreCommitment,
    ProcorePayment,
    ProcoreProject,
    ProcoreRequisition,
    ProcoreVendor,
)


class ProcoreIndex:
    def __init__(self, client):
        self.client = client
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
        if self._commitments is None:
            found: dict[int, ProcoreCommitment] = {}
            for project_id in self.projects():
                for commitment in self.client.commitments(project_id):
                    found[commitment.id] = commitment
            self._commitments = found
        return self._commitments

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
                found.extend(self.client.requisitions(project_id=project_id))
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
            self._refused[commitment_id] = exc
            raise
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


def normalise_invoice_number(number: str) -> str:
    return "".join(number.split()).casefold()

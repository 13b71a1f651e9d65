"""Procore as a run sees it: what was kept from earlier runs, plus what changed since, read where
the run's payments are.

Reads follow the work, not the size of the company (`procore_store` keeps the objects):
- the company's projects and vendors: their changes (`filters[updated_at]`), one call each;
- every project's commitments and subcontractor invoices in full only on the first run, when the
  last full read is older than PROCORE_FULL_READ_HOURS, or for a project seen for the first time;
- a project a payment points at: its invoices' changes (one call), and each commitment a payment
  goes to is shown once (one call: its status now and the payments issued on it, which is what
  exactly-once looks at before posting);
- a bill nothing matches ("a lookup misses"): the vendor's projects (`filters[vendor_id]`, one
  call, and those the stored commitments name) have their invoices' and commitments' changes read,
  most recently invoiced first, until the bill matches.
A commitment whose payments Procore refuses to show (403/404) is refused once per run.

Procore may refuse one project and not the others (403: the account is not in its directory, or
its Commitments or Invoicing tool is off or not permitted; developers.procore.com
troubleshooting, "403: Tool disabled in the project", "403: Resource outside access scope"). That
project is skipped, never the run: the refusal is kept (`refusals()`) until a read of the project
succeeds, and the resolver blocks the payments that could only belong there. Deleted commitments
are read per project, only when asked (`commitment(..., project_id=)`), so a bill pointing at one
can be told why.

Which commitment statuses take payments is decided here, in `PAYABLE_STATUSES`, and nowhere else.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone

from syncapp.connectors.protocols import ProcoreApi
from syncapp.connectors.types import (
    ConnectorError,
    DataError,
    ProcoreCommitment,
    ProcorePayment,
    ProcoreProject,
    ProcoreRequisition,
    ProcoreVendor,
    TimeRange,
)
from syncapp.sync.conf import SyncConf
from syncapp.sync.models import Payment
from syncapp.sync.procore_store import SWEEP, Kind, ProcoreStore

# Commitment statuses that take payments, by commitment type (Procore's `type`). Sources: the
# documented status lists (RestV10WorkOrderContractsIdGet `status`: Draft, Out For Bid, Out For
# Signature, Approved, Complete, Terminated, Void; RestV10PurchaseOrderContractsGet
# `filters[status]`: Draft, Processing, Submitted, Partially Received, Received, Approved, Closed)
# and the rule we sync by: only Approved and Complete commitments take payments. Reasoning: a
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
    """A project Procore would not (fully) show, and what it refused."""

    project_id: int
    name: str
    refused: list[str] = field(default_factory=list)  # "Commitments tool", "Invoicing tool", ...
    message: str = ""  # Procore's own words, for the run log

    @property
    def what(self) -> str:
        return ", ".join(self.refused) + " refused: 403"


# Changes are read from a little before the last read started: clocks differ, and an object
# written while the last read ran may carry an earlier updated_at. Reading it twice is harmless.
CHANGES_OVERLAP = dt.timedelta(minutes=10)
# The end of a changes range: "now" on a server clock that may run ahead of ours.
RANGE_END_MARGIN = dt.timedelta(days=1)


def _full_every() -> dt.timedelta:
    return dt.timedelta(hours=SyncConf.PROCORE_FULL_READ_HOURS)


class ProcoreIndex:
    def __init__(self, client: ProcoreApi, store: ProcoreStore, *, log: Callable[[str], None] = lambda line: None):
        self.client = client
        self.store = store
        self.log = log
        self._loaded = False
        self._projects: dict[int, ProcoreProject] = {}
        self._vendors: dict[int, ProcoreVendor] = {}
        self._commitments: dict[int, ProcoreCommitment] = {}
        self._requisitions: dict[int, ProcoreRequisition] = {}
        self._marks: dict[tuple[str, int], object] = {}
        self._refusals: dict[int, ProjectRefusal] = {}
        self._maps: _Lookups | None = None
        self._fresh_invoices: set[int] = set()  # projects whose invoices are current this run
        self._fresh_commitments: set[int] = set()  # projects whose commitments are current this run
        self._widened: set[int] = set()  # vendors whose projects were looked through this run
        self._deleted: dict[int, dict[int, ProcoreCommitment]] = {}  # project -> its deleted commitments
        self._login: str | None = None
        self._payments: dict[int, dict[str, ProcorePayment]] = {}
        self._unkeyed: dict[int, list[ProcorePayment]] = {}  # payments without origin_id (hand-entered)
        self._refused: dict[int, DataError] = {}  # commitment -> Procore's 403/404 on its payments

    # --- what is kept, brought up to date once per run ------------------------------------------

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        now = timezone.now()
        self._marks = self.store.marks()
        self._refusals = {pid: ProjectRefusal(**data) for pid, data in self.store.refusals().items()}
        self._projects = self._company_list(Kind.PROJECT, self.client.projects, now)
        self._vendors = self._company_list(Kind.VENDOR, self.client.vendors, now)
        self._commitments = self.store.load(Kind.COMMITMENT)
        self._requisitions = self.store.load(Kind.REQUISITION)
        sweep = self._marks.get((SWEEP, 0))
        if sweep is None or sweep.full_at < now - _full_every():
            for project_id in list(self._projects):
                self._read_project(project_id)
            self.store.set_mark(SWEEP, 0, read_at=now, full=True)
        else:
            for project_id in list(self._projects):  # projects seen for the first time
                if (Kind.REQUISITION, project_id) not in self._marks:
                    self._read_project(project_id)

    def _company_list(self, kind: str, read: Callable, now: dt.datetime) -> dict:
        mark = self._marks.get((kind, 0))
        full = mark is None or mark.full_at < now - _full_every()
        if full:
            self.store.replace(kind, read())
        else:
            self.store.save(kind, read(changed=self._since(mark, now)))
        self.store.set_mark(kind, 0, read_at=now, full=full)
        return self.store.load(kind)

    @staticmethod
    def _since(mark, now: dt.datetime) -> TimeRange:
        return TimeRange(mark.changes_from - CHANGES_OVERLAP, now + RANGE_END_MARGIN)

    def _read_project(self, project_id: int) -> None:
        """Every commitment and subcontractor invoice of one project (3 calls)."""
        now = timezone.now()
        self._refusals.pop(project_id, None)
        try:
            commitments = self.client.commitments(project_id)
        except DataError as exc:
            self._refuse_or_raise(project_id, "Commitments tool", exc)
        else:
            self._replace_project(Kind.COMMITMENT, self._commitments, project_id, commitments, now)
        try:
            requisitions = self.client.requisitions(project_id=project_id)
        except DataError as exc:
            self._refuse_or_raise(project_id, "Invoicing tool", exc)
        else:
            self._replace_project(Kind.REQUISITION, self._requisitions, project_id, requisitions, now)
        self._fresh_commitments.add(project_id)
        self._fresh_invoices.add(project_id)
        if project_id in self._refusals:
            self.store.save_refusal(project_id, dataclasses.asdict(self._refusals[project_id]))
        else:
            self.store.clear_refusal(project_id)

    def _replace_project(self, kind: str, held: dict, project_id: int, objects: list, now: dt.datetime) -> None:
        for gone in [k for k, v in held.items() if v.project_id == project_id]:
            del held[gone]
        held.update((o.id, o) for o in objects)
        self.store.replace(kind, objects, project_id=project_id)
        self._marks[(kind, project_id)] = self.store.set_mark(kind, project_id, read_at=now, full=True)
        self._maps = None

    def _read_changes(self, kind: str, project_id: int) -> bool:
        """The objects of `kind` of a project that changed since they were last read. Whether any
        did. A project never read, or refused before, is read in full instead."""
        mark = self._marks.get((kind, project_id))
        if mark is None or project_id in self._refusals:
            self._read_project(project_id)
            return True
        now = timezone.now()
        held = self._commitments if kind == Kind.COMMITMENT else self._requisitions
        changed = self._since(mark, now)
        try:
            if kind == Kind.COMMITMENT:
                found = self.client.commitments(project_id, changed=changed)
            else:
                found = self.client.requisitions(project_id=project_id, changed=changed)
        except DataError as exc:
            self._refuse_or_raise(project_id, "Commitments tool" if kind == Kind.COMMITMENT else "Invoicing tool", exc)
            self.store.save_refusal(project_id, dataclasses.asdict(self._refusals[project_id]))
            return True
        new = [o for o in found if held.get(o.id) != o]
        held.update((o.id, o) for o in new)
        self.store.save(kind, new)
        self._marks[(kind, project_id)] = self.store.set_mark(kind, project_id, read_at=now, full=False)
        if new:
            self._maps = None
        return bool(new)

    def refresh_invoices(self, project_id: int) -> bool:
        """Bring one project's subcontractor invoices up to date, once per run (one call).
        Whether anything changed."""
        self._load()
        if project_id in self._fresh_invoices or project_id not in self._projects:
            return False
        self._fresh_invoices.add(project_id)
        return self._read_changes(Kind.REQUISITION, project_id)

    def refresh_commitments(self, project_id: int) -> bool:
        """Bring one project's commitments up to date, once per run (two calls)."""
        self._load()
        if project_id in self._fresh_commitments or project_id not in self._projects:
            return False
        self._fresh_commitments.add(project_id)
        return self._read_changes(Kind.COMMITMENT, project_id)

    def look_wider(self, vendor_id: int, matched: Callable[[], bool]) -> bool:
        """A bill of this vendor matched nothing kept: read the changes of the vendor's projects,
        most recently invoiced first, until `matched()`. Once per vendor and run. Whether any
        project had changes."""
        self._load()
        if vendor_id in self._widened:
            return False
        self._widened.add(vendor_id)
        changed = False
        for project_id in self._projects_of_vendor(vendor_id):
            for refresh in (self.refresh_invoices, self.refresh_commitments):
                if refresh(project_id):
                    changed = True
                    if matched():
                        return True
        return changed

    def _projects_of_vendor(self, vendor_id: int) -> list[int]:
        known = {c.project_id for c in self.commitments_of_vendor(vendor_id)}
        try:
            listed = {p.id for p in self.client.projects(vendor_id=vendor_id)}
        except DataError:
            listed = set()
        if not listed and known:
            name = self._vendors.get(vendor_id)
            self.log(
                f"Procore listed no project for vendor {name.name if name else vendor_id} (filters[vendor_id]), "
                f"though {len(known)} project(s) hold its commitments here: those were looked through."
            )
        last_invoiced: dict[int, int] = defaultdict(int)
        for r in self._requisitions.values():
            if (c := self._commitments.get(r.commitment_id)) is not None and c.vendor_id == vendor_id:
                last_invoiced[r.project_id] = max(last_invoiced[r.project_id], r.id)
        candidates = [p for p in known | listed if p in self._projects]
        return sorted(candidates, key=lambda p: (-last_invoiced[p], p))

    # --- vendors and projects ------------------------------------------------------------------

    def vendors(self) -> dict[int, ProcoreVendor]:
        self._load()
        return self._vendors

    def add_vendor(self, vendor: ProcoreVendor) -> None:
        self.vendors()[vendor.id] = vendor
        self.store.save(Kind.VENDOR, [vendor])

    def projects(self) -> dict[int, ProcoreProject]:
        self._load()
        return self._projects

    # --- commitments and subcontractor invoices -----------------------------------------------

    def commitments(self) -> dict[int, ProcoreCommitment]:
        """Every commitment kept (all statuses, not deleted) of the projects Procore showed."""
        self._load()
        return self._commitments

    def commitment(self, commitment_id: int, *, project_id: int | None = None) -> ProcoreCommitment | None:
        """A listed commitment, or a deleted one of `project_id` (read on first need), or None."""
        found = self.commitments().get(commitment_id)
        if found is None and project_id is not None:
            found = self.deleted_commitment(commitment_id, project_id=project_id)
        return found

    def deleted_commitment(self, commitment_id: int, *, project_id: int) -> ProcoreCommitment | None:
        return self._deleted_in(project_id).get(commitment_id)

    def deleted_of_vendor(self, vendor_id: int, *, projects: set[int]) -> list[ProcoreCommitment]:
        """The vendor's deleted commitments on `projects` and on the projects of its listed ones;
        on every project when that names none (a vendor left with deleted commitments only)."""
        projects = projects | {c.project_id for c in self.commitments_of_vendor(vendor_id)}
        if not projects:
            projects = set(self.projects())
        return [c for p in sorted(projects) for c in self._deleted_in(p).values() if c.vendor_id == vendor_id]

    def _deleted_in(self, project_id: int) -> dict[int, ProcoreCommitment]:
        """Deleted commitments of one project: two calls, once per run, only when a bill points at
        something the kept lists do not hold."""
        if project_id not in self._deleted:
            found: dict[int, ProcoreCommitment] = {}
            if project_id in self.projects() and project_id not in self._refusals:
                try:
                    found = {c.id: c for c in self.client.commitments(project_id, deleted=True)}
                except DataError as exc:
                    self._refuse_or_raise(project_id, "Commitments tool", exc)
            self._deleted[project_id] = found
        return self._deleted[project_id]

    def commitments_of_vendor(self, vendor_id: int) -> list[ProcoreCommitment]:
        return self._lookups().by_vendor.get(vendor_id, [])

    def requisition(self, requisition_id: int) -> ProcoreRequisition | None:
        self._load()
        return self._requisitions.get(requisition_id)

    def requisition_by_origin(self, origin_id: str) -> ProcoreRequisition | None:
        return self._lookups().by_origin.get(origin_id)

    def requisitions_by_invoice_number(self, invoice_number: str) -> list[ProcoreRequisition]:
        return self._lookups().by_number.get(normalise_invoice_number(invoice_number), [])

    def _lookups(self) -> _Lookups:
        self._load()
        if self._maps is None:
            self._maps = _Lookups.of(self._commitments.values(), self._requisitions.values())
        return self._maps

    # --- payments already on a commitment ------------------------------------------------------

    def payments_on(self, *, project_id: int, commitment_id: int) -> dict[str, ProcorePayment]:
        """Existing payments of the commitment by origin_id, read once per run."""
        if commitment_id in self._refused:
            raise self._refused[commitment_id]
        if commitment_id not in self._payments:
            self.reload_payments(project_id=project_id, commitment_id=commitment_id)
        return self._payments[commitment_id]

    def reload_payments(self, *, project_id: int, commitment_id: int) -> dict[str, ProcorePayment]:
        """The commitment as Procore shows it now (RestV10CommitmentsIdGet): its status, kept, and
        the payments issued on it. Those lack `requisition_id`: ours are looked up in our rows; a
        commitment holding any payment not ours (typed in by hand, another integration) has its
        payments list read too, to tell which invoice each is on."""
        try:
            shown, payments = self.client.commitment(commitment_id, project_id=project_id)
            ours = self._our_invoices([p.origin_id for p in payments if p.origin_id])
            if all(p.origin_id in ours for p in payments):
                payments = [dataclasses.replace(p, requisition_id=ours[p.origin_id]) for p in payments]
            else:
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
        self._keep_shown(shown)
        self._payments[commitment_id] = {p.origin_id: p for p in payments if p.origin_id}
        self._unkeyed[commitment_id] = [p for p in payments if not p.origin_id]
        return self._payments[commitment_id]

    def _our_invoices(self, origin_ids: list[str]) -> dict[str, int | None]:
        """For payments we sent: the subcontractor invoice each went to, by origin_id."""
        rows = Payment.objects.filter(integration=self.store.integration, xero_payment_id__in=origin_ids)
        return dict(rows.values_list("xero_payment_id", "procore_requisition_id"))

    def _keep_shown(self, shown: ProcoreCommitment) -> None:
        """The status a commitment's show states replaces the kept one (the rest of the kept row,
        read from the typed list, stays: the show may state less)."""
        kept = self.commitments().get(shown.id)
        if kept is None or not shown.status or kept.status == shown.status:
            return
        updated = dataclasses.replace(kept, status=shown.status)
        self._commitments[shown.id] = updated
        self.store.save(Kind.COMMITMENT, [updated])
        self._maps = None

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
        """Projects Procore refused (in part), by id."""
        self._load()
        return self._refusals

    def refusal(self, project_id: int | None) -> ProjectRefusal | None:
        if project_id is None:
            return None
        return self.refusals().get(project_id)

    def all_refusals(self) -> list[ProjectRefusal]:
        return sorted(self.refusals().values(), key=lambda r: r.name.casefold())

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
        project = self._projects.get(project_id)
        refusal = self._refusals.get(project_id)
        if refusal is None:
            name = project.name if project else f"#{project_id}"
            refusal = self._refusals[project_id] = ProjectRefusal(project_id, name, message=exc.message)
        if what not in refusal.refused:
            refusal.refused.append(what)
        return refusal


@dataclass
class _Lookups:
    """The kept commitments and invoices by the keys the resolver looks them up by."""

    by_vendor: dict[int, list[ProcoreCommitment]]
    by_origin: dict[str, ProcoreRequisition]
    by_number: dict[str, list[ProcoreRequisition]]

    @classmethod
    def of(cls, commitments, requisitions) -> _Lookups:
        by_vendor: dict[int, list[ProcoreCommitment]] = defaultdict(list)
        for commitment in commitments:
            if commitment.vendor_id is not None:
                by_vendor[commitment.vendor_id].append(commitment)
        by_number: dict[str, list[ProcoreRequisition]] = defaultdict(list)
        by_origin: dict[str, ProcoreRequisition] = {}
        for requisition in sorted(requisitions, key=lambda r: r.id):
            if requisition.origin_id:
                by_origin[requisition.origin_id] = requisition
            if requisition.invoice_number:
                by_number[normalise_invoice_number(requisition.invoice_number)].append(requisition)
        return cls(by_vendor, by_origin, by_number)


def normalise_invoice_number(number: str) -> str:
    return "".join(number.split()).casefold()

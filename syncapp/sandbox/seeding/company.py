"""A large general contractor on demand (`sandbox_seed --projects 500 --commitments 5000 --invoices
20000`): the size at which reads must follow the change, not the company.

The shape, from how a general contractor's books look:
- Projects P-1001... with distinct names; each vendor works on a few of them (1-5, mostly 2-3),
  never on all; every vendor is a Xero supplier contact linked by origin_id (and the same ABN).
- Commitments: about four per vendor, mostly Approved (some Complete, a few Draft, Out For
  Signature, Terminated or Void); work orders or purchase orders by the vendor's trade (about 70/30).
- Subcontractor invoices (requisitions) only on Approved and Complete commitments, monthly claims
  going back from the base date, a few commitments claiming much more often than others. Older
  claims are approved, a commitment's latest claim is often still in review. Every approved claim
  has an invoice number (a few entered without one) and, when it has one, its Xero bill: the same
  supplier, number and total, AUTHORISED, tracked to the project.
- `payments` Xero payments, each paying one approved bill in full (-> sent by the product).

Deterministic like the default world: the same sizes and seed give the same rows.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from syncapp.sandbox.procore import models as pc
from syncapp.sandbox.seeding import names
from syncapp.sandbox.seeding.builder import Bill, Supplier, WorldBuilder
from syncapp.sandbox.seeding.world import Recorder
from syncapp.sandbox.xero import models as xr

MAX_PROJECTS_PER_VENDOR = 5
PROJECTS_PER_VENDOR = [1, 2, 2, 3, 3, 3, 4, 5]  # drawn from, capped by the vendor's commitments
COMMITMENT_STATUSES = {"Approved": 82, "Complete": 6, "Draft": 4, "Out For Signature": 3, "Terminated": 2, "Void": 3}
PAYABLE = ("Approved", "Complete")  # the only commitments that take invoices and payments
PENDING = ["under_review", "revise_and_resubmit", "pending_owner_approval", "draft"]
CLAIM_INTERVAL_DAYS = 30
MAX_CLAIM_WEIGHT = 5.0


@dataclass(frozen=True)
class CompanySize:
    projects: int
    commitments: int
    invoices: int
    vendors: int
    payments: int

    @classmethod
    def of(
        cls, *, projects: int, commitments: int, invoices: int, vendors: int | None = None, payments: int = 300
    ) -> CompanySize:
        """The size asked for, with the default of about four commitments per vendor; ValueError
        when it cannot be built."""
        vendors = max(1, commitments // 4) if vendors is None else vendors
        most_vendors = len(names.PREFIXES) * len(names.TRADES) * len(names.SUPPLIER_SUFFIXES)
        if min(projects, commitments, vendors) < 1 or min(invoices, payments) < 0:
            raise ValueError("Projects, commitments and vendors must be at least 1; invoices and payments at least 0.")
        if commitments < max(projects, vendors):
            raise ValueError("Ask for at least one commitment per project and per vendor.")
        if vendors > most_vendors:
            raise ValueError(f"At most {most_vendors:,} vendors have distinct names.")
        if payments > invoices:
            raise ValueError("Each payment pays one approved invoice: ask for more invoices than payments.")
        return cls(projects, commitments, invoices, vendors, payments)


def build_company(
    *, size: CompanySize, seed: int, base_date: dt.date, organisation: xr.Organisation, company: pc.Company
) -> tuple[WorldBuilder, Recorder]:
    b = WorldBuilder(seed=seed, base_date=base_date, organisation=organisation, company=company)
    recorder = Recorder()
    for index, name in enumerate(names.project_names(size.projects, b.rng)):
        b.add_project(name=name, number=f"P-{1001 + index}")
    suppliers = _suppliers(b, size.vendors)
    recorder.cases["origin_id_match"] = [str(s.contact.contact_id) for s in suppliers]
    commitments = _commitments(b, suppliers, size.commitments)
    bills = _invoices(b, commitments, size.invoices)
    _payments(b, recorder, bills, size.payments)
    b.finish()
    return b, recorder


def _suppliers(b: WorldBuilder, count: int) -> list[Supplier]:
    return [
        b.add_supplier(name=name + (" Pty Ltd" if b.rng.random() < 0.5 else ""), trade=trade, kind=kind, projects=[])
        for name, trade, kind in names.supplier_combos(b.rng)[:count]
    ]


def _commitments(b: WorldBuilder, suppliers: list[Supplier], count: int) -> list[tuple[Supplier, pc.Commitment]]:
    """`count` commitments: one per supplier, the rest spread evenly-ish (no vendor holds a
    hundred), each supplier's on a few projects dealt from a shuffled deck so every project is
    reached before any is dealt twice."""
    weights = [b.rng.uniform(0.5, 1.5) for _ in suppliers]
    extra = Counter(b.rng.choices(range(len(suppliers)), weights, k=count - len(suppliers)))
    statuses, status_weights = list(COMMITMENT_STATUSES), list(COMMITMENT_STATUSES.values())
    deck: list[pc.Project] = []
    made = []
    for index, supplier in enumerate(suppliers):
        held = 1 + extra[index]
        spread = min(held, len(b.projects), MAX_PROJECTS_PER_VENDOR, b.rng.choice(PROJECTS_PER_VENDOR))
        projects = _deal(b, deck, spread)
        for number in range(held):
            project = projects[number % spread]
            status = b.rng.choices(statuses, status_weights)[0]
            commitment = b.add_commitment(
                vendor=supplier.vendor, project=project, kind=_kind(b, supplier), trade=supplier.trade, status=status
            )
            if status in PAYABLE:
                supplier.commitments.setdefault(project.id, []).append(commitment)
            made.append((supplier, commitment))
    return made


def _kind(b: WorldBuilder, supplier: Supplier) -> str:
    """The trade's usual kind, and now and then the other (a subcontractor's supply-only order)."""
    usual = next(kind for trade, kind in names.TRADES if trade == supplier.trade)
    if b.rng.random() < 0.9:
        return usual
    return names.PURCHASE_ORDER if usual == names.WORK_ORDER else names.WORK_ORDER


def _deal(b: WorldBuilder, deck: list[pc.Project], count: int) -> list[pc.Project]:
    """`count` distinct projects off the deck, refilled (reshuffled) when it runs out."""
    dealt: list[pc.Project] = []
    while len(dealt) < count:
        if not deck:
            deck.extend(b.rng.sample(b.projects, len(b.projects)))
        project = deck.pop()
        if project not in dealt:
            dealt.append(project)
    return dealt


def _invoices(b: WorldBuilder, commitments: list[tuple[Supplier, pc.Commitment]], count: int) -> list[Bill]:
    """`count` claims on the payable commitments, monthly going back from the base date; returns
    the bills of the approved ones."""
    payable = [(s, c) for s, c in commitments if c.status in PAYABLE]
    if count and not payable:
        raise ValueError("No commitment is Approved or Complete to take invoices: ask for more commitments.")
    # A few commitments claim far more often (capped: no claim history older than about 2 years).
    weights = [min(b.rng.paretovariate(2.5), MAX_CLAIM_WEIGHT) for _ in payable]
    claims = Counter(b.rng.choices(range(len(payable)), weights, k=count)) if count else Counter()
    bills = []
    for index in sorted(claims):
        supplier, commitment = payable[index]
        for back in reversed(range(claims[index])):  # oldest first, so numbers follow dates
            day = b.base_date - dt.timedelta(days=CLAIM_INTERVAL_DAYS * back + b.rng.randrange(3, 13))
            bill = _claim(b, supplier, commitment, day=day, latest=back == 0)
            if bill is not None:
                bills.append(bill)
    return bills


def _claim(
    b: WorldBuilder, supplier: Supplier, commitment: pc.Commitment, *, day: dt.date, latest: bool
) -> Bill | None:
    """One subcontractor invoice; approved ones with a number come with their Xero bill."""
    pending_share = 0.0 if commitment.status == "Complete" else (0.4 if latest else 0.03)
    if b.rng.random() < pending_share:
        b.add_requisition(
            commitment=commitment,
            invoice_number=supplier.invoice_number(),
            day=day,
            amount=b.money(2_000, 120_000),
            status=b.rng.choice(PENDING),
        )
        return None
    if b.rng.random() < 0.01:  # approved in Procore without the supplier's number: no bill to match
        b.add_requisition(commitment=commitment, invoice_number="", day=day, amount=b.money(2_000, 120_000))
        return None
    return b.add_bill(supplier, day=day, commitment=commitment)


def _payments(b: WorldBuilder, recorder: Recorder, bills: list[Bill], count: int) -> None:
    if count > len(bills):
        raise ValueError(f"Only {len(bills):,} approved bills to pay: ask for fewer payments or more invoices.")
    for bill in b.rng.sample(bills, count):
        day = min(bill.invoice.date + dt.timedelta(days=b.rng.randrange(7, 45)), b.base_date)
        recorder.payment("full", b.pay(bill, amount=bill.invoice.total, day=day), "sent")

"""Composes the seeded world: the supplier pool, every real-world case, the ordinary payments that
fill up to the requested number, and the quiet records (unpaid bills, pending claims) around them.

What each case is and what the product should do with it is documented in
`syncapp.sandbox.seed`; this module only builds them and records which ids belong to which case.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal

from syncapp.sandbox.procore import models as pc
from syncapp.sandbox.seeding import names
from syncapp.sandbox.seeding.builder import HISTORY_DAYS, OTHER_COMMITMENT_STATUSES, Bill, Supplier, WorldBuilder, cents
from syncapp.sandbox.xero import models as xr
from syncapp.sandbox.xero import payloads

CASES = (
    "full", "partial", "batch", "reversal", "foreign_currency", "name_mismatch", "tax_number_match",
    "origin_id_match", "no_vendor", "no_invoice", "ambiguous_invoice", "requisition_origin_id",
    "other_payment_types", "incomplete", "draft_bill", "overpayment_guard", "already_in_procore",
    "paid_and_credited", "settled_by_allocation", "project_refused", "commitment_not_payable",
)  # fmt: skip

# Cases whose natural key is the contact (cases[...] holds ContactIDs; their payments are in
# Recorder.contact_payments) and the one keyed by bill. Every other case holds PaymentIDs.
CONTACT_CASES = ("name_mismatch", "tax_number_match", "origin_id_match", "no_vendor")
BILL_CASES = ("draft_bill", "settled_by_allocation")

# Payments the special cases make, whatever N is: the world needs at least this many plus the
# nine ordinary payments that guarantee "full", "partial" and "batch".
SPECIAL_PAYMENTS = 27
MIN_PAYMENTS = SPECIAL_PAYMENTS + 9


@dataclass
class Recorder:
    """Which ids belong to which case, and what the product should end up doing with each payment."""

    cases: dict[str, list[str]] = field(default_factory=lambda: {name: [] for name in CASES})
    contact_payments: dict[str, list[str]] = field(default_factory=dict)
    expected: dict[str, str] = field(default_factory=dict)  # PaymentID -> sent|blocked|ignored|already_sent

    def payment(self, case: str, payment: xr.Payment, outcome: str) -> None:
        self.cases[case].append(str(payment.payment_id))
        self.expected[str(payment.payment_id)] = outcome

    def contact_payment(self, case: str, payment: xr.Payment, outcome: str) -> None:
        self.contact_payments.setdefault(case, []).append(str(payment.payment_id))
        self.expected[str(payment.payment_id)] = outcome


@dataclass
class Specials:
    name_mismatch: list[Supplier]
    tax_number_match: list[Supplier]
    no_vendor: Supplier
    foreign: Supplier
    several_commitments: Supplier  # for no_invoice and incomplete: no single commitment to pick
    ambiguous: Supplier
    customer: xr.Contact


def build_world(
    *, payments: int, seed: int, base_date: dt.date, organisation: xr.Organisation, company: pc.Company
) -> tuple[WorldBuilder, Recorder]:
    if payments < MIN_PAYMENTS:
        raise ValueError(f"The seeded world needs at least {MIN_PAYMENTS} payments to hold every case.")
    builder = WorldBuilder(seed=seed, base_date=base_date, organisation=organisation, company=company)
    recorder = Recorder()
    # Scale mildly: ~10 projects and ~100 vendors at 10,000 payments, so commitments stay well
    # below N/20 (the sync engine reads each commitment's payments once per run).
    builder.add_projects(min(len(names.PROJECT_NAMES), 3 + int(math.sqrt(payments) / 14)))
    ordinary = _ordinary_suppliers(builder, count=min(110, max(10, payments // 100)))
    specials = _special_suppliers(builder)
    _procore_only_vendors(builder)
    recorder.cases["origin_id_match"] = [str(s.contact.contact_id) for s in ordinary]
    _special_cases(builder, recorder, ordinary, specials)
    _procore_refusals(builder, recorder)
    assert len(builder.payments) == SPECIAL_PAYMENTS, "update SPECIAL_PAYMENTS with the cases"
    _ordinary_payments(builder, recorder, ordinary, payments - len(builder.payments))
    _quiet_records(builder, ordinary, bills=max(2, payments // 100))
    builder.finish()
    return builder, recorder


# --- suppliers ------------------------------------------------------------------------------------


def _ordinary_suppliers(b: WorldBuilder, *, count: int) -> list[Supplier]:
    combos = [(prefix, trade, kind) for prefix in names.PREFIXES for trade, kind in names.TRADES]
    suppliers = []
    for prefix, trade, kind in b.rng.sample(combos, count):
        name = f"{prefix} {trade}" + (" Pty Ltd" if b.rng.random() < 0.5 else "")
        projects = b.rng.sample(b.projects, k=min(len(b.projects), b.rng.choice([1, 2, 2, 3])))
        per_project = 2 if b.rng.random() < 0.15 else 1
        supplier = b.add_supplier(
            name=name, trade=trade, kind=kind, projects=projects, commitments_per_project=per_project
        )
        if b.rng.random() < 0.15:  # a commitment that never got (or no longer is) approved
            status = b.rng.choice(OTHER_COMMITMENT_STATUSES)
            b.add_commitment(
                vendor=supplier.vendor, project=b.rng.choice(b.projects), kind=kind, trade=trade, status=status
            )
        suppliers.append(supplier)
    return suppliers


def _special_suppliers(b: WorldBuilder) -> Specials:
    wo, po = names.WORK_ORDER, names.PURCHASE_ORDER
    first, second = b.projects[0], b.projects[1]

    def supplier(name: str, trade: str, kind: str = wo, **kwargs) -> Supplier:
        kwargs.setdefault("projects", [first])
        return b.add_supplier(name=name, trade=trade, kind=kind, **kwargs)

    customer = xr.Contact(
        organisation=b.organisation,
        contact_id=b.uuid(),
        name="Harbour Tower Developments Pty Ltd",
        tax_number=b.abn(),
        is_supplier=False,
        is_customer=True,
        updated_at=b.moment(b.days_ago(300, 700)),
    )
    b.contacts.append(customer)
    return Specials(
        # Xero name first, Procore name second: "&" vs "and", a "Pty Ltd" suffix, case.
        name_mismatch=[
            supplier("Harbour and Co Tiling", "Tiling", vendor_name="Harbour & Co Tiling", link="none"),
            supplier("Ridgeline Scaffolding Pty Ltd", "Scaffolding", vendor_name="Ridgeline Scaffolding", link="none"),
            supplier("SUMMIT GLAZING", "Glazing", vendor_name="Summit Glazing", link="none"),
        ],
        # Legal name in Xero, trading name in Procore: only the ABN ties them.
        tax_number_match=[
            supplier(
                "Apex Crane Hire Australia Pty Ltd", "Crane Hire", po, vendor_name="Apex Cranes", link="tax_number"
            ),
            supplier("QRA Group Pty Ltd", "Aggregates", po, vendor_name="Quarry Road Aggregates", link="tax_number"),
        ],
        no_vendor=supplier("Bluegum Landscaping Supplies", "Landscaping", po, link="no_vendor"),
        foreign=supplier("Pacific Steel Imports Inc", "Structural Steel", po),
        several_commitments=supplier(
            "Keystone Civil Pty Ltd", "Civil Works", projects=[first, second], commitments_per_project=2
        ),
        ambiguous=supplier("Dunmore Electrical Services", "Switchboards", commitments_per_project=2),
        customer=customer,
    )


def _procore_only_vendors(b: WorldBuilder) -> None:
    """Vendors Procore knows that never bill through Xero (consultants paid elsewhere)."""
    for name in ("Tallowwood Surveying", "Brightwater Hygiene Consultants"):
        b.vendors.append(pc.Vendor(id=b.procore_id(), company=b.company, name=name, business_id=b.abn()))


# --- the cases ------------------------------------------------------------------------------------


def _full_bill(b: WorldBuilder, supplier: Supplier, day: dt.date, **bill_kwargs) -> tuple[Bill, xr.Payment]:
    bill = b.add_bill(supplier, day=day - dt.timedelta(days=b.rng.randrange(5, 45)), **bill_kwargs)
    return bill, b.pay(bill, amount=bill.invoice.total, day=day)


def _special_cases(b: WorldBuilder, r: Recorder, ordinary: list[Supplier], s: Specials) -> None:
    pick = b.rng.choice
    # already_in_procore: an earlier run sent it (origin_id = PaymentID on the Procore payment).
    for _ in range(2):
        bill, payment = _full_bill(b, pick(ordinary), b.days_ago(30, 100))
        b.add_hand_entered_payment(
            requisition=bill.requisition, amount=payment.amount, day=payment.date, origin=payment
        )
        r.payment("already_in_procore", payment, "already_sent")

    # reversal: a wrong amount entered, deleted three days later, re-entered correctly.
    day = b.days_ago(10, 90)
    bill = b.add_bill(pick(ordinary), day=day - dt.timedelta(days=14))
    deleted_at = b.moment(day + dt.timedelta(days=3))
    wrong = b.pay(
        bill, amount=cents(bill.invoice.total * Decimal("0.9")), day=day, status="DELETED", updated_at=deleted_at
    )
    right = b.pay(
        bill, amount=bill.invoice.total, day=deleted_at.date(), updated_at=deleted_at + dt.timedelta(minutes=7)
    )
    r.payment("reversal", wrong, "ignored")
    r.payment("reversal", right, "sent")

    _, payment = _full_bill(b, s.foreign, b.payment_day(), currency="USD", rate=Decimal("0.652300"))
    r.payment("foreign_currency", payment, "blocked")

    for case, suppliers, outcome in (
        ("name_mismatch", s.name_mismatch, "blocked"),
        ("tax_number_match", s.tax_number_match, "sent"),
    ):
        for supplier in suppliers:
            r.cases[case].append(str(supplier.contact.contact_id))
            r.contact_payment(case, _full_bill(b, supplier, b.payment_day())[1], outcome)

    r.cases["no_vendor"].append(str(s.no_vendor.contact.contact_id))
    for _ in range(2):
        r.contact_payment("no_vendor", _full_bill(b, s.no_vendor, b.payment_day())[1], "blocked")

    # no_invoice: the number is in no Procore claim, and the tracked project holds two of the
    # vendor's commitments, so no commitment can be picked either.
    crowded = s.several_commitments.commitments[b.projects[0].id][0]
    _, payment = _full_bill(b, s.several_commitments, b.payment_day(), commitment=crowded, requisition=False)
    r.payment("no_invoice", payment, "blocked")
    _, payment = _full_bill(
        b, s.several_commitments, b.payment_day(), commitment=crowded, requisition=False, invoice_number=""
    )
    r.payment("incomplete", payment, "blocked")

    first, second = s.ambiguous.commitments[b.projects[0].id]
    bill, payment = _full_bill(b, s.ambiguous, b.payment_day(), commitment=first)
    b.add_requisition(
        commitment=second,
        invoice_number=bill.invoice.invoice_number,
        day=bill.invoice.date,
        amount=bill.requisition.total_amount,
    )
    r.payment("ambiguous_invoice", payment, "blocked")

    # requisition_origin_id: the claim was created from the bill, its own invoice number left blank.
    _, payment = _full_bill(
        b, pick(ordinary), b.payment_day(), requisition_origin_id=True, requisition_invoice_number=""
    )
    r.payment("requisition_origin_id", payment, "sent")

    for payment in _other_payment_types(b, pick(ordinary), s.customer):
        r.payment("other_payment_types", payment, "ignored")

    draft = b.add_bill(pick(ordinary), day=b.days_ago(0, 20), status="DRAFT")
    r.cases["draft_bill"].append(str(draft.invoice.invoice_id))

    # overpayment_guard: someone typed 60% into Procore by hand; Xero now pays 50%.
    day = b.days_ago(5, 60)
    bill = b.add_bill(pick(ordinary), day=day - dt.timedelta(days=30))
    b.add_hand_entered_payment(
        requisition=bill.requisition, amount=cents(bill.invoice.total * Decimal("0.6")), day=day - dt.timedelta(days=10)
    )
    r.payment("overpayment_guard", b.pay(bill, amount=cents(bill.invoice.total * Decimal("0.5")), day=day), "blocked")

    _allocations(b, r, ordinary)


def _allocations(b: WorldBuilder, r: Recorder, ordinary: list[Supplier]) -> None:
    """Bills settled in part or whole by allocating a supplier credit note, prepayment or
    overpayment (no Payment row for that part): paid_and_credited holds the PaymentIDs of bills
    paid for the rest (-> sent, and the bill shows why Procore has less than its total);
    settled_by_allocation holds the InvoiceIDs of bills settled by allocations alone (-> no
    payment at all, the bill is kept with its allocations)."""
    pick = b.rng.choice
    for kind, number, share in ((payloads.CREDIT_NOTE, "CN-0042", "0.25"), (payloads.PREPAYMENT, "", "0.40")):
        day = b.days_ago(5, 60)
        bill = b.add_bill(pick(ordinary), day=day - dt.timedelta(days=20))
        credit = cents(bill.invoice.total * Decimal(share))
        b.allocate(bill, kind=kind, amount=credit, day=day - dt.timedelta(days=3), number=number)
        r.payment("paid_and_credited", b.pay(bill, amount=bill.invoice.amount_due, day=day), "sent")
    day = b.days_ago(5, 60)
    bill = b.add_bill(pick(ordinary), day=day - dt.timedelta(days=20))
    first = cents(bill.invoice.total * Decimal("0.7"))
    b.allocate(bill, kind=payloads.CREDIT_NOTE, amount=first, day=day, number="CN-0043")
    b.allocate(bill, kind=payloads.OVERPAYMENT, amount=bill.invoice.amount_due, day=day + dt.timedelta(days=1))
    r.cases["settled_by_allocation"].append(str(bill.invoice.invoice_id))


def _procore_refusals(b: WorldBuilder, r: Recorder) -> None:
    """What a real Procore company refuses the product (after every other case, so the projects
    added here are never drawn for an ordinary supplier):

    - project_refused: a project the service account is not in (hidden from its project list, 403
      on every call naming it) and one whose Commitments tool is off for it (403 on its
      commitments and payments), each with a supplier whose only commitment is there and a paid
      bill tracked to it. -> blocked "no access to project X in Procore", the run goes on.
    - commitment_not_payable: a bill whose approved claim is on a Void subcontract, and a bill whose
      reference names a deleted subcontract (no claim). -> blocked with the status, never sent.
    """
    wo = names.WORK_ORDER
    start = 1001 + len(b.projects)
    for offset, (name, refused, supplier_name, trade) in enumerate(
        (
            ("Kingfisher Quay Apartments", "project", "Firetail Hoists Pty Ltd", "Hoists"),
            ("Mill Lane Depot", "commitments", "Mulga Rock Anchoring", "Rock Anchoring"),
        )
    ):
        project = b.add_project(name=name, number=f"P-{start + offset}", refused_tools=refused)
        supplier = b.add_supplier(name=supplier_name, trade=trade, kind=wo, projects=[project])
        r.payment("project_refused", _full_bill(b, supplier, b.payment_day())[1], "blocked")

    first, second = b.projects[0], b.projects[1]
    void = b.add_supplier(name="Corbel Stonemasonry", trade="Stonemasonry", kind=wo, projects=[])
    commitment = b.add_commitment(vendor=void.vendor, project=first, kind=wo, trade="Stonemasonry", status="Void")
    void.commitments[first.id] = [commitment]
    r.payment("commitment_not_payable", _full_bill(b, void, b.payment_day(), commitment=commitment)[1], "blocked")

    gone = b.add_supplier(name="Quandong Tiled Facades", trade="Facades", kind=wo, projects=[second])
    commitment = gone.commitments[second.id][0]
    commitment.deleted_at = b.moment(b.days_ago(130, 200))
    bill, payment = _full_bill(b, gone, b.payment_day(), commitment=commitment, requisition=False)
    bill.invoice.reference = f"{commitment.number} progress claim"
    r.payment("commitment_not_payable", payment, "blocked")


def _other_payment_types(b: WorldBuilder, supplier: Supplier, customer: xr.Contact) -> list[xr.Payment]:
    """Money that moved but is not a payment of a supplier bill."""
    contact = {"ContactID": str(supplier.contact.contact_id), "Name": supplier.contact.name}
    payments = []
    for payment_type, key, document in (
        ("APCREDITPAYMENT", "CreditNote", {"Type": "ACCPAYCREDIT", "CreditNoteNumber": "CN-0042"}),
        ("APPREPAYMENTPAYMENT", "Prepayment", {"Type": "SPEND-PREPAYMENT"}),
        ("APOVERPAYMENTPAYMENT", "Overpayment", {"Type": "SPEND-OVERPAYMENT"}),
    ):
        amount = b.money(150, 5_000)
        document = {
            f"{key}ID": str(b.uuid()),
            **document,
            "Contact": contact,
            "Status": "PAID",
            "CurrencyCode": "AUD",
            "Total": float(amount),
        }
        payments.append(
            b.add_other_payment(payment_type=payment_type, document={key: document}, amount=amount, day=b.payment_day())
        )
    payments.append(_customer_payment(b, customer))
    return payments


def _customer_payment(b: WorldBuilder, customer: xr.Contact) -> xr.Payment:
    """The client paying our progress claim: an ACCREC invoice and its ACCRECPAYMENT."""
    day = b.payment_day()
    sub_total = b.money(150_000, 900_000)
    tax = cents(sub_total * Decimal("0.10"))
    invoice = xr.Invoice(
        organisation=b.organisation,
        invoice_id=b.uuid(),
        type="ACCREC",
        contact=customer,
        invoice_number="INV-0042",
        reference=f"Progress claim 5 - {b.projects[0].name}",
        status="AUTHORISED",
        date=day - dt.timedelta(days=30),
        due_date=day,
        sub_total=sub_total,
        total_tax=tax,
        total=sub_total + tax,
        amount_due=sub_total + tax,
        line_items=[
            {
                "Description": "Progress claim 5",
                "Quantity": 1.0,
                "UnitAmount": float(sub_total),
                "LineAmount": float(sub_total),
                "AccountCode": "200",
                "TaxType": "OUTPUT",
                "TaxAmount": float(tax),
            }
        ],
        updated_at=b.moment(day - dt.timedelta(days=30)),
    )
    b.invoices.append(invoice)
    payment = b.pay(Bill(invoice=invoice, supplier=None), amount=invoice.total, day=day)  # type: ignore[arg-type]
    payment.payment_type = "ACCRECPAYMENT"
    return payment


# --- ordinary payments ----------------------------------------------------------------------------


def _ordinary_payments(b: WorldBuilder, r: Recorder, suppliers: list[Supplier], count: int) -> None:
    """Sendable payments (vendor linked by origin_id, exactly one approved claim with the bill's
    number) until `count` is reached: single full payments, 2-3 partial payments on one bill, and
    batch runs paying several bills at once."""
    weights = [b.rng.paretovariate(1.5) for _ in suppliers]  # a few suppliers bill a lot
    forced = [("batch", 3), ("partial", 3), ("partial", 2), ("full", 1)]  # every shape, even for small N
    remaining = count
    while remaining > 0:
        shape, size = forced.pop(0) if forced else _random_shape(b)
        size = min(size, remaining)
        if size == 1:
            shape = "full"
        if shape == "full":
            r.payment("full", _full_bill(b, b.rng.choices(suppliers, weights)[0], b.payment_day())[1], "sent")
        elif shape == "partial":
            _partial(b, r, b.rng.choices(suppliers, weights)[0], size)
        else:
            _batch(b, r, b.rng.sample(suppliers, min(size, len(suppliers))))
            size = min(size, len(suppliers))
        remaining -= size


def _random_shape(b: WorldBuilder) -> tuple[str, int]:
    roll = b.rng.random()
    if roll < 0.15:
        return "batch", b.rng.randint(2, 6)
    if roll < 0.45:
        return "partial", b.rng.randint(2, 3)
    return "full", 1


def _partial(b: WorldBuilder, r: Recorder, supplier: Supplier, parts: int) -> None:
    days_ago = sorted(b.rng.sample(range(HISTORY_DAYS), parts), reverse=True)
    days = [b.base_date - dt.timedelta(days=n) for n in days_ago]
    bill = b.add_bill(supplier, day=days[0] - dt.timedelta(days=b.rng.randrange(5, 40)))
    amounts = b.split(bill.invoice.total, parts, settle=b.rng.random() < 0.6)
    for amount, day in zip(amounts, days, strict=True):
        r.payment("partial", b.pay(bill, amount=amount, day=day), "sent")


def _batch(b: WorldBuilder, r: Recorder, suppliers: list[Supplier]) -> None:
    day = b.payment_day()
    batch_id = b.uuid()
    reference = f"Pay run {day:%d/%m/%Y}"
    for supplier in suppliers:
        bill = b.add_bill(supplier, day=day - dt.timedelta(days=b.rng.randrange(5, 45)))
        r.payment(
            "batch", b.pay(bill, amount=bill.invoice.total, day=day, batch_id=batch_id, reference=reference), "sent"
        )


# --- records without payments ---------------------------------------------------------------------


def _quiet_records(b: WorldBuilder, suppliers: list[Supplier], *, bills: int) -> None:
    """What surrounds the payments in a real company: approved bills not paid yet, claims still in
    review, and old claims paid before the integration (typed into Procore by hand)."""
    for _ in range(bills):
        b.add_bill(b.rng.choice(suppliers), day=b.days_ago(0, 30))
    pending = ["under_review", "draft", "revise_and_resubmit", "pending_owner_approval"]
    approved = [(s, c) for s in suppliers for cs in s.commitments.values() for c in cs]
    for supplier, commitment in b.rng.sample(approved, max(1, len(approved) // 8)):
        b.add_requisition(
            commitment=commitment,
            invoice_number=supplier.invoice_number(),
            day=b.days_ago(0, 20),
            amount=b.money(2_000, 60_000),
            status=b.rng.choice(pending),
        )
    for supplier, commitment in b.rng.sample(approved, max(3, len(approved) // 10)):
        day = b.days_ago(150, 330)
        amount = b.money(2_000, 60_000)
        claim = b.add_requisition(
            commitment=commitment, invoice_number=supplier.invoice_number(), day=day, amount=amount
        )
        b.add_hand_entered_payment(
            requisition=claim, amount=amount, day=day + dt.timedelta(days=b.rng.randrange(20, 40))
        )

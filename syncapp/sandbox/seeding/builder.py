"""Builds the seeded world in memory (unsaved model instances), deterministically from a seed.

Everything random comes from one `random.Random(seed)`, and ids (Xero UUIDs, Procore 64-bit ids)
are drawn from it too, so the same seed and size give the same world, row for row. Nothing here
touches the database; `syncapp.sandbox.seed` saves the result with bulk inserts.

The money rules the world keeps: amounts are Decimal with two places; a bill's AmountPaid is the
sum of its AUTHORISED payments and never exceeds its Total; AmountDue = Total - AmountPaid -
AmountCredited (credit notes, prepayments and overpayments allocated to it); a bill is PAID exactly
when it has payments or allocations and nothing is due.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from syncapp.sandbox.procore import models as pc
from syncapp.sandbox.seeding import names
from syncapp.sandbox.xero import models as xr

CENT = Decimal("0.01")
GST = Decimal("0.10")
HISTORY_DAYS = 120  # payments are spread over this many days before the base date
OTHER_COMMITMENT_STATUSES = ["Draft", "Out For Signature", "Complete", "Terminated", "Void"]


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Supplier:
    """A Xero supplier contact and (unless the case says otherwise) its Procore vendor."""

    contact: xr.Contact
    vendor: pc.Vendor | None
    trade: str
    invoice_format: str
    next_invoice: int
    # Procore project id -> the vendor's approved commitments on that project.
    commitments: dict[int, list[pc.Commitment]] = field(default_factory=dict)

    def invoice_number(self) -> str:
        number = self.invoice_format.format(n=self.next_invoice, p=names.initials(self.contact.name))
        self.next_invoice += 1
        return number


@dataclass
class Bill:
    invoice: xr.Invoice
    supplier: Supplier
    requisition: pc.Requisition | None = None


class WorldBuilder:
    """Accumulates the rows of both sandboxes. Call the `add_*` methods, then read the lists."""

    def __init__(self, *, seed: int, base_date: dt.date, organisation: xr.Organisation, company: pc.Company) -> None:
        self.rng = random.Random(seed)
        self.base_date = base_date
        self.organisation = organisation
        self.company = company
        self.projects: list[pc.Project] = []
        self.vendors: list[pc.Vendor] = []
        self.commitments: list[pc.Commitment] = []
        self.requisitions: list[pc.Requisition] = []
        self.contract_payments: list[pc.ContractPayment] = []
        self.contacts: list[xr.Contact] = []
        self.invoices: list[xr.Invoice] = []
        self.payments: list[xr.Payment] = []
        self.credited: dict[uuid.UUID, Decimal] = defaultdict(Decimal)  # InvoiceID -> AmountCredited
        self._procore_ids: set[int] = set()
        self._commitment_numbers: dict[tuple[int, str], int] = defaultdict(int)
        self._requisition_numbers: dict[int, int] = defaultdict(int)
        self._tracking: dict[int, dict] = {}  # project id -> the Xero tracking option naming it
        self._abns: set[str] = set()
        self._tracking_category_id = str(self.uuid())
        self.bank_account_id = self.uuid()

    # --- ids, dates, money --------------------------------------------------------------------

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def procore_id(self) -> int:
        # Above 32 bits like real Procore ids, below 2**53 so JavaScript would not round them.
        while True:
            value = 2**32 + self.rng.getrandbits(52)
            if value not in self._procore_ids:
                self._procore_ids.add(value)
                return value

    def abn(self) -> str:
        while (value := names.abn(self.rng)) in self._abns:
            pass
        self._abns.add(value)
        return value

    def days_ago(self, low: int, high: int) -> dt.date:
        return self.base_date - dt.timedelta(days=self.rng.randrange(low, high))

    def payment_day(self) -> dt.date:
        return self.days_ago(0, HISTORY_DAYS)

    def moment(self, day: dt.date) -> dt.datetime:
        """A time on `day` (UTC business hours of an Australian office, i.e. 22:00-08:00 UTC,
        kept inside the same UTC day so UpdatedDateUTC and Date agree)."""
        return dt.datetime.combine(
            day,
            dt.time(self.rng.randrange(0, 8), self.rng.randrange(60), self.rng.randrange(60)),
            tzinfo=dt.UTC,
        )

    def money(self, low: int, high: int) -> Decimal:
        """A sum between `low` and `high` dollars, log-uniform (many small bills, few large)."""
        value = Decimal(str(round(low * (high / low) ** self.rng.random(), 2)))
        return cents(value)

    # --- Procore structure ---------------------------------------------------------------------

    def add_projects(self, count: int) -> None:
        for index, name in enumerate(names.PROJECT_NAMES[:count]):
            self.add_project(name=name, number=f"P-{1001 + index}")

    def add_project(self, *, name: str, number: str, refused_tools: str = "") -> pc.Project:
        """A project, and the Xero tracking option that names it. `refused_tools`: what Procore
        refuses the product on it (see pc.Project.refused_tools)."""
        project = pc.Project(
            id=self.procore_id(),
            company=self.company,
            name=name,
            project_number=number,
            currency_iso_code="AUD",
            refused_tools=refused_tools,
        )
        self.projects.append(project)
        self._tracking[project.id] = {
            "TrackingCategoryID": self._tracking_category_id,
            "TrackingOptionID": str(self.uuid()),
            "Name": "Project",
            "Option": f"{number} {name}",
        }
        return project

    def add_commitment(self, *, vendor: pc.Vendor, project: pc.Project, kind: str, trade: str, status: str):
        key = (project.id, kind)
        self._commitment_numbers[key] += 1
        prefix = "SC" if kind == names.WORK_ORDER else "PO"
        commitment = pc.Commitment(
            id=self.procore_id(),
            project=project,
            kind=kind,
            number=f"{prefix}-{self._commitment_numbers[key]:03d}",
            title=f"{trade} - {project.name}",
            vendor=vendor,
            status=status,
            executed=status in ("Approved", "Complete"),
        )
        self.commitments.append(commitment)
        return commitment

    # --- suppliers -----------------------------------------------------------------------------

    def add_supplier(
        self,
        *,
        name: str,
        trade: str,
        kind: str,
        projects: list[pc.Project],
        link: str = "origin_id",
        vendor_name: str | None = None,
        commitments_per_project: int = 1,
    ) -> Supplier:
        """A supplier contact in Xero and its vendor in Procore, with approved commitments.

        `link` says how the two are tied: "origin_id" (vendor.origin_id = ContactID, same ABN),
        "tax_number" (same ABN only), "none" (no origin_id, no ABN on the vendor), or
        "no_vendor" (the contact has no vendor in Procore at all)."""
        contact = xr.Contact(
            organisation=self.organisation,
            contact_id=self.uuid(),
            name=name,
            tax_number=self.abn(),
            email=f"accounts@{names.normalised(name).replace(' ', '')[:30]}.com.au",
            is_supplier=True,
            updated_at=self.moment(self.days_ago(200, 700)),
        )
        self.contacts.append(contact)
        vendor = None
        if link != "no_vendor":
            vendor = pc.Vendor(
                id=self.procore_id(),
                company=self.company,
                name=vendor_name or name,
                origin_id=str(contact.contact_id) if link == "origin_id" else "",
                business_id=contact.tax_number if link in ("origin_id", "tax_number") else "",
                email_address=contact.email,
            )
            self.vendors.append(vendor)
        supplier = Supplier(
            contact=contact,
            vendor=vendor,
            trade=trade,
            invoice_format=self.rng.choice(names.INVOICE_FORMATS),
            next_invoice=self.rng.randrange(1000, 90000),
        )
        if vendor:
            for project in projects:
                supplier.commitments[project.id] = [
                    self.add_commitment(vendor=vendor, project=project, kind=kind, trade=trade, status="Approved")
                    for _ in range(commitments_per_project)
                ]
        return supplier

    # --- bills and payments --------------------------------------------------------------------

    def _line_items(self, *, sub_total: Decimal, project_id: int | None, trade: str) -> tuple[list[dict], Decimal]:
        """1-3 lines adding up to `sub_total`, each tagged with the project; returns them and the tax.
        JSON holds numbers, as Xero's does: two-place amounts are exact as text in JSON."""
        count = self.rng.randint(1, 3)
        amounts = [cents(sub_total * Decimal(self.rng.randint(20, 60)) / 100) for _ in range(count - 1)]
        amounts.append(sub_total - sum(amounts, Decimal(0)))
        if amounts[-1] <= 0:
            amounts = [sub_total]
        tracking = [self._tracking[project_id]] if project_id else []
        lines, tax = [], Decimal(0)
        for number, amount in enumerate(amounts, start=1):
            line_tax = cents(amount * GST)
            tax += line_tax
            lines.append(
                {
                    "LineItemID": str(self.uuid()),
                    "Description": f"{trade} - claim item {number}",
                    "Quantity": 1.0,
                    "UnitAmount": float(amount),
                    "LineAmount": float(amount),
                    "AccountCode": "310",
                    "TaxType": "INPUT",
                    "TaxAmount": float(line_tax),
                    "Tracking": tracking,
                }
            )
        return lines, tax

    def add_bill(
        self,
        supplier: Supplier,
        *,
        day: dt.date,
        status: str = "AUTHORISED",
        invoice_number: str | None = None,
        currency: str = "AUD",
        rate: Decimal = Decimal(1),
        commitment: pc.Commitment | None = None,
        requisition: bool = True,
        requisition_invoice_number: str | None = None,
        requisition_origin_id: bool = False,
    ) -> Bill:
        """An ACCPAY bill dated `day`; with `requisition`, the approved subcontractor invoice in
        Procore that it mirrors (same invoice number unless told otherwise)."""
        if commitment is None and supplier.commitments:
            project_id = self.rng.choice(list(supplier.commitments))
            commitment = self.rng.choice(supplier.commitments[project_id])
        project_id = commitment.project.id if commitment else None
        if project_id is None and self.projects:
            project_id = self.rng.choice(self.projects).id  # tracked to a project all the same
        sub_total = self.money(800, 120_000)
        lines, tax = self._line_items(sub_total=sub_total, project_id=project_id, trade=supplier.trade)
        total = sub_total + tax
        invoice = xr.Invoice(
            organisation=self.organisation,
            invoice_id=self.uuid(),
            type="ACCPAY",
            contact=supplier.contact,
            invoice_number=supplier.invoice_number() if invoice_number is None else invoice_number,
            status=status,
            date=day,
            due_date=day + dt.timedelta(days=30),
            currency_code=currency,
            currency_rate=rate,
            sub_total=sub_total,
            total_tax=tax,
            total=total,
            amount_paid=Decimal(0),
            amount_due=total,
            line_items=lines,
            updated_at=self.moment(day),
        )
        self.invoices.append(invoice)
        bill = Bill(invoice=invoice, supplier=supplier)
        if requisition and commitment is not None:
            bill.requisition = self.add_requisition(
                commitment=commitment,
                invoice_number=(
                    invoice.invoice_number if requisition_invoice_number is None else requisition_invoice_number
                ),
                day=day,
                amount=cents(total / rate),
                origin_id=str(invoice.invoice_id) if requisition_origin_id else "",
            )
        return bill

    def add_requisition(
        self,
        *,
        commitment: pc.Commitment,
        invoice_number: str,
        day: dt.date,
        amount: Decimal,
        status: str = "approved",
        origin_id: str = "",
    ) -> pc.Requisition:
        self._requisition_numbers[commitment.id] += 1
        last_day = calendar.monthrange(day.year, day.month)[1]
        requisition = pc.Requisition(
            id=self.procore_id(),
            project=commitment.project,
            commitment=commitment,
            number=self._requisition_numbers[commitment.id],
            invoice_number=invoice_number,
            status=status,
            origin_id=origin_id,
            billing_date=day,
            period_start=day.replace(day=1),
            period_end=day.replace(day=last_day),
            total_amount=amount,
            retainage_amount=Decimal(0),
        )
        self.requisitions.append(requisition)
        return requisition

    def reference(self) -> str:
        roll = self.rng.random()
        if roll < 0.7:
            return f"EFT {self.rng.randrange(100000, 999999)}"
        if roll < 0.85:
            return f"CHQ {self.rng.randrange(1, 9999):06d}"
        return ""

    def pay(
        self,
        bill: Bill,
        *,
        amount: Decimal,
        day: dt.date,
        status: str = "AUTHORISED",
        batch_id: uuid.UUID | None = None,
        reference: str | None = None,
        updated_at: dt.datetime | None = None,
    ) -> xr.Payment:
        """A bill payment (ACCPAYPAYMENT); keeps the bill's AmountPaid, AmountDue and status true."""
        invoice = bill.invoice
        payment = xr.Payment(
            organisation=self.organisation,
            payment_id=self.uuid(),
            invoice=invoice,
            payment_type="ACCPAYPAYMENT",
            status=status,
            date=day,
            amount=amount,
            bank_amount=cents(amount / invoice.currency_rate),
            currency_rate=invoice.currency_rate,
            reference=self.reference() if reference is None else reference,
            is_reconciled=(self.base_date - day).days > 7,
            batch_payment_id=batch_id,
            account_id=self.bank_account_id,
            updated_at=updated_at or self.moment(day),
        )
        self.payments.append(payment)
        if status == "AUTHORISED":
            invoice.amount_paid += amount
            invoice.amount_due = invoice.total - invoice.amount_paid - self.credited[invoice.invoice_id]
            assert invoice.amount_due >= 0, "a seeded payment would overpay its bill"
            invoice.status = "PAID" if invoice.amount_due == 0 else "AUTHORISED"
        invoice.updated_at = max(invoice.updated_at, payment.updated_at)
        return payment

    def add_other_payment(self, *, payment_type: str, document: dict, amount: Decimal, day: dt.date) -> xr.Payment:
        """A payment that is not on a bill (a refund on a credit note, prepayment or overpayment):
        Xero embeds the document instead of an Invoice."""
        payment = xr.Payment(
            organisation=self.organisation,
            payment_id=self.uuid(),
            invoice=None,
            other_document=document,
            payment_type=payment_type,
            date=day,
            amount=amount,
            bank_amount=amount,
            reference=self.reference(),
            is_reconciled=(self.base_date - day).days > 7,
            account_id=self.bank_account_id,
            updated_at=self.moment(day),
        )
        self.payments.append(payment)
        return payment

    def allocate(self, bill: Bill, *, kind: str, amount: Decimal, day: dt.date, number: str = "") -> xr.Invoice:
        """A supplier credit note, prepayment or overpayment (`kind`: payloads.CREDIT_NOTE,
        PREPAYMENT or OVERPAYMENT) allocated to `bill` for `amount`: no Payment row, the bill's AmountDue
        drops and it is PAID once nothing is due (Xero: AmountDue = Total - AmountPaid -
        AmountCredited). Stored as the sandbox keeps allocations (see sandbox.xero.payloads)."""
        invoice = bill.invoice
        tax = cents(amount * GST / (1 + GST))
        document = xr.Invoice(
            organisation=self.organisation,
            invoice_id=self.uuid(),
            type=kind,
            contact=invoice.contact,
            invoice_number=number,
            reference=str(invoice.invoice_id),  # the bill it is allocated to
            status="PAID",  # fully applied: nothing left to allocate
            date=day,
            currency_code=invoice.currency_code,
            sub_total=amount - tax,
            total_tax=tax,
            total=amount,
            amount_paid=amount,  # AppliedAmount
            amount_due=Decimal(0),  # RemainingCredit
            updated_at=self.moment(day),
        )
        self.invoices.append(document)
        self.credited[invoice.invoice_id] += amount
        invoice.amount_due -= amount
        assert invoice.amount_due >= 0, "a seeded allocation would over-credit its bill"
        invoice.status = "PAID" if invoice.amount_due == 0 else invoice.status
        invoice.updated_at = max(invoice.updated_at, document.updated_at)
        return document

    def split(self, total: Decimal, parts: int, *, settle: bool) -> list[Decimal]:
        """`parts` positive amounts adding up to `total` (settle) or to 50-90% of it."""
        target = total if settle else cents(total * Decimal(self.rng.randint(50, 90)) / 100)
        weights = [self.rng.uniform(1, 3) for _ in range(parts)]
        scale = sum(weights)
        amounts = [cents(target * Decimal(str(w / scale))) for w in weights[:-1]]
        return [*amounts, target - sum(amounts, Decimal(0))]

    def add_hand_entered_payment(
        self, *, requisition: pc.Requisition, amount: Decimal, day: dt.date, origin: xr.Payment | None = None
    ) -> pc.ContractPayment:
        """A payment already in Procore: typed in by a person (no origin_id), or, with `origin`,
        recorded by an earlier run of the sync (origin_id = the Xero PaymentID)."""
        payment = pc.ContractPayment(
            id=self.procore_id(),
            project=requisition.project,
            commitment=requisition.commitment,
            requisition=requisition,
            date=day,
            amount=amount,
            invoice_number=requisition.invoice_number,
            invoice_date=requisition.billing_date,
            check_number=self.reference() if origin is None else origin.reference[:30],
            payment_method="check" if origin is None else "electronic",
            notes="Entered by hand" if origin is None else f"Xero payment {origin.payment_id}",
        )
        if origin is not None:
            payment.origin_id = str(origin.payment_id)
            payment.origin_data = json.dumps(
                {
                    "xero_payment_id": str(origin.payment_id),
                    "xero_invoice_id": str(origin.invoice.invoice_id),
                    "updated_date_utc": origin.updated_at.isoformat(),
                }
            )
        self.contract_payments.append(payment)
        return payment

    # --- finishing -----------------------------------------------------------------------------

    def finish(self) -> None:
        """Numbers and totals that depend on everything else: Procore payment numbers in date
        order per commitment, and each commitment's value (above what was claimed against it)."""
        claimed: dict[int, Decimal] = defaultdict(Decimal)
        for requisition in self.requisitions:
            claimed[requisition.commitment.id] += requisition.total_amount
        for commitment in self.commitments:
            value = claimed[commitment.id] * Decimal("1.25") or self.money(20_000, 400_000)
            # Round up to a whole thousand, as contract values are written.
            commitment.grand_total = (value / 1000).quantize(Decimal(1), rounding=ROUND_CEILING) * 1000
        by_commitment: dict[int, list[pc.ContractPayment]] = defaultdict(list)
        for payment in self.contract_payments:
            by_commitment[payment.commitment.id].append(payment)
        for payments in by_commitment.values():
            for number, payment in enumerate(sorted(payments, key=lambda p: (p.date, p.id)), start=1):
                payment.payment_number = number

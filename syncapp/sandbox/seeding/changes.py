"""Changes to a seeded world after the product has read it, for incremental-run benchmarks and
tests: `add_payments(count=10, projects=3)` pays approved bills on a few projects, now.

Two flavours, as they happen in a real company:
- the Procore subcontractor invoice existed before (the product may hold it already): only Xero
  changes (a new payment, its bill now PAID);
- `new_invoices=True`: the subcontractor invoice is approved in Procore now, its bill entered,
  approved and paid in Xero now. The new requisition's created_at and updated_at are now, so a
  reader that keeps an index finds it with `filters[updated_at]` on the project's requisitions.

Rows are written with the ORM (a handful); Procore rows get their times from auto_now, Xero rows
are stamped with the same `now`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from syncapp.sandbox.procore import models as pc
from syncapp.sandbox.seeding import names
from syncapp.sandbox.seeding.builder import GST, cents
from syncapp.sandbox.seeding.company import PAYABLE
from syncapp.sandbox.xero import models as xr


@dataclass
class AddedPayments:
    """What `add_payments` made: every payment is sendable (-> sent by the product)."""

    new_invoices: bool
    payment_ids: list[str] = field(default_factory=list)  # Xero PaymentIDs
    bill_ids: list[str] = field(default_factory=list)  # Xero InvoiceIDs, one per payment
    requisition_ids: list[int] = field(default_factory=list)  # the claims paid (new ones if new_invoices)
    project_ids: list[int] = field(default_factory=list)  # the projects touched


@dataclass
class _Claim:
    """A payable subcontractor invoice and, when it has one, its unpaid Xero bill."""

    requisition_id: int
    project_id: int
    commitment: pc.Commitment
    bill: xr.Invoice | None


def add_payments(
    *, count: int = 10, projects: int = 3, new_invoices: bool = False, seed: int | None = None
) -> AddedPayments:
    """`count` Xero payments spread over `projects` projects (as evenly as they divide), each
    paying one approved bill in full, dated today. ValueError when the world has too few
    projects with unpaid approved bills (or, with `new_invoices`, payable commitments)."""
    if count < 1 or projects < 1 or projects > count:
        raise ValueError("Ask for at least one payment and one project, and no more projects than payments.")
    rng = random.Random(seed)  # choices only: ids are fresh UUIDs, so a repeated seed never clashes
    now = timezone.now()
    with transaction.atomic():
        claims = _payable_claims()
        share = math.ceil(count / projects)
        if new_invoices:
            by_project = _payable_commitments()
            eligible = sorted(by_project)
            what = "payable commitments of linked vendors"
        else:
            by_project = defaultdict(list)
            for claim in claims:
                if claim.bill is not None:
                    by_project[claim.project_id].append(claim)
            eligible = sorted(pid for pid, found in by_project.items() if len(found) >= share)
            what = f"at least {share} unpaid approved bills"
        if len(eligible) < projects:
            raise ValueError(f"Only {len(eligible)} projects have {what}; ask for fewer projects.")
        chosen = rng.sample(eligible, projects)
        added = AddedPayments(new_invoices=new_invoices, project_ids=chosen)
        tracking = _project_tracking(claims)
        for index in range(count):
            project_id = chosen[index % projects]
            if new_invoices:
                commitment = rng.choice(by_project[project_id])
                requisition, bill = _new_claim(rng, commitment, tracking.get(project_id, []), now)
            else:
                claim = by_project[project_id].pop(rng.randrange(len(by_project[project_id])))
                requisition, bill = claim.requisition_id, claim.bill
            payment = _pay(rng, bill, now)
            added.payment_ids.append(str(payment.payment_id))
            added.bill_ids.append(str(bill.invoice_id))
            added.requisition_ids.append(requisition)
    return added


def _payable_commitments() -> dict[int, list[pc.Commitment]]:
    """Per project the product may read: its payable commitments whose vendor is linked to a
    Xero supplier contact (origin_id = ContactID)."""
    contacts = {str(contact_id) for contact_id in xr.Contact.objects.values_list("contact_id", flat=True)}
    found: dict[int, list[pc.Commitment]] = defaultdict(list)
    for commitment in pc.Commitment.objects.select_related("vendor").filter(
        status__in=PAYABLE, deleted_at__isnull=True, project__refused_tools="", project__active=True
    ):
        if commitment.vendor is not None and commitment.vendor.origin_id in contacts:
            found[commitment.project_id].append(commitment)
    return found


def _payable_claims() -> list[_Claim]:
    """Approved claims with an invoice number on payable commitments of linked vendors, in
    projects the product may read, each with its unpaid AUTHORISED bill in the organisation's
    currency when exactly one claim of the vendor carries that number (so it matches one claim)."""
    organisation = xr.Organisation.objects.order_by("pk").first()
    if organisation is None:
        return []
    requisitions = list(
        pc.Requisition.objects.select_related("commitment__vendor")
        .filter(
            status="approved",
            commitment__status__in=PAYABLE,
            commitment__deleted_at__isnull=True,
            project__refused_tools="",
            project__active=True,
        )
        .exclude(invoice_number="")
        .exclude(commitment__vendor__origin_id="")
    )
    numbers = defaultdict(int)
    for requisition in requisitions:
        numbers[(requisition.commitment.vendor.origin_id, requisition.invoice_number)] += 1
    unpaid = {
        (str(bill.contact.contact_id), bill.invoice_number): bill
        for bill in xr.Invoice.objects.select_related("contact").filter(
            organisation=organisation,
            type="ACCPAY",
            status="AUTHORISED",
            amount_paid=0,
            currency_code=organisation.base_currency,
        )
    }
    claims = []
    for requisition in requisitions:
        key = (requisition.commitment.vendor.origin_id, requisition.invoice_number)
        bill = unpaid.get(key) if numbers[key] == 1 else None
        claims.append(_Claim(requisition.pk, requisition.project_id, requisition.commitment, bill))
    return claims


def _project_tracking(claims: list[_Claim]) -> dict[int, list[dict]]:
    """The Xero tracking option naming each project, as its bills carry it."""
    tracking: dict[int, list[dict]] = {}
    for claim in claims:
        if claim.bill is not None and claim.project_id not in tracking and claim.bill.line_items:
            tracking[claim.project_id] = claim.bill.line_items[0].get("Tracking", [])
    return tracking


def _new_claim(
    rng: random.Random, commitment: pc.Commitment, tracking: list[dict], now: dt.datetime
) -> tuple[int, xr.Invoice]:
    """A subcontractor invoice approved in Procore now and its bill entered in Xero now."""
    vendor = commitment.vendor
    contact = xr.Contact.objects.get(contact_id=uuid.UUID(vendor.origin_id))
    invoice_number = _fresh_invoice_number(rng, vendor, contact)
    today = now.date()
    sub_total = cents(Decimal(rng.randrange(2_000_00, 60_000_00)) / 100)
    tax = cents(sub_total * GST)
    last_number = commitment.requisitions.order_by("-number").values_list("number", flat=True).first() or 0
    requisition = pc.Requisition.objects.create(
        project_id=commitment.project_id,
        commitment=commitment,
        number=last_number + 1,
        invoice_number=invoice_number,
        status="approved",
        billing_date=today,
        period_start=today.replace(day=1),
        period_end=today.replace(day=calendar.monthrange(today.year, today.month)[1]),
        total_amount=sub_total + tax,
    )
    line = {
        "LineItemID": str(uuid.uuid4()),
        "Description": f"{commitment.title or commitment.number} - claim {requisition.number}",
        "Quantity": 1.0,
        "UnitAmount": float(sub_total),
        "LineAmount": float(sub_total),
        "AccountCode": "310",
        "TaxType": "INPUT",
        "TaxAmount": float(tax),
        "Tracking": tracking,
    }
    bill = xr.Invoice.objects.create(
        organisation=contact.organisation,
        invoice_id=uuid.uuid4(),
        type="ACCPAY",
        contact=contact,
        invoice_number=invoice_number,
        status="AUTHORISED",
        date=today,
        due_date=today + dt.timedelta(days=30),
        sub_total=sub_total,
        total_tax=tax,
        total=sub_total + tax,
        amount_due=sub_total + tax,
        line_items=[line],
        updated_at=now,
    )
    return requisition.pk, bill


def _fresh_invoice_number(rng: random.Random, vendor: pc.Vendor, contact: xr.Contact) -> str:
    """A number neither the vendor's claims nor the supplier's bills carry yet."""
    while True:
        number = f"{names.initials(contact.name)}-{rng.randrange(100_000, 1_000_000)}"
        taken = pc.Requisition.objects.filter(commitment__vendor=vendor, invoice_number=number).exists()
        if not taken and not xr.Invoice.objects.filter(contact=contact, invoice_number=number).exists():
            return number


def _pay(rng: random.Random, bill: xr.Invoice, now: dt.datetime) -> xr.Payment:
    """A bill payment of everything due, made now; the bill becomes PAID."""
    account = xr.Payment.objects.filter(organisation=bill.organisation).values_list("account_id", flat=True).first()
    amount = bill.amount_due
    payment = xr.Payment.objects.create(
        organisation=bill.organisation,
        payment_id=uuid.uuid4(),
        invoice=bill,
        payment_type="ACCPAYPAYMENT",
        status="AUTHORISED",
        date=now.date(),
        amount=amount,
        bank_amount=cents(amount / bill.currency_rate),
        currency_rate=bill.currency_rate,
        reference=f"EFT {rng.randrange(100000, 999999)}",
        account_id=account or uuid.uuid4(),
        updated_at=now,
    )
    bill.amount_paid += amount
    bill.amount_due -= amount
    bill.status = "PAID"
    bill.updated_at = now
    bill.save(update_fields=["amount_paid", "amount_due", "status", "updated_at"])
    return payment

"""The sandbox's seeded world: one Xero organisation and one Procore company that tell the same
story, with every real-world case the product must handle. `seed_world()` builds it; the
`sandbox_seed` command and the tests call it. `seed_company()` builds a large company of ordinary
payments instead (hundreds of projects, thousands of commitments: seeding/company.py), in the same
organisation and company; `seeding.changes.add_payments()` pays more bills of either, now.
`seed_second_company()` adds a second organisation and company with a world of their own, for a
second integration (several companies, issue 10).

The world is deterministic: the same `payments` and `seed` give the same rows, ids and amounts
(one `random.Random(seed)`, UUIDs and 64-bit Procore ids drawn from it, a fixed base date).
Payments are dated over the 120 days before the base date.

Procore: the company "Northwind Constructions", a sandbox user (sandbox.user@example.com) and a
service account, 3-12 projects, vendors with ABNs, approved work-order and purchase-order
commitments (plus a few in other statuses), approved subcontractor invoices (requisitions) that
mirror the Xero bills, some claims still in review, and old claims paid by hand.
Xero: the organisation "Northwind Constructions Pty Ltd" (AUD), supplier contacts mirroring the
vendors, ACCPAY bills whose InvoiceNumber is the claim's invoice number and whose line items carry
a "Project" tracking option ("P-1001 Harbour Tower"), and exactly `payments` payments.

The cases (`SeedSummary.cases[name]`: PaymentIDs unless noted) and what the product should do:

- full: one payment pays a whole bill. -> sent.
- partial: 2-3 payments on one bill, summing to at most its total. -> each sent on the same claim.
- batch: bills paid in one batch run, sharing a BatchPaymentID and Reference. -> each sent.
- reversal: pairs [deleted, replacement]: a payment entered with a wrong amount, then DELETED
  (UpdatedDateUTC three days later) and re-entered. -> the deleted one ignored (never sent; had a
  run sent it, it would be reversed in Procore), the replacement sent.
- foreign_currency: a USD bill while the Procore project is AUD. -> blocked "currency mismatch".
- name_mismatch (ContactIDs; payments in `contact_payments`): contact and vendor names differ
  only by "&"/"and", a "Pty Ltd" suffix or case; the vendor has no origin_id and no ABN. -> blocked
  "vendor not synced", with the vendor offered as a name suggestion for an admin to confirm.
- tax_number_match (ContactIDs; payments in `contact_payments`): the vendor has no origin_id and
  another (trading) name, but the same ABN. -> linked by tax number, sent.
- origin_id_match (ContactIDs): vendor.origin_id = the Xero ContactID; every ordinary supplier. -> sent.
- no_vendor (ContactIDs; payments in `contact_payments`): a supplier with no Procore vendor at all.
  -> blocked "vendor not synced" (fix: create the vendor).
- no_invoice: the bill's number is on no Procore claim, and the tracked project holds two of the
  vendor's commitments. -> blocked "invoice not found in Procore".
- ambiguous_invoice: two approved claims of the vendor carry the bill's number. -> blocked "ambiguous".
- requisition_origin_id: a claim whose origin_id is the Xero InvoiceID (its own invoice number
  blank). -> matched by origin_id, sent.
- other_payment_types: APCREDITPAYMENT, APPREPAYMENTPAYMENT, APOVERPAYMENTPAYMENT (no Invoice, the
  document embedded instead) and an ACCRECPAYMENT on a sales invoice. -> ignored.
- incomplete: a bill with an empty InvoiceNumber. -> blocked (missing invoice number).
- draft_bill (InvoiceIDs): a DRAFT bill with no payments. -> never appears.
- paid_and_credited: bills settled in part by an allocated supplier credit note (CN-0042) or
  prepayment (no Payment row for that part) and paid for the rest. -> the payment sent; the bill
  shows each allocation, so finance sees why Procore has less than the bill's total.
- settled_by_allocation (InvoiceIDs): a bill settled by a credit note (CN-0043) and an overpayment
  allocated to it, with no payment at all. -> nothing to send; the bill is kept with its
  allocations.
- overpayment_guard: Procore already holds a hand-entered payment of 60% of the bill; Xero pays
  50%. -> blocked/flagged "would exceed the bill", never sent silently.
- already_in_procore: Procore already holds a payment with origin_id = this PaymentID (an earlier
  run sent it). -> recognised as sent; never created a second time.
- project_refused: bills on a project the service account is not in (Procore hides it from the
  project list and answers 403 on it) and on one whose Commitments tool is off (403 on its
  commitments). -> blocked "no access to project X in Procore" with the fix; the run goes on.
- commitment_not_payable: a bill whose approved claim is on a Void subcontract, and one whose
  reference names a deleted subcontract. -> blocked with the commitment's status, never sent.

Every other payment is ordinary and sendable. `SeedSummary.expected` maps each PaymentID to the
outcome above (sent | blocked | ignored | already_sent) under the default rules.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from syncapp.sandbox.models import SeededWorld
from syncapp.sandbox.procore import models as pc
from syncapp.sandbox.seeding import store
from syncapp.sandbox.seeding.builder import WorldBuilder
from syncapp.sandbox.seeding.company import CompanySize, build_company
from syncapp.sandbox.seeding.world import BILL_CASES, CASES, CONTACT_CASES, MIN_PAYMENTS, Recorder, build_world
from syncapp.sandbox.xero import models as xr

__all__ = [
    "BILL_CASES", "CASES", "CONTACT_CASES", "MIN_PAYMENTS", "CompanySize", "SeedSummary", "WorldExists",
    "register_oauth_clients", "reset_world", "seed_company", "seed_second_company", "seed_world", "current_world",
    "world_exists",
]  # fmt: skip

# Fixed whatever the seed, so a reseed keeps the product's connections to them valid.
ORGANISATION_TENANT_ID = uuid.UUID("6f1c2a9e-3b7d-4e15-9a4c-2d8e5f7b1c30")
ORGANISATION_NAME = "Northwind Constructions Pty Ltd"
COMPANY_ID = 2**32 + 562_949_953_421
COMPANY_NAME = "Northwind Constructions"
SANDBOX_USER_LOGIN = "sandbox.user@example.com"
SANDBOX_USER_ID = 2**32 + 281_474_976_710_656
SERVICE_ACCOUNT_LOGIN = "xero-sync.service-account@example.com"
SERVICE_ACCOUNT_ID = 2**32 + 281_474_976_710_657

# The second pair (`seed_second_company`): another organisation and company, as a group with two
# businesses has. The same users belong to both, and the product's apps are installed in both.
SECOND_TENANT_ID = uuid.UUID("0b7e4d21-9c58-4f3a-8e6d-71a2c9f05b44")
SECOND_ORGANISATION_NAME = "Southbank Builders Ltd"
SECOND_COMPANY_ID = 2**32 + 562_949_953_421_777
SECOND_COMPANY_NAME = "Southbank Builders"
SECOND_SEED_OFFSET = 1_000_003  # its ids never meet the first world's, whatever the two seeds

DEFAULT_BASE_DATE = dt.date(2026, 11, 20)
STORED_IDS_PER_CASE = 50  # the SeededWorld row keeps counts and a sample, not 100,000 ids


class WorldExists(Exception):
    """seed_world() was asked to build a world over an existing one without `reset`."""


@dataclass
class SeedSummary:
    seed: int
    payments: int
    base_date: dt.date
    tenant_id: str
    company_id: int
    counts: dict[str, int]
    cases: dict[str, list[str]]
    contact_payments: dict[str, list[str]] = field(default_factory=dict)
    expected: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds spent building, saving

    def outcome_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(self.expected.values()).items()))

    def as_record(self) -> dict:
        """What the SeededWorld row keeps for the index page and for other processes."""
        return {
            "counts": self.counts,
            "case_counts": {name: len(ids) for name, ids in self.cases.items()},
            "cases": {name: ids[:STORED_IDS_PER_CASE] for name, ids in self.cases.items()},
            "contact_payments": self.contact_payments,
            "outcomes": self.outcome_counts(),
        }


def world_exists() -> bool:
    return (
        xr.Contact.objects.exists()
        or xr.Payment.objects.exists()
        or pc.Project.objects.exists()
        or pc.Vendor.objects.exists()
    )


def current_world() -> SeededWorld | None:
    """The record of the world in the database now (None if it was not seeded by us)."""
    return SeededWorld.objects.order_by("-created_at").first()


def reset_world() -> None:
    """Delete both sandboxes' business data. The organisation, company, users, OAuth apps,
    tokens and connections stay, so a connected product stays connected. Children go first so
    Django can delete each table without loading its rows."""
    xr.Payment.objects.all().delete()
    xr.Invoice.objects.all().delete()
    xr.Contact.objects.all().delete()
    pc.ContractPayment.objects.all().delete()
    pc.Requisition.objects.all().delete()
    pc.Commitment.objects.all().delete()
    pc.Vendor.objects.all().delete()
    pc.Project.objects.all().delete()
    SeededWorld.objects.all().delete()


def ensure_identity() -> tuple[xr.Organisation, pc.Company]:
    """The organisation, the company and its two users: created once, then left alone."""
    organisation, company = _organisation_and_company(
        tenant_id=ORGANISATION_TENANT_ID, name=ORGANISATION_NAME, short_code="!nWc7R",
        company_id=COMPANY_ID, company_name=COMPANY_NAME,
    )  # fmt: skip
    for login, user_id, name, is_service in (
        (SANDBOX_USER_LOGIN, SANDBOX_USER_ID, "Sam Sandbox", False),
        (SERVICE_ACCOUNT_LOGIN, SERVICE_ACCOUNT_ID, "Xero Sync (service account)", True),
    ):
        user, _ = pc.User.objects.get_or_create(
            login=login, defaults={"id": user_id, "name": name, "is_service_account": is_service}
        )
        user.companies.add(company)
    return organisation, company


def ensure_second_identity() -> tuple[xr.Organisation, pc.Company]:
    """The second organisation and company, with the same two Procore users as the first."""
    ensure_identity()
    organisation, company = _organisation_and_company(
        tenant_id=SECOND_TENANT_ID, name=SECOND_ORGANISATION_NAME, short_code="!sBk2Q",
        company_id=SECOND_COMPANY_ID, company_name=SECOND_COMPANY_NAME,
    )  # fmt: skip
    for user in pc.User.objects.filter(login__in=(SANDBOX_USER_LOGIN, SERVICE_ACCOUNT_LOGIN)):
        user.companies.add(company)
    return organisation, company


def _organisation_and_company(
    *, tenant_id: uuid.UUID, name: str, short_code: str, company_id: int, company_name: str
) -> tuple[xr.Organisation, pc.Company]:
    """An Australian organisation (ShortCode, BaseCurrency and CountryCode are fields of Xero's
    GET /Organisation) and its Procore company, created once, then left alone."""
    organisation, _ = xr.Organisation.objects.get_or_create(
        tenant_id=tenant_id,
        defaults={"name": name, "short_code": short_code, "base_currency": "AUD", "country_code": "AU"},
    )
    company, _ = pc.Company.objects.get_or_create(
        id=company_id, defaults={"name": company_name, "currency_iso_code": "AUD"}
    )
    return organisation, company


def register_oauth_clients(*, site_url: str) -> None:
    """Register (or update) the product's apps in both sandboxes from settings, redirecting to
    `site_url`. Upserts: a changed SITE_URL or secret is picked up on every call."""
    site_url = site_url.rstrip("/")
    organisation, company = ensure_identity()
    if settings.XERO_CLIENT_ID:
        xr.OAuthClient.objects.update_or_create(
            client_id=settings.XERO_CLIENT_ID,
            defaults={
                "client_secret": settings.XERO_CLIENT_SECRET,
                "name": "Xero to Procore payment sync",
                "redirect_uris": [f"{site_url}/connections/xero/callback/"],
                # So `connect xero --client-credentials` (a custom connection) works in the demo.
                "custom_connection_organisation": organisation,
            },
        )
    if settings.PROCORE_CLIENT_ID:
        client, _ = pc.OAuthClient.objects.update_or_create(
            client_id=settings.PROCORE_CLIENT_ID,
            defaults={
                "client_secret": settings.PROCORE_CLIENT_SECRET,
                "name": "Xero to Procore payment sync",
                "redirect_uris": [f"{site_url}/connections/procore/callback/"],
                "service_account": pc.User.objects.get(login=SERVICE_ACCOUNT_LOGIN),
            },
        )
        # Installed in every company of the demo (the second one's only once it is seeded).
        client.installed_in.add(company, *pc.Company.objects.filter(id=SECOND_COMPANY_ID))


def seed_world(*, payments: int, seed: int, reset: bool = False, base_date: dt.date = DEFAULT_BASE_DATE) -> SeedSummary:
    """Build the world with exactly `payments` Xero payments. Raises WorldExists when there is
    one already and `reset` is off, ValueError below MIN_PAYMENTS."""

    def build(organisation: xr.Organisation, company: pc.Company) -> tuple[WorldBuilder, Recorder]:
        return build_world(
            payments=payments, seed=seed, base_date=base_date, organisation=organisation, company=company
        )

    return _seed(build, payments=payments, seed=seed, reset=reset, base_date=base_date)


def seed_company(
    *, size: CompanySize, seed: int, reset: bool = False, base_date: dt.date = DEFAULT_BASE_DATE
) -> SeedSummary:
    """Build a large company instead of the world of cases (seeding.company): `size.payments`
    ordinary payments, each paying one approved bill in full. Same company, organisation and apps
    as the default world, so a connected product reads it at once. WorldExists and ValueError as
    seed_world."""

    def build(organisation: xr.Organisation, company: pc.Company) -> tuple[WorldBuilder, Recorder]:
        return build_company(size=size, seed=seed, base_date=base_date, organisation=organisation, company=company)

    return _seed(build, payments=size.payments, seed=seed, reset=reset, base_date=base_date)


def seed_second_company(*, payments: int, seed: int, base_date: dt.date = DEFAULT_BASE_DATE) -> SeedSummary:
    """A world of cases in the second organisation and company (beside the first, which stays):
    what a second integration connects to. Raises WorldExists when that organisation already holds
    payments (`reset_world` empties both), ValueError below MIN_PAYMENTS."""

    def build(organisation: xr.Organisation, company: pc.Company) -> tuple[WorldBuilder, Recorder]:
        return build_world(
            payments=payments,
            seed=SECOND_SEED_OFFSET + seed,
            base_date=base_date,
            organisation=organisation,
            company=company,
        )

    def exists() -> bool:
        return xr.Payment.objects.filter(organisation__tenant_id=SECOND_TENANT_ID).exists()

    return _seed(
        build, payments=payments, seed=seed, reset=False, base_date=base_date,
        identity=ensure_second_identity, exists=exists, recorded=False,
    )  # fmt: skip


def _seed(
    build: Callable[[xr.Organisation, pc.Company], tuple[WorldBuilder, Recorder]],
    *,
    payments: int,
    seed: int,
    reset: bool,
    base_date: dt.date,
    identity: Callable[[], tuple[xr.Organisation, pc.Company]] = ensure_identity,
    exists: Callable[[], bool] = world_exists,
    recorded: bool = True,  # a SeededWorld row (the index page's world); the second company has none
) -> SeedSummary:
    started = time.perf_counter()
    with transaction.atomic():
        if reset:
            reset_world()
        elif exists():
            raise WorldExists("The sandbox already holds a world: reset it first (sandbox_seed --reset).")
        organisation, company = identity()
        phases = {"reset": time.perf_counter() - started}
        builder, recorder = build(organisation, company)
        phases["build"] = time.perf_counter() - started - phases["reset"]
        _save(builder)
        phases["save"] = time.perf_counter() - started - phases["reset"] - phases["build"]
        summary = SeedSummary(
            seed=seed,
            payments=payments,
            base_date=base_date,
            tenant_id=str(organisation.tenant_id),
            company_id=company.id,
            counts=_counts(builder),
            cases=recorder.cases,
            contact_payments=recorder.contact_payments,
            expected=recorder.expected,
            phases={name: round(value, 3) for name, value in phases.items()},
        )
        summary.seconds = round(time.perf_counter() - started, 3)
        if recorded:
            SeededWorld.objects.create(
                seed=seed, payments=payments, base_date=base_date, seconds=summary.seconds, summary=summary.as_record()
            )
    register_oauth_clients(site_url=settings.SITE_URL)
    return summary


def _save(b: WorldBuilder) -> None:
    """Inserts in foreign-key order; no per-row queries."""
    for rows in (b.projects, b.vendors, b.commitments, b.requisitions, b.contract_payments):
        store.insert(rows)
    for rows in (b.contacts, b.invoices, b.payments):
        store.insert(rows)


def _counts(b: WorldBuilder) -> dict[str, int]:
    return {
        "xero_contacts": len(b.contacts),
        "xero_bills": sum(1 for invoice in b.invoices if invoice.type == "ACCPAY"),
        "xero_sales_invoices": sum(1 for invoice in b.invoices if invoice.type == "ACCREC"),
        "xero_payments": len(b.payments),
        "procore_projects": len(b.projects),
        "procore_vendors": len(b.vendors),
        "procore_commitments": len(b.commitments),
        "procore_requisitions": len(b.requisitions),
        "procore_payments": len(b.contract_payments),
    }

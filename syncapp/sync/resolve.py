"""Matching and eligibility: each open payment becomes ready (with its Procore target) or blocked
(with a reason code and the payment's specifics, which `syncapp.sync.reasons` turns into a message
a finance person understands and the fix), or is set aside as not for Procore (other payment
types, deleted before it was sent).

The checks, in order: a bill payment; not deleted; the bill fetched and approved; date, amount
and invoice number present; the contact linked to a Procore vendor; the bill resolved to one
commitment (and subcontractor invoice where one exists); the currency Procore states for it, or
else the company's; and the sum on the bill never above its total. Blocked payments are looked
at again on every run, so fixing the cause and running again sends them.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from syncapp.connectors.types import DataError, TransientError
from syncapp.core.logcontext import log_context
from syncapp.core.text import fit
from syncapp.sync.company_currency import company_currency
from syncapp.sync.matching import VendorMatcher, name_likeness
from syncapp.sync.models import (
    BillLink,
    LinkHow,
    Payment,
    PaymentEvent,
    PaymentState,
    VendorLink,
    XeroBillRecord,
    XeroContactRecord,
)
from syncapp.sync.procore_index import ProcoreIndex, payable, payable_words
from syncapp.sync.progress import RunContext
from syncapp.sync.reasons import Reason, no_reason

BILL_PAYMENT = "ACCPAYPAYMENT"
# Xero's other PaymentTypes (Payment schema), in words: money that moved but paid no supplier bill.
OTHER_PAYMENT_TYPES = {
    "APCREDITPAYMENT": "A refund of a supplier credit note",
    "APPREPAYMENTPAYMENT": "A supplier prepayment",
    "APOVERPAYMENTPAYMENT": "A supplier overpayment or its refund",
    "ACCRECPAYMENT": "A customer's payment of a sales invoice",
    "ARCREDITPAYMENT": "A refund of a customer credit note",
    "ARPREPAYMENTPAYMENT": "A customer prepayment",
    "AROVERPAYMENTPAYMENT": "A customer overpayment or its refund",
}


def _payment_type_words(payment_type: str) -> str:
    what = OTHER_PAYMENT_TYPES.get(payment_type, "This payment")
    return f"{what} (Xero type {payment_type})" if payment_type else what


APPROVED_BILL_STATUSES = ("AUTHORISED", "PAID")
APPROVED_REQUISITION_STATUSES = ("approved", "approved_as_noted")
OPEN_STATES = (PaymentState.NEW, PaymentState.BLOCKED, PaymentState.READY)
# Verdicts that may only mean the kept copy of Procore is behind: the vendor's projects are
# looked through for changes before they stand.
MISSES = frozenset({Reason.INVOICE_NOT_FOUND, Reason.INVOICE_NOT_APPROVED})
WRITE_BATCH = 500


@dataclass
class Verdict:
    state: str
    reason: Reason | None = None
    params: dict = field(default_factory=dict)  # the payment's specifics the reason's words name
    target: dict = field(default_factory=dict)  # procore_* ids and names when ready or nearly

    @property
    def reason_code(self) -> str:
        return self.reason.value if self.reason else ""

    @property
    def message(self) -> str:
        return self.reason.words(self.params)[0] if self.reason else ""


def _blocked(reason: Reason, *, target: dict | None = None, **params) -> Verdict:
    return Verdict(PaymentState.BLOCKED, reason, params, target or {})


def _skipped(reason: Reason, **params) -> Verdict:
    return Verdict(PaymentState.SKIPPED, reason, params)


# --- the run step ---------------------------------------------------------------------------------


def resolve_pending(*, ctx: RunContext, index: ProcoreIndex) -> None:
    """Resolve every new, blocked or ready payment of the run's integration."""
    integration = ctx.run.integration
    payments = list(
        Payment.objects.filter(integration=integration, state__in=OPEN_STATES)
        # Deleted in Xero after an attempt to send it: whether Procore has it is checked first
        # (send.settle_deleted_unsent), so it is not set aside here unchecked.
        .exclude(xero_status="DELETED", attempts__gt=0, procore_commitment_id__isnull=False)
        .order_by("date", "id")
    )
    ctx.phase("resolve", total=len(payments))
    if not payments:
        return
    resolver = Resolver(integration=integration, index=index, actor_run=ctx.run)
    verdicts = {}
    for payment in payments:
        with log_context(payment_id=payment.pk):  # a verdict may read Procore
            verdicts[payment.pk] = resolver.verdict(payment)
    _guard_overpayment(integration, payments, verdicts, resolver.bills, index)
    for refusal in index.refusals().values():  # once per run, whatever the number of payments
        ctx.log(
            f"Procore refused project {refusal.name} ({refusal.what}): its payments are blocked, "
            "the other projects go on.",
            level="warning",
        )
    reasons = Counter()
    for payment in payments:
        verdict = verdicts[payment.pk]
        if verdict.state == PaymentState.BLOCKED:
            reasons[verdict.reason_code] += 1
        # Final outcomes only: a ready payment is counted when it is sent (or fails).
        if verdict.state in (PaymentState.BLOCKED, PaymentState.SKIPPED):
            ctx.count(str(verdict.state.value if hasattr(verdict.state, "value") else verdict.state))
    _write(ctx, payments, verdicts)
    ready = sum(1 for v in verdicts.values() if v.state == PaymentState.READY)
    line = f"Checked {len(payments)} payments: {ready} ready"
    if reasons:
        line += "; blocked: " + ", ".join(f"{n} {code.replace('_', ' ')}" for code, n in reasons.most_common())
    ctx.log(line)


def _not_for_procore(payment: Payment) -> Verdict | None:
    """Set aside (another payment type, deleted), or blocked on a Xero status nobody documented."""
    if payment.payment_type != BILL_PAYMENT:
        return _skipped(Reason.NOT_BILL_PAYMENT, what=_payment_type_words(payment.payment_type))
    if payment.xero_status == "DELETED":
        return _skipped(Reason.DELETED_IN_XERO)
    if payment.xero_status != "AUTHORISED":
        # Xero documents AUTHORISED and DELETED only; a status it added since (or none) is not
        # known to be a live payment, so it is not sent on a guess.
        return _blocked(Reason.UNKNOWN_XERO_STATUS, status=payment.xero_status or "having no status")
    return None


def _bill_unready(payment: Payment, bill: XeroBillRecord, label: str) -> Verdict | None:
    """The bill not approved, or the payment missing what Procore needs."""
    if bill.status not in APPROVED_BILL_STATUSES:
        return _blocked(Reason.BILL_NOT_APPROVED, bill=label, status=bill.status.lower())
    missing = [
        name
        for name, value in (
            ("payment date", payment.date),
            ("amount", payment.amount if payment.amount and payment.amount > 0 else None),
            ("invoice number", bill.invoice_number or payment.invoice_number),
        )
        if not value
    ]
    if missing:
        return _blocked(Reason.INCOMPLETE, bill=label, missing=missing)
    return None


class Resolver:
    """Holds this run's lookups (bills, contacts, links) so each is read once."""

    def __init__(self, *, integration, index: ProcoreIndex, actor_run):
        self.integration = integration
        self.index = index
        self.run = actor_run
        self.bills = {b.invoice_id: b for b in XeroBillRecord.objects.filter(integration=integration)}
        self.contacts = {c.contact_id: c for c in XeroContactRecord.objects.filter(integration=integration)}
        self.vendor_links = {v.xero_contact_id: v for v in VendorLink.objects.filter(integration=integration)}
        self.bill_links = {b.xero_invoice_id: b for b in BillLink.objects.filter(integration=integration)}
        self._matcher: VendorMatcher | None = None
        self._vendor_verdicts: dict[str, Verdict | int] = {}
        self._bill_verdicts: dict[tuple[str, int], Verdict] = {}
        self.company_currency = company_currency(integration)

    # --- the checks, in order ----------------------------------------------------------------

    def verdict(self, payment: Payment) -> Verdict:
        set_aside = _not_for_procore(payment)
        if set_aside is not None:
            return set_aside
        bill = self.bills.get(payment.xero_invoice_id)
        if bill is None:
            return _blocked(Reason.BILL_NOT_FETCHED)
        label = _bill_label(bill, payment)
        unready = _bill_unready(payment, bill, label)
        if unready is not None:
            return unready
        vendor = self.vendor_for(payment, bill)
        if isinstance(vendor, Verdict):
            return vendor
        target = self.target_for(bill, vendor)
        if target.state != PaymentState.READY:
            return target
        return self._currency_check(payment, bill, label, target)

    def _currency_check(self, payment: Payment, bill: XeroBillRecord, label: str, target: Verdict) -> Verdict:
        """The bill's currency must be the one Procore states for the commitment (or its
        subcontractor invoice). Where Procore states none (a single-currency company, the common
        case) it must be the company's: the Xero organisation's base currency unless an Admin set
        another. Procore stating no currency never blocks a payment by itself."""
        bill_currency = (bill.currency_code or payment.currency_code).upper()
        stated, whose = self._stated_currency(target.target)
        variant = ""
        if not stated:
            company = self.company_currency
            stated, whose = company.code, f"the Procore company ({company.source})"
            variant = "company"
        if not stated or not bill_currency or stated == bill_currency:
            return target
        return _blocked(
            Reason.CURRENCY_MISMATCH,
            target=target.target,
            variant=variant,
            bill=label,
            bill_currency=bill_currency,
            whose=whose,
            stated=stated,
        )

    def _stated_currency(self, target: dict) -> tuple[str, str]:
        """What Procore states for the target: the commitment's currency, else its invoice's."""
        commitment = self.index.commitments().get(target["procore_commitment_id"])
        if commitment is not None and commitment.currency_code:
            return commitment.currency_code, f"commitment {commitment.number or commitment.id} in Procore"
        requisition_id = target.get("procore_requisition_id")
        if requisition_id:
            requisition = self.index.requisition(requisition_id)
            if requisition is not None and requisition.currency_code:
                return requisition.currency_code, f"subcontractor invoice #{requisition.number} in Procore"
        return "", ""

    def vendor_for(self, payment: Payment, bill: XeroBillRecord) -> int | Verdict:
        contact_id = self._follow_merges(bill.contact_id or payment.xero_contact_id)
        if contact_id not in self._vendor_verdicts:
            self._vendor_verdicts[contact_id] = self._vendor_verdict(
                contact_id, bill.contact_name or payment.vendor_name
            )
        return self._vendor_verdicts[contact_id]

    def _follow_merges(self, contact_id: str) -> str:
        for _ in range(5):  # a merge chain is short; never loop forever on bad data
            contact = self.contacts.get(contact_id)
            if contact is None or not contact.merged_to_contact_id:
                return contact_id
            contact_id = contact.merged_to_contact_id
        return contact_id

    def _vendor_verdict(self, contact_id: str, fallback_name: str) -> int | Verdict:
        contact = self.contacts.get(contact_id)
        name = contact.name if contact else fallback_name
        link = self.vendor_links.get(contact_id)
        if link is not None and link.how == LinkHow.UNLINKED:
            return _blocked(Reason.VENDOR_NOT_LINKED, variant="unlinked", contact=name, vendor=link.vendor_name)
        if link is not None and link.confirmed:
            return link.procore_vendor_id
        if link is not None:
            return _blocked(
                Reason.VENDOR_SUGGESTION,
                contact=name,
                vendor=link.vendor_name,
                likeness=name_likeness(name, link.vendor_name),
            )
        if self._matcher is None:
            self._matcher = VendorMatcher(list(self.index.vendors().values()))
        match = self._matcher.match(contact_id=contact_id, name=name, tax_number=contact.tax_number if contact else "")
        if match.vendor is not None:
            confirmed = match.how != LinkHow.NAME_SUGGESTION
            link, _ = VendorLink.objects.update_or_create(
                integration=self.integration,
                xero_contact_id=contact_id,
                defaults={
                    "contact_name": fit(VendorLink, "contact_name", name),
                    "procore_vendor_id": match.vendor.id,
                    "vendor_name": fit(VendorLink, "vendor_name", match.vendor.name),
                    "how": match.how,
                    "confirmed": confirmed,
                },
            )
            self.vendor_links[contact_id] = link
            return self._vendor_verdict(contact_id, fallback_name)
        if match.how == "ambiguous":
            return _blocked(Reason.VENDOR_AMBIGUOUS, contact=name, vendors=[v.name for v in match.candidates[:5]])
        return _blocked(Reason.VENDOR_NOT_LINKED, contact=name)

    def target_for(self, bill: XeroBillRecord, vendor_id: int) -> Verdict:
        key = (bill.invoice_id, vendor_id)
        if key not in self._bill_verdicts:
            self._bill_verdicts[key] = self._current_target(bill, vendor_id)
        return self._bill_verdicts[key]

    def _current_target(self, bill: XeroBillRecord, vendor_id: int) -> Verdict:
        """The target on what is kept from Procore, checked against what changed where it points:
        the invoices of its project, the commitment as Procore shows it now. A bill that matches
        nothing kept has the vendor's projects looked through (`ProcoreIndex.look_wider`)."""
        verdict = self._target(bill, vendor_id)
        project_id = verdict.target.get("procore_project_id")
        if project_id and self.index.refresh_invoices(project_id):
            verdict = self._target(bill, vendor_id)
        if verdict.reason in MISSES:

            def matched() -> bool:
                return self._target(bill, vendor_id).reason not in MISSES

            if self.index.look_wider(vendor_id, matched):
                verdict = self._target(bill, vendor_id)
        # Last, as they cost two calls a project: deleted commitments the bill may name, where no
        # subcontractor invoice decided (a bill naming a deleted one is told so, not sent elsewhere).
        if verdict.reason in MISSES or (
            verdict.state == PaymentState.READY and not verdict.target.get("procore_requisition_id")
        ):
            verdict = self._target(bill, vendor_id, deleted=True)
        if verdict.state == PaymentState.READY or verdict.reason == Reason.COMMITMENT_NOT_PAYABLE:
            if self._commitment_changed(verdict.target):
                verdict = self._target(bill, vendor_id, deleted=True)
        return verdict

    def _commitment_changed(self, target: dict) -> bool:
        """Show the target commitment (once per run): whether its status changed. Its payments,
        read with it, are what the send step checks. A refusal or a failed read is left to the
        send step, which retries and fails the payment with the reason."""
        commitment_id = target.get("procore_commitment_id")
        if not commitment_id:
            return False
        before = self.index.commitments().get(commitment_id)
        try:
            self.index.payments_on(project_id=target["procore_project_id"], commitment_id=commitment_id)
        except (DataError, TransientError):
            return False
        return self.index.commitments().get(commitment_id) != before

    def _target(self, bill: XeroBillRecord, vendor_id: int, *, deleted: bool = False) -> Verdict:
        """The bill's commitment, tried in order: what points at it (an Admin's link, the
        subcontractor invoice made from it), its invoice number, its reference, its project.
        `deleted`: also look among the vendor's deleted commitments for one the bill names."""
        pointed = self._pointed_at(bill)
        if pointed is not None:
            return pointed
        label = _bill_label(bill, None)
        same_number = [
            r
            for r in self.index.requisitions_by_invoice_number(bill.invoice_number)
            if (c := self.index.commitment(r.commitment_id, project_id=r.project_id)) is not None
            and c.vendor_id == vendor_id
        ]
        named = self._by_approved_invoice(bill, same_number, label) or self._by_reference(
            bill, vendor_id, label, deleted=deleted
        )
        if named is not None:
            return named
        return self._by_project(bill, vendor_id, label, same_number)

    def _pointed_at(self, bill: XeroBillRecord) -> Verdict | None:
        link = self.bill_links.get(bill.invoice_id)
        if link is not None:
            return self._checked(
                bill, link.procore_project_id, link.procore_commitment_id, link.procore_requisition_id,
                how="an Admin linked it to that commitment",
            )  # fmt: skip
        requisition = self.index.requisition_by_origin(bill.invoice_id)
        if requisition is not None:
            return self._checked(
                bill, requisition.project_id, requisition.commitment_id, requisition.id,
                how=f"its subcontractor invoice #{requisition.number} is on it",
            )  # fmt: skip
        return None

    def _by_approved_invoice(self, bill: XeroBillRecord, same_number: list, label: str) -> Verdict | None:
        """The vendor's one approved subcontractor invoice with the bill's number."""
        approved = [r for r in same_number if r.status in APPROVED_REQUISITION_STATUSES]
        if len(approved) == 1:
            r = approved[0]
            return self._checked(
                bill, r.project_id, r.commitment_id, r.id, how=f"its subcontractor invoice #{r.number} is on it"
            )
        if len(approved) > 1:
            invoices = [
                f"{self.index.commitment(r.commitment_id, project_id=r.project_id).number} #{r.number}"
                for r in approved[:5]
            ]
            return _blocked(
                Reason.AMBIGUOUS_INVOICE, variant="invoices", bill=label, count=len(approved), invoices=invoices
            )
        return None

    def _by_reference(self, bill: XeroBillRecord, vendor_id: int, label: str, *, deleted: bool) -> Verdict | None:
        """The vendor's one commitment the bill's reference or tracking names."""
        named = self._commitments_named_by(bill, vendor_id, deleted=deleted)
        if len(named) == 1:
            return self._checked(bill, named[0].project_id, named[0].id, None, how="its reference names it")
        if len(named) > 1:
            return _blocked(Reason.AMBIGUOUS_INVOICE, bill=label, commitments=[c.number for c in named[:5]])
        return None

    def _by_project(self, bill: XeroBillRecord, vendor_id: int, label: str, same_number: list) -> Verdict:
        """The vendor's only commitment on the bill's project, or why there is none to pick."""
        on_project = self._commitments_on_tracked_projects(bill, vendor_id)
        # Only a commitment that can take payments is ever picked as the vendor's only one.
        takers = [c for c in on_project if payable(c)]
        if len(takers) == 1 and not same_number:
            only = takers[0]
            return self._checked(
                bill, only.project_id, only.id, None, how="it is the vendor's only commitment on the bill's project"
            )
        if same_number:
            status = same_number[0].status.replace("_", " ")
            return _blocked(Reason.INVOICE_NOT_APPROVED, number=bill.invoice_number, status=status)
        no_access = self._unreadable_project_of(bill, vendor_id)
        if no_access is not None:
            return no_access
        if on_project and not takers:
            where = "only commitment" if len(on_project) == 1 else f"commitments ({len(on_project)})"
            return self._not_payable(
                on_project[0],
                label,
                how=f"the vendor's {where} on the bill's project",
                deleted=False,
                several=on_project,
            )
        return self._not_found(bill, label, takers)

    def _not_found(self, bill: XeroBillRecord, label: str, takers: list) -> Verdict:
        refusals = self.index.all_refusals()
        if refusals:
            # The vendor's commitments there could not be read: say so instead of "not there".
            names = ", ".join(r.name for r in refusals[:5])
            return _blocked(
                Reason.INVOICE_NOT_FOUND,
                variant="unreadable",
                bill=label,
                number=bill.invoice_number,
                unread=f"{len(refusals)} project{'s' * (len(refusals) != 1)}",
                refused=[f"{r.name} ({r.what})" for r in refusals[:5]],
                which="one of those projects" if len(refusals) > 1 else "that project",
                **access_params(self.index, names),
            )
        if len(takers) > 1:
            return _blocked(
                Reason.INVOICE_NOT_FOUND, variant="several", bill=label, number=bill.invoice_number, count=len(takers)
            )
        return _blocked(Reason.INVOICE_NOT_FOUND, bill=label, number=bill.invoice_number)

    def _checked(
        self, bill: XeroBillRecord, project_id: int, commitment_id: int, requisition_id: int | None, *, how: str
    ) -> Verdict:
        """The target a bill points at, if Procore lets it take the payment: its project readable,
        the commitment neither deleted nor in a status that takes no payments."""
        label = _bill_label(bill, None)
        refusal = self.index.refusal(project_id)
        if refusal is not None:
            return self._no_access(refusal.name, refusal.what, label, project_id=project_id)
        if project_id not in self.index.projects():
            return self._no_access(f"#{project_id}", "it is not among the projects the Procore account can see", label)
        deleted = self.index.commitments().get(commitment_id) is None and self.index.deleted_commitment(
            commitment_id, project_id=project_id
        )
        if deleted:
            return self._not_payable(deleted, label, how=how, deleted=True)
        commitment = self.index.commitments().get(commitment_id)
        if commitment is not None and not payable(commitment):
            return self._not_payable(commitment, label, how=how, deleted=False)
        return self._ready(project_id, commitment_id, requisition_id)

    def _not_payable(self, commitment, label: str, *, how: str, deleted: bool, several: list | None = None) -> Verdict:
        number = commitment.number or f"#{commitment.id}"
        variant = "deleted" if deleted else ""
        if several and len(several) > 1:
            variant = "several"
        project = self.index.projects().get(commitment.project_id)
        return _blocked(
            Reason.COMMITMENT_NOT_PAYABLE,
            target={
                "procore_project_id": commitment.project_id,
                "project_name": fit(Payment, "project_name", project.name if project else ""),
                "procore_commitment_id": commitment.id,
                "commitment_number": fit(Payment, "commitment_number", number),
                "procore_vendor_id": commitment.vendor_id,
            },
            variant=variant,
            bill=label,
            how=how,
            number=number,
            status="deleted" if deleted else commitment.status,
            statuses=[f"{c.number} is {c.status}" for c in (several or [])[:5]],
            payable=payable_words(commitment.kind),
        )

    def _unreadable_project_of(self, bill: XeroBillRecord, vendor_id: int) -> Verdict | None:
        """A bill that matched nothing but whose project Procore would not show: its tracking names
        a refused project (or one missing from the projects the account can see), or the vendor's
        commitments are on a project whose invoices were refused."""
        label = _bill_label(bill, None)
        refusals = self.index.all_refusals()
        for name in _tracked_project_names(bill):
            visible = self._visible_projects_named(name)
            refused = [r for p in visible if (r := self.index.refusals().get(p)) is not None]
            if refused:
                return self._no_access(refused[0].name, refused[0].what, label, project_id=refused[0].project_id)
            if not visible:
                return self._no_access(name, "it is not among the projects the Procore account can see", label)
        vendor_projects = {c.project_id for c in self.index.commitments_of_vendor(vendor_id)}
        for refusal in refusals:
            if refusal.project_id in vendor_projects:
                return self._no_access(refusal.name, refusal.what, label, project_id=refusal.project_id)
        return None

    def _visible_projects_named(self, text: str) -> list[int]:
        text = text.casefold()
        return [
            p.id
            for p in self.index.projects().values()
            if (p.project_number and _names(p.project_number, text)) or (p.name and p.name.casefold() in text)
        ]

    def _no_access(self, project: str, what: str, label: str, *, project_id: int | None = None) -> Verdict:
        name = fit(Payment, "project_name", project)
        target = {"procore_project_id": project_id, "project_name": name} if project_id else {}
        return _blocked(
            Reason.NO_PROJECT_ACCESS, target=target, what=what, bill=label, **access_params(self.index, project)
        )

    def _commitments_named_by(self, bill: XeroBillRecord, vendor_id: int, *, deleted: bool) -> list:
        """The vendor's commitments whose number the bill's reference or tracking names; deleted ones
        only when no listed one is named (so a bill naming one is told it is deleted)."""
        text = " ".join([bill.reference, *bill.tracking]).casefold()
        if not text.strip():
            return []
        found = [c for c in self.index.commitments_of_vendor(vendor_id) if c.number and _names(c.number, text)]
        if not found and deleted:
            tracked = set(self._visible_projects_named(" ".join(bill.tracking))) if bill.tracking else set()
            gone = self.index.deleted_of_vendor(vendor_id, projects=tracked)
            found = [c for c in gone if c.number and _names(c.number, text)]
        return found

    def _commitments_on_tracked_projects(self, bill: XeroBillRecord, vendor_id: int) -> list:
        """The vendor's commitments (every status) on the project a tracking option names
        ("P-1001 Harbour Tower")."""
        text = " ".join(bill.tracking).casefold()
        if not text.strip():
            return []
        projects = set(self._visible_projects_named(text))
        return [c for c in self.index.commitments_of_vendor(vendor_id) if c.project_id in projects]

    def _ready(self, project_id: int, commitment_id: int, requisition_id: int | None) -> Verdict:
        project = self.index.projects().get(project_id)
        commitment = self.index.commitments().get(commitment_id)
        return Verdict(
            PaymentState.READY,
            target={
                "procore_project_id": project_id,
                "project_name": fit(Payment, "project_name", project.name if project else ""),
                "procore_commitment_id": commitment_id,
                "commitment_number": fit(Payment, "commitment_number", commitment.number if commitment else ""),
                "procore_requisition_id": requisition_id,
                "procore_vendor_id": commitment.vendor_id if commitment else None,
            },
        )


def access_params(index: ProcoreIndex, project: str) -> dict:
    """Whom a Procore admin adds to `project` so the integration can read and pay on it (the
    words of the fix are the catalogue's)."""
    login = index.procore_login()
    who = f"the service account {login}" if login else "the Procore user this integration connects as"
    return {"who": who, "project": project}


# Xero tracking categories that name a project ("Project: P-1001 Harbour Tower").
_PROJECT_CATEGORIES = ("project", "job")


def _tracked_project_names(bill: XeroBillRecord) -> list[str]:
    names = []
    for entry in bill.tracking:
        category, _, option = str(entry).partition(":")
        if option.strip() and any(word in category.casefold() for word in _PROJECT_CATEGORIES):
            names.append(option.strip())
    return names


def _names(number: str, text: str) -> bool:
    """Whether `text` names `number` as a whole token ("SC-012" is not in "SC-0123")."""
    number = number.casefold().strip()
    return bool(number) and re.search(rf"(?<![\w-]){re.escape(number)}(?![\w-])", text) is not None


def _bill_label(bill: XeroBillRecord | None, payment: Payment | None) -> str:
    number = (bill.invoice_number if bill else "") or (payment.invoice_number if payment else "")
    name = (bill.contact_name if bill else "") or (payment.vendor_name if payment else "")
    shown = f"'{number}'" if number else "(no number)"
    return f"{shown} from {name}" if name else shown


# --- the overpayment guard ------------------------------------------------------------------------


def _guard_overpayment(
    integration, payments: list[Payment], verdicts: dict[int, Verdict], bills: dict, index: ProcoreIndex
) -> None:
    """The payments on a bill can never add up to more than the bill: block the ones that would
    push the sum over (oldest go first). Counted: what we sent or are sending, and, where the bill
    has a subcontractor invoice, every payment Procore already holds on it (hand-entered ones too)."""
    ready_by_bill: dict[str, list[Payment]] = defaultdict(list)
    for payment in payments:
        if verdicts[payment.pk].state == PaymentState.READY:
            ready_by_bill[payment.xero_invoice_id].append(payment)
    if not ready_by_bill:
        return
    ours = dict(
        Payment.objects.filter(
            integration=integration,
            xero_invoice_id__in=list(ready_by_bill),
            state__in=[PaymentState.SENDING, PaymentState.SENT],
        )
        .values_list("xero_invoice_id")
        .annotate(total=Sum("amount"))
    )
    for invoice_id, candidates in ready_by_bill.items():
        bill = bills.get(invoice_id)
        if bill is not None:
            _guard_bill(bill, candidates, verdicts, index, ours=ours.get(invoice_id) or Decimal("0"))


def _guard_bill(
    bill: XeroBillRecord, candidates: list[Payment], verdicts: dict[int, Verdict], index: ProcoreIndex, *, ours: Decimal
) -> None:
    """Block the ready payments of one bill that would take its payments above its total.
    `ours`: what we sent or are sending on it, counted where Procore's own list is not read."""
    target = verdicts[candidates[0].pk].target
    try:
        in_procore = _procore_payments_on_invoice(index, target)
    except DataError as exc:
        if exc.status == 403:  # one project's payments refused: block its payments, go on
            project = target.get("project_name") or f"#{target['procore_project_id']}"
            for payment in candidates:
                verdicts[payment.pk] = _blocked(
                    Reason.NO_PROJECT_ACCESS,
                    target=target,
                    variant="payments_refused",
                    detail=exc.message,
                    **access_params(index, project),
                )
        return  # any other refusal fails each payment at sending, with Procore's message
    if in_procore is None:
        running, known = ours, set()
    else:
        running = sum((p.amount for p in in_procore), Decimal("0"))
        known = {p.origin_id for p in in_procore if p.origin_id}
    for payment in sorted(candidates, key=lambda p: (p.date, p.xero_payment_id)):
        if payment.xero_payment_id in known:
            continue  # already in Procore, already counted
        if running + payment.amount > bill.total:
            verdicts[payment.pk] = _blocked(
                Reason.OVERPAYMENT,
                target=verdicts[payment.pk].target,
                bill=_bill_label(bill, payment),
                sum=f"{running + payment.amount:,.2f}",
                total=f"{bill.total:,.2f}",
            )
            continue
        running += payment.amount


def _procore_payments_on_invoice(index: ProcoreIndex, target: dict) -> list | None:
    """Procore's payments on the bill's subcontractor invoice; None when the bill has none."""
    requisition_id = target.get("procore_requisition_id")
    if not requisition_id:
        return None
    existing = index.payments_on(project_id=target["procore_project_id"], commitment_id=target["procore_commitment_id"])
    return [p for p in existing.values() if p.requisition_id == requisition_id] + [
        p for p in index.unkeyed_payments(target["procore_commitment_id"]) if p.requisition_id == requisition_id
    ]


# --- writing the verdicts -------------------------------------------------------------------------

_TARGET_FIELDS = [
    "procore_project_id",
    "project_name",
    "procore_commitment_id",
    "commitment_number",
    "procore_requisition_id",
    "procore_vendor_id",
]
_WRITE_FIELDS = ["state", "reason_code", "reason_params", "message", "fix", *_TARGET_FIELDS, "updated_at"]


def _write(ctx: RunContext, payments: list[Payment], verdicts: dict[int, Verdict]) -> None:
    """Save what changed. Rows an Admin touched meanwhile (ignored, say) are left alone."""
    for start in range(0, len(payments), WRITE_BATCH):
        batch = payments[start : start + WRITE_BATCH]
        changed, events = [], []
        for payment in batch:
            verdict = verdicts[payment.pk]
            before = (payment.state, payment.reason_code, payment.message)
            rest_before = _target_and_params(payment)
            _apply(payment, verdict)
            if (payment.state, payment.reason_code, payment.message) != before:
                events.append(_event(ctx, payment, verdict))
                changed.append(payment)
            elif _target_and_params(payment) != rest_before:
                # Same state and words, another target (say an Admin linked the bill to another
                # commitment since) or other parameters: send reads the row, so it is written.
                changed.append(payment)
        if changed:
            with transaction.atomic():
                still_open = set(
                    Payment.objects.select_for_update()
                    .filter(pk__in=[p.pk for p in changed], state__in=OPEN_STATES)
                    .values_list("pk", flat=True)
                )
                rows = [p for p in changed if p.pk in still_open]
                Payment.objects.bulk_update(rows, _WRITE_FIELDS)
                PaymentEvent.objects.bulk_create([e for e in events if e.payment_id in still_open])
        ctx.advance(len(batch))


def _target_and_params(payment: Payment) -> tuple:
    """What `_apply` may change besides the state and the words: the Procore target and the
    reason's parameters."""
    return (*(getattr(payment, name) for name in _TARGET_FIELDS), payment.reason_params)


def _apply(payment: Payment, verdict: Verdict) -> None:
    payment.state = verdict.state
    reason_fields = verdict.reason.fields(**verdict.params) if verdict.reason else no_reason()
    for name, value in reason_fields.items():
        setattr(payment, name, value)
    for name in _TARGET_FIELDS:
        setattr(payment, name, verdict.target.get(name))
    payment.project_name = payment.project_name or ""
    payment.commitment_number = payment.commitment_number or ""
    payment.updated_at = timezone.now()


# Names keep their capital after "because" ("Blocked because Xero contact ...").
_PROPER_WORDS = ("Xero", "Procore")


def after_because(message: str) -> str:
    """A sentence continued after "because": its first letter lowered, unless it starts a name or
    an acronym."""
    if not message:
        return message
    first = message.split(" ", 1)[0].strip("'\"")
    if first in _PROPER_WORDS or (len(first) > 1 and first[1].isupper()):
        return message
    return message[0].lower() + message[1:]


def _event(ctx: RunContext, payment: Payment, verdict: Verdict) -> PaymentEvent:
    if verdict.state == PaymentState.READY:
        where = payment.commitment_number or f"commitment #{payment.procore_commitment_id}"
        message = f"Ready to send to {where}" + (
            f" on project '{payment.project_name}'" if payment.project_name else ""
        )
        kind = "ready"
    elif verdict.state == PaymentState.BLOCKED:
        message, kind = f"Blocked because {after_because(verdict.message)}", "blocked"
    else:
        message, kind = verdict.message, "skipped"
    return PaymentEvent.objects.build(payment, kind, message, run=ctx.run)

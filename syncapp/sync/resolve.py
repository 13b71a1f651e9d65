"""Matching and eligibility: each open payment becomes ready (with its Procore target) or blocked
(with a reason code, a message a finance person understands, and the fix), or is set aside as
not for Procore (other payment types, deleted before it was sent).

The checks, in order (domain.md section 4): a bill payment; not deleted; the bill fetched and
approved; date, amount and invoice number present; the contact linked to a Procore vendor; the
bill resolved to one commitment (and subcontractor invoice where one exists); the currency Procore
states for it, or else the company's; and the sum on the bill never above its total. Blocked payments are looked at
again on every run, so fixing the cause and running again sends them.
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


def not_bill_payment_message(payment_type: str) -> str:
    what = OTHER_PAYMENT_TYPES.get(payment_type, "This payment")
    kind = f" (Xero type {payment_type})" if payment_type else ""
    return f"{what}{kind} is not a payment of a supplier bill; Procore records only bill payments."
APPROVED_BILL_STATUSES = ("AUTHORISED", "PAID")
APPROVED_REQUISITION_STATUSES = ("approved", "approved_as_noted")
OPEN_STATES = (PaymentState.NEW, PaymentState.BLOCKED, PaymentState.READY)
# Verdicts that may only mean the kept copy of Procore is behind: the vendor's projects are
# looked through for changes before they stand.
MISSES = frozenset({"invoice_not_found", "invoice_not_approved"})
WRITE_BATCH = 500


@dataclass
class Verdict:
    state: str
    reason_code: str = ""
    message: str = ""
    fix: str = ""
    target: dict = field(default_factory=dict)  # procore_* ids and names when ready or nearly


def _blocked(code: str, message: str, fix: str = "", **target) -> Verdict:
    return Verdict(PaymentState.BLOCKED, code, message[:500], fix[:500], target)


def _skipped(code: str, message: str) -> Verdict:
    return Verdict(PaymentState.SKIPPED, code, message[:500])


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


def resolve_one(*, payment: Payment, index: ProcoreIndex) -> Verdict:
    """The verdict for one payment, without writing it (for previews and tests)."""
    resolver = Resolver(integration=payment.integration, index=index, actor_run=None)
    return resolver.verdict(payment)


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
        if payment.payment_type != BILL_PAYMENT:
            return _skipped("not_bill_payment", not_bill_payment_message(payment.payment_type))
        if payment.xero_status == "DELETED":
            return _skipped("deleted_in_xero", "Deleted in Xero before it was sent to Procore: nothing to send.")
        if payment.xero_status != "AUTHORISED":
            # Xero documents AUTHORISED and DELETED only; a status it added since (or none) is not
            # known to be a live payment, so it is not sent on a guess.
            return _blocked(
                "unknown_xero_status",
                f"Xero reports this payment as {payment.xero_status or 'having no status'}, "
                "which this product does not know.",
                "Check the payment in Xero; run the sync again once Xero shows it as authorised or deleted.",
            )
        bill = self.bills.get(payment.xero_invoice_id)
        if bill is None:
            return _blocked(
                "bill_not_fetched",
                "The bill of this payment could not be read from Xero.",
                "Run the sync again; if this stays, check the bill still exists in Xero.",
            )
        label = _bill_label(bill, payment)
        if bill.status not in APPROVED_BILL_STATUSES:
            return _blocked(
                "bill_not_approved",
                f"Bill {label} is {bill.status.lower()} in Xero, not approved.",
                f"Approve bill {label} in Xero, then run the sync again.",
            )
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
            return _blocked(
                "incomplete",
                f"The payment on bill {label} has no {' and no '.join(missing)} in Xero.",
                f"Fill in the {', '.join(missing)} in Xero, then run the sync again.",
            )
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
        fix = "Record this payment in Procore by hand (converted), then ignore it here."
        if not stated:
            company = self.company_currency
            stated, whose = company.code, f"the Procore company ({company.source})"
            fix = (
                f"If the Procore company works in {bill_currency}, set its currency on the Settings page; "
                "otherwise record this payment in Procore by hand (converted), then ignore it here."
            )
        if not stated or not bill_currency or stated == bill_currency:
            return target
        return _blocked(
            "currency_mismatch",
            f"Bill {label} is in {bill_currency} but {whose} is in {stated}.",
            fix,
            **target.target,
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
            return _blocked(
                "vendor_not_linked",
                f"Xero contact '{name}' was unlinked from Procore vendor '{link.vendor_name}' by an Admin.",
                f"Link Xero contact '{name}' to the right Procore vendor, or create the vendor in Procore from "
                "the Xero contact.",
            )
        if link is not None and link.confirmed:
            return link.procore_vendor_id
        if link is not None:
            return _blocked(
                "vendor_suggestion",
                f"Xero contact '{name}' looks like Procore vendor '{link.vendor_name}' "
                f"({name_likeness(name, link.vendor_name)}), "
                "but an Admin has not confirmed it.",
                f"Confirm that Xero contact '{name}' is Procore vendor '{link.vendor_name}', or link another vendor.",
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
                    "contact_name": name[:255],
                    "procore_vendor_id": match.vendor.id,
                    "vendor_name": match.vendor.name[:255],
                    "how": match.how,
                    "confirmed": confirmed,
                },
            )
            self.vendor_links[contact_id] = link
            return self._vendor_verdict(contact_id, fallback_name)
        if match.how == "ambiguous":
            names = ", ".join(f"'{v.name}'" for v in match.candidates[:5])
            return _blocked(
                "vendor_ambiguous",
                f"Xero contact '{name}' matches several Procore vendors: {names}.",
                f"Link Xero contact '{name}' to the right Procore vendor.",
            )
        return _blocked(
            "vendor_not_linked",
            f"Xero contact '{name}' is not linked to a Procore vendor.",
            f"Link Xero contact '{name}' to a Procore vendor, or create the vendor in Procore from the Xero contact.",
        )

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
        if verdict.reason_code in MISSES:
            def matched() -> bool:
                return self._target(bill, vendor_id).reason_code not in MISSES

            if self.index.look_wider(vendor_id, matched):
                verdict = self._target(bill, vendor_id)
        # Last, as they cost two calls a project: deleted commitments the bill may name, where no
        # subcontractor invoice decided (a bill naming a deleted one is told so, not sent elsewhere).
        if verdict.reason_code in MISSES or (
            verdict.state == PaymentState.READY and not verdict.target.get("procore_requisition_id")
        ):
            verdict = self._target(bill, vendor_id, deleted=True)
        if verdict.state == PaymentState.READY or verdict.reason_code == "commitment_not_payable":
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
        """`deleted`: also look among the vendor's deleted commitments for one the bill names."""
        index = self.index
        label = _bill_label(bill, None)
        link = self.bill_links.get(bill.invoice_id)
        if link is not None:
            return self._checked(
                bill, link.procore_project_id, link.procore_commitment_id, link.procore_requisition_id,
                how="an Admin linked it to that commitment",
            )  # fmt: skip
        requisition = index.requisition_by_origin(bill.invoice_id)
        if requisition is not None:
            return self._checked(
                bill, requisition.project_id, requisition.commitment_id, requisition.id,
                how=f"its subcontractor invoice #{requisition.number} is on it",
            )  # fmt: skip
        same_number = [
            r
            for r in index.requisitions_by_invoice_number(bill.invoice_number)
            if (c := index.commitment(r.commitment_id, project_id=r.project_id)) is not None
            and c.vendor_id == vendor_id
        ]
        approved = [r for r in same_number if r.status in APPROVED_REQUISITION_STATUSES]
        if len(approved) == 1:
            r = approved[0]
            return self._checked(
                bill, r.project_id, r.commitment_id, r.id, how=f"its subcontractor invoice #{r.number} is on it"
            )
        if len(approved) > 1:
            names = ", ".join(
                f"{index.commitment(r.commitment_id, project_id=r.project_id).number} #{r.number}" for r in approved[:5]
            )
            return _blocked(
                "ambiguous_invoice",
                f"Bill {label} matches {len(approved)} approved subcontractor invoices in Procore: {names}.",
                f"Pick the right commitment for bill {label} (link the bill by hand).",
            )
        named = self._commitments_named_by(bill, vendor_id, deleted=deleted)
        if len(named) == 1:
            return self._checked(bill, named[0].project_id, named[0].id, None, how="its reference names it")
        if len(named) > 1:
            names = ", ".join(c.number for c in named[:5])
            return _blocked(
                "ambiguous_invoice",
                f"Bill {label} names several commitments of this vendor in Procore: {names}.",
                f"Pick the right commitment for bill {label} (link the bill by hand).",
            )
        on_project = self._commitments_on_tracked_projects(bill, vendor_id)
        # Only a commitment that can take payments is ever picked as the vendor's only one.
        takers = [c for c in on_project if payable(c)]
        if len(takers) == 1 and not same_number:
            only = takers[0]
            return self._checked(
                bill, only.project_id, only.id, None, how="it is the vendor's only commitment on the bill's project"
            )
        if same_number:
            r = same_number[0]
            status = r.status.replace("_", " ")
            return _blocked(
                "invoice_not_approved",
                f"Subcontractor invoice {bill.invoice_number!r} in Procore is {status}, not approved.",
                f"Approve subcontractor invoice {bill.invoice_number!r} in Procore, then run the sync again.",
            )
        no_access = self._unreadable_project_of(bill, vendor_id)
        if no_access is not None:
            return no_access
        if on_project and not takers:
            only = on_project[0]
            where = "only commitment" if len(on_project) == 1 else f"commitments ({len(on_project)})"
            return self._not_payable(
                only, label, how=f"the vendor's {where} on the bill's project", deleted=False, several=on_project
            )
        several = ""
        if len(takers) > 1:
            several = f" The vendor has {len(takers)} commitments on the bill's project, so none can be picked."
        message = f"No Procore subcontractor invoice or commitment of this vendor matches bill {label}.{several}"
        fix = (
            f"Check that the subcontractor invoice is in Procore with invoice number {bill.invoice_number!r}, "
            "or link the bill to a commitment by hand."
        )
        refusals = index.all_refusals()
        if refusals:
            # The vendor's commitments there could not be read: say so instead of "not there".
            listed = ", ".join(f"{r.name} ({r.what})" for r in refusals[:5])
            message = (
                f"Bill {label} was not found in Procore; {len(refusals)} project{'s' * (len(refusals) != 1)} "
                f"could not be read: {listed}."
            )
            which = "one of those projects" if len(refusals) > 1 else "that project"
            fix = f"{fix} If it belongs to {which}: " + self._access_fix(", ".join(r.name for r in refusals[:5]))
        return _blocked("invoice_not_found", message, fix)

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
        status = "deleted" if deleted else commitment.status
        if several and len(several) > 1:
            states = ", ".join(f"{c.number} is {c.status}" for c in several[:5])
            message = f"Bill {label}: {how} cannot take payments in Procore ({states})."
        else:
            message = f"Commitment {number} is {status} in Procore: it cannot take payments. Bill {label}: {how}."
        if deleted:
            fix = (
                f"Link bill {label} to the commitment that replaced {number} in Mappings, or record the payment "
                "in Procore by hand and ignore it here."
            )
        else:
            fix = (
                f"Link bill {label} to the right commitment in Mappings, or have {number} approved in Procore "
                f"(only {payable_words(commitment.kind)} commitments take payments), then run the sync again."
            )
        project = self.index.projects().get(commitment.project_id)
        return _blocked(
            "commitment_not_payable",
            message,
            fix,
            procore_project_id=commitment.project_id,
            project_name=(project.name if project else "")[:255],
            procore_commitment_id=commitment.id,
            commitment_number=number[:100],
            procore_vendor_id=commitment.vendor_id,
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
        target = {"procore_project_id": project_id, "project_name": project[:255]} if project_id else {}
        return _blocked(
            "no_project_access",
            f"No access to project {project} in Procore ({what}), so bill {label} cannot be matched or sent.",
            self._access_fix(project),
            **target,
        )

    def _access_fix(self, project: str) -> str:
        return access_fix(self.index, project)

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
                "project_name": (project.name if project else "")[:255],
                "procore_commitment_id": commitment_id,
                "commitment_number": (commitment.number if commitment else "")[:100],
                "procore_requisition_id": requisition_id,
                "procore_vendor_id": commitment.vendor_id if commitment else None,
            },
        )


def access_fix(index: ProcoreIndex, project: str) -> str:
    """What a Procore admin does so the integration can read and pay on `project`."""
    login = index.procore_login()
    who = f"the service account {login}" if login else "the Procore user this integration connects as"
    return (
        f"Add {who} to project {project}'s directory with Commitments and Invoicing permission, or turn "
        "those tools on in the project, then run the sync again."
    )


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
        if bill is None:
            continue
        target = verdicts[candidates[0].pk].target
        try:
            in_procore = _procore_payments_on_invoice(index, target)
        except DataError as exc:
            if exc.status == 403:  # one project's payments refused: block its payments, go on
                for payment in candidates:
                    verdicts[payment.pk] = _blocked(
                        "no_project_access",
                        exc.message,
                        access_fix(index, target.get("project_name") or f"#{target['procore_project_id']}"),
                        **target,
                    )
            continue  # any other refusal fails each payment at sending, with Procore's message
        if in_procore is None:
            running = ours.get(invoice_id) or Decimal("0")
            known: set[str] = set()
        else:
            running = sum((p.amount for p in in_procore), Decimal("0"))
            known = {p.origin_id for p in in_procore if p.origin_id}
        for payment in sorted(candidates, key=lambda p: (p.date, p.xero_payment_id)):
            if payment.xero_payment_id in known:
                continue  # already in Procore, already counted
            if running + payment.amount > bill.total:
                label = _bill_label(bill, payment)
                verdicts[payment.pk] = _blocked(
                    "overpayment",
                    f"Sending this payment would bring the payments on bill {label} to "
                    f"{running + payment.amount:,.2f}, more than the bill's total of {bill.total:,.2f}.",
                    "Check the payments on this bill in Xero and in Procore (one may be entered twice, or by "
                    "hand), or ignore this payment.",
                    **verdicts[payment.pk].target,
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
_WRITE_FIELDS = ["state", "reason_code", "message", "fix", *_TARGET_FIELDS, "updated_at"]


def _write(ctx: RunContext, payments: list[Payment], verdicts: dict[int, Verdict]) -> None:
    """Save what changed. Rows an Admin touched meanwhile (ignored, say) are left alone."""
    for start in range(0, len(payments), WRITE_BATCH):
        batch = payments[start : start + WRITE_BATCH]
        changed, events = [], []
        for payment in batch:
            verdict = verdicts[payment.pk]
            before = (payment.state, payment.reason_code, payment.message)
            _apply(payment, verdict)
            if (payment.state, payment.reason_code, payment.message) != before:
                events.append(_event(ctx, payment, verdict))
                changed.append(payment)
            elif any(getattr(payment, name) != verdict.target.get(name) for name in _TARGET_FIELDS if verdict.target):
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


def _apply(payment: Payment, verdict: Verdict) -> None:
    payment.state = verdict.state
    payment.reason_code = verdict.reason_code
    payment.message = verdict.message
    payment.fix = verdict.fix
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
    return PaymentEvent(payment=payment, kind=kind, message=message[:1000], run=ctx.run)

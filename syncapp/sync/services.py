"""What people do to payments and links from the dashboard: link, confirm or unlink a vendor, create
the vendor in Procore, link a bill to a commitment, retry, ignore and un-ignore a payment, and
close a reversal that needs attention (done by hand, or try again).

Each writes the change, a payment event where a payment is concerned, and an audit entry, in one
transaction. A fixed cause takes effect on the next run (blocked payments are re-checked then).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from syncapp.connections.models import Integration
from syncapp.connectors.protocols import ProcoreApi
from syncapp.core import audit
from syncapp.core.text import fit
from syncapp.sync.models import (
    BillLink,
    LinkHow,
    Payment,
    PaymentEvent,
    PaymentState,
    SyncSettings,
    VendorLink,
    XeroBillRecord,
    XeroContactRecord,
)
from syncapp.sync.reasons import Reason, no_reason


class ActionRefused(Exception):
    """The action does not apply to this payment in its current state (message for people)."""


def _user(actor):
    return actor if actor is not None and actor.is_authenticated else None


# --- vendors ----------------------------------------------------------------------------------------


@transaction.atomic
def link_vendor(
    *,
    integration: Integration,
    xero_contact_id: str,
    procore_vendor_id: int,
    vendor_name: str = "",
    actor=None,
    how: str = LinkHow.MANUAL,
) -> VendorLink:
    """An Admin links a Xero contact to a Procore vendor (confirmed): one picked, or one just
    created in Procore from the contact (`how` CREATED, audited as such)."""
    contact = XeroContactRecord.objects.filter(integration=integration, contact_id=xero_contact_id).first()
    contact_name = contact.name if contact else ""
    link, _ = VendorLink.objects.update_or_create(
        integration=integration,
        xero_contact_id=xero_contact_id,
        defaults={
            "contact_name": contact_name,
            "procore_vendor_id": procore_vendor_id,
            "vendor_name": fit(VendorLink, "vendor_name", vendor_name),
            "how": how,
            "confirmed": True,
            "linked_by": _user(actor),
        },
    )
    created = how == LinkHow.CREATED
    audit.record(
        action="vendor.created" if created else "vendor.linked",
        summary=f"Created Procore vendor '{vendor_name or procore_vendor_id}' from Xero contact "
        f"'{contact_name or xero_contact_id}' and linked them"
        if created
        else f"Linked Xero contact '{contact_name or xero_contact_id}' to Procore vendor "
        f"'{vendor_name or procore_vendor_id}'",
        actor=actor,
        integration=integration,
        xero_contact_id=xero_contact_id,
        procore_vendor_id=procore_vendor_id,
    )
    return link


@transaction.atomic
def confirm_suggestion(*, link: VendorLink, actor=None) -> VendorLink:
    """An Admin confirms a name-only match."""
    VendorLink.objects.filter(pk=link.pk).update(confirmed=True, linked_by=_user(actor), linked_at=timezone.now())
    link.refresh_from_db()
    audit.record(
        action="vendor.confirmed",
        summary=f"Confirmed Xero contact '{link.contact_name}' is Procore vendor '{link.vendor_name}'",
        actor=actor,
        integration=link.integration,
        xero_contact_id=link.xero_contact_id,
        procore_vendor_id=link.procore_vendor_id,
    )
    return link


@transaction.atomic
def reject_suggestion(*, link: VendorLink, actor=None) -> None:
    """An Admin says the name match is wrong; the contact is blocked as not linked until linked."""
    if link.confirmed:
        raise ActionRefused("This link is confirmed; link the contact to another vendor instead.")
    audit.record(
        action="vendor.suggestion_rejected",
        summary=f"Rejected the match of Xero contact '{link.contact_name}' to Procore vendor '{link.vendor_name}'",
        actor=actor,
        integration=link.integration,
    )
    link.delete()


@transaction.atomic
def unlink_vendor(*, link: VendorLink, actor=None) -> VendorLink:
    """An Admin takes a vendor link away, confirmed or not. The row stays, marked unlinked, so no
    automatic match brings the same vendor back; the contact's payments not yet sent are blocked
    as not linked on the next run, until an Admin links a vendor again."""
    if link.how == LinkHow.UNLINKED:
        raise ActionRefused("This contact is already unlinked.")
    was_confirmed = link.confirmed
    VendorLink.objects.filter(pk=link.pk).update(
        how=LinkHow.UNLINKED, confirmed=False, linked_by=_user(actor), linked_at=timezone.now()
    )
    link.refresh_from_db()
    waiting = Payment.objects.filter(
        integration=link.integration,
        xero_contact_id=link.xero_contact_id,
        state__in=[PaymentState.NEW, PaymentState.BLOCKED, PaymentState.READY],
    ).count()
    kind = "link" if was_confirmed else "suggested link"
    audit.record(
        action="vendor.unlinked",
        summary=f"Removed the {kind} of Xero contact '{link.contact_name or link.xero_contact_id}' to Procore "
        f"vendor '{link.vendor_name or link.procore_vendor_id}' ({waiting} unsent payments re-checked next run)",
        actor=actor,
        integration=link.integration,
        xero_contact_id=link.xero_contact_id,
        procore_vendor_id=link.procore_vendor_id,
    )
    return link


def create_vendor_from_contact(
    *, integration: Integration, xero_contact_id: str, procore: ProcoreApi, actor=None
) -> VendorLink:
    """Create the vendor in Procore from the Xero contact (origin_id = ContactID), then link it."""
    contact = XeroContactRecord.objects.get(integration=integration, contact_id=xero_contact_id)
    notes = f"Created from Xero contact {contact.name}"
    if contact.tax_number:
        notes += f"; tax number {contact.tax_number}"
    vendor = procore.create_vendor(name=contact.name, origin_id=contact.contact_id, notes=notes)
    return link_vendor(
        integration=integration,
        xero_contact_id=xero_contact_id,
        procore_vendor_id=vendor.id,
        vendor_name=vendor.name,
        actor=actor,
        how=LinkHow.CREATED,
    )


# --- bills ------------------------------------------------------------------------------------------


@transaction.atomic
def link_bill(
    *,
    integration: Integration,
    xero_invoice_id: str,
    procore_project_id: int,
    procore_commitment_id: int,
    procore_requisition_id: int | None = None,
    commitment_label: str = "",
    actor=None,
) -> BillLink:
    """An Admin picks the commitment (and subcontractor invoice) of a bill. `commitment_label` is
    what the picker showed (project, commitment number and title): the audit log says it."""
    link, _ = BillLink.objects.update_or_create(
        integration=integration,
        xero_invoice_id=xero_invoice_id,
        defaults={
            "procore_project_id": procore_project_id,
            "procore_commitment_id": procore_commitment_id,
            "procore_requisition_id": procore_requisition_id,
            "how": LinkHow.MANUAL,
            "linked_by": _user(actor),
        },
    )
    bill = XeroBillRecord.objects.filter(integration=integration, invoice_id=xero_invoice_id).first()
    bill_name = f"bill {bill.invoice_number or xero_invoice_id}" if bill else f"Xero bill {xero_invoice_id}"
    if bill and bill.contact_name:
        bill_name += f" ({bill.contact_name})"
    audit.record(
        action="bill.linked",
        summary=f"Linked {bill_name} to Procore commitment {commitment_label or f'#{procore_commitment_id}'}",
        actor=actor,
        integration=integration,
        xero_invoice_id=xero_invoice_id,
        invoice_number=bill.invoice_number if bill else "",
        commitment_label=commitment_label,
        procore_commitment_id=procore_commitment_id,
        procore_requisition_id=procore_requisition_id,
    )
    return link


# --- payments ---------------------------------------------------------------------------------------


def _act(
    payment: Payment,
    *,
    actor,
    allowed: tuple[str, ...],
    to: str,
    event: tuple[str, str],
    action: str,
    summary: str,
    reason: str = "",
    **fields,
) -> Payment:
    """An Admin's action on one payment: the guarded move, a line in its history (the event text
    may name "{who}" and "{reason}"), and an audit entry."""
    moved = Payment.objects.transition(payment, from_states=allowed, to=to, **{**no_reason(), **fields})
    if not moved:
        payment.refresh_from_db()  # as it is now: the refusal names its state
        raise ActionRefused(f"This payment is {payment.get_state_display().lower()}; that cannot be done now.")
    kind, text = event
    who = getattr(actor, "username", "") or "the system"
    PaymentEvent.objects.record(payment, kind, text.format(who=who, reason=reason), actor=_user(actor))
    audit.record(
        action=action,
        summary=summary,
        actor=actor,
        integration=payment.integration,
        payment_id=payment.pk,
        invoice_number=payment.invoice_number,
        vendor_name=payment.vendor_name,
    )
    return payment


def _named(payment: Payment) -> str:
    """A payment as the audit log names it: by its bill and vendor, not by its Xero id."""
    amount = f" of {payment.amount:,.2f} {payment.currency_code}".rstrip() if payment.amount is not None else ""
    bill = payment.invoice_number or payment.xero_payment_id
    vendor = f" ({payment.vendor_name})" if payment.vendor_name else ""
    return f"the payment{amount} on bill {bill}{vendor}"


@transaction.atomic
def retry_payment(*, payment: Payment, actor=None) -> Payment:
    """A failed payment goes back to the queue; the next run checks Procore before posting."""
    return _act(
        payment,
        actor=actor,
        allowed=(PaymentState.FAILED,),
        to=PaymentState.NEW,
        event=("retried", "Retried by {who}"),
        action="payment.retried",
        summary=f"Retried {_named(payment)}",
    )


@transaction.atomic
def ignore_payment(*, payment: Payment, reason: str, actor=None) -> Payment:
    """Keep a payment out of Procore for good (with the reason), until un-ignored."""
    reason = reason.strip()
    if not reason:
        raise ActionRefused("Say why this payment is ignored.")
    return _act(
        payment,
        actor=actor,
        allowed=(PaymentState.NEW, PaymentState.BLOCKED, PaymentState.READY, PaymentState.FAILED),
        to=PaymentState.IGNORED,
        event=("ignored", "Ignored by {who}: {reason}"),
        action="payment.ignored",
        summary=f"Ignored {_named(payment)}: {reason}",
        reason=reason,
        **Reason.IGNORED.fields(reason=reason),
    )


@transaction.atomic
def unignore_payment(*, payment: Payment, actor=None) -> Payment:
    """Back to new: the next run checks it like any other."""
    return _act(
        payment,
        actor=actor,
        allowed=(PaymentState.IGNORED,),
        to=PaymentState.NEW,
        event=("unignored", "Un-ignored by {who}"),
        action="payment.unignored",
        summary=f"Un-ignored {_named(payment)}",
    )


@transaction.atomic
def mark_reversal_done(*, payment: Payment, actor=None) -> Payment:
    """A person deleted the Procore payment by hand after Procore refused our delete."""
    return _act(
        payment,
        actor=actor,
        allowed=(PaymentState.NEEDS_ATTENTION,),
        to=PaymentState.REVERSED,
        event=("reversed", "Reversal done by hand, confirmed by {who}"),
        action="payment.reversal_done",
        summary=f"Confirmed the manual reversal of {_named(payment)}",
    )


@transaction.atomic
def retry_reversal(*, payment: Payment, actor=None) -> Payment:
    """Try the Procore delete again on the next run."""
    return _act(
        payment,
        actor=actor,
        allowed=(PaymentState.NEEDS_ATTENTION,),
        to=PaymentState.SENT,
        event=("retried", "Reversal retried by {who}"),
        action="payment.reversal_retried",
        summary=f"Retried the reversal of {_named(payment)}",
    )


# --- settings ---------------------------------------------------------------------------------------


@transaction.atomic
def update_settings(
    *, integration: Integration, payment_method: str, start_date, company_currency: str = "", actor=None
) -> SyncSettings:
    """An Admin changes the mapping defaults of an integration; each change is audited.
    `company_currency` "" means: the Xero organisation's base currency."""
    current, _ = SyncSettings.objects.select_for_update().get_or_create(integration=integration)
    wanted = {"payment_method": payment_method, "start_date": start_date, "company_currency": company_currency}
    changes = {
        name: (str(getattr(current, name) or "—"), str(value or "—"))
        for name, value in wanted.items()
        if getattr(current, name) != value
    }
    if not changes:
        return current
    for name, value in wanted.items():
        setattr(current, name, value)
    current.save()
    said = ", ".join(f"{name.replace('_', ' ')} from {old} to {new}" for name, (old, new) in changes.items())
    audit.record(
        action="settings.changed",
        summary=f"Changed {said}",
        actor=actor,
        integration=integration,
        changes=changes,
    )
    return current

"""The words of the "How it works" page (/help/): what each reason code means and how a person
fixes it, and what each payment state means.

Keyed by the codes the engine writes to `Payment.reason_code` (titles are taken from `syncapp.sync.reasons`) and
by `PaymentState`; tests/dashboard/test_help.py fails when the engine writes a code this page does
not explain, so the page cannot drift from the code. Every reason shown in the dashboard links to
its section, `/help/#reason-<code>`.
"""

from __future__ import annotations

from typing import NamedTuple

from django.urls import reverse

from syncapp.sync.reasons import REASON_TITLES


class ReasonHelp(NamedTuple):
    group: str  # blocked | failed | set_aside
    means: str
    fix: str


BLOCKED, FAILED, SET_ASIDE = "blocked", "failed", "set_aside"

# key -> (heading, what the reasons of the group have in common)
REASON_GROUPS: dict[str, tuple[str, str]] = {
    BLOCKED: ("Why a payment is blocked", "Found before sending. Fix the cause; the next run sends the payment."),
    FAILED: ("Why a payment failed", "Procore refused it when it was sent. Fix the cause, then retry it."),
    SET_ASIDE: ("Why a payment is not sent", "There is nothing to send, or a person decided so."),
}

REASONS: dict[str, ReasonHelp] = {
    "unknown_xero_status": ReasonHelp(
        BLOCKED,
        "Xero gives the payment a status other than authorised or deleted, so it is not known to be a "
        "live payment and is not sent on a guess.",
        "Look at the payment in Xero. Once Xero shows it as authorised (or deleted), run the sync again.",
    ),
    "bill_not_fetched": ReasonHelp(
        BLOCKED,
        "The bill the payment pays could not be read from Xero during the run.",
        "Run the sync again. If it stays blocked, check that the bill still exists in Xero.",
    ),
    "bill_not_approved": ReasonHelp(
        BLOCKED,
        "The bill is a draft or waiting for approval in Xero. Only approved (or paid) bills are sent.",
        "Approve the bill in Xero, then run the sync again.",
    ),
    "incomplete": ReasonHelp(
        BLOCKED,
        "The payment has no date, amount or invoice number in Xero; Procore needs all three.",
        "Fill in what is missing in Xero, then run the sync again.",
    ),
    "currency_mismatch": ReasonHelp(
        BLOCKED,
        "The bill is in another currency than the one Procore states for the commitment, or than the "
        "Procore company's currency. Procore would record the amount in the wrong currency.",
        "If the Procore company works in the bill's currency, an Admin sets it on the Settings page. "
        "Otherwise record the payment in Procore by hand (converted), then ignore it here.",
    ),
    "vendor_not_linked": ReasonHelp(
        BLOCKED,
        "The Xero contact who was paid is not linked to a Procore vendor (or an Admin unlinked it).",
        "An Admin links the contact to its Procore vendor in Mappings, or creates the vendor in Procore "
        "from the Xero contact. The next run sends the payment.",
    ),
    "vendor_suggestion": ReasonHelp(
        BLOCKED,
        "A Procore vendor looks like the Xero contact (same or close name), but nobody has confirmed it.",
        "An Admin confirms the suggested vendor in Mappings, or links another one.",
    ),
    "vendor_ambiguous": ReasonHelp(
        BLOCKED,
        "Several Procore vendors match the Xero contact, so none is picked.",
        "An Admin links the contact to the right vendor in Mappings.",
    ),
    "ambiguous_invoice": ReasonHelp(
        BLOCKED,
        "Several Procore commitments or subcontractor invoices match the bill, so none is picked.",
        "An Admin picks the right commitment for the bill in Mappings → Bills.",
    ),
    "invoice_not_approved": ReasonHelp(
        BLOCKED,
        "The bill's subcontractor invoice is in Procore but not approved yet.",
        "Approve the subcontractor invoice in Procore, then run the sync again.",
    ),
    "invoice_not_found": ReasonHelp(
        BLOCKED,
        "No subcontractor invoice or commitment of the vendor in Procore matches the bill.",
        "Check that the subcontractor invoice is in Procore with the bill's invoice number, or have an "
        "Admin link the bill to a commitment in Mappings → Bills.",
    ),
    "commitment_not_payable": ReasonHelp(
        BLOCKED,
        "The commitment the bill belongs to is in a status that takes no payments (a draft, say), or was deleted.",
        "Have the commitment approved in Procore, or link the bill to the right commitment in Mappings, "
        "then run the sync again.",
    ),
    "no_project_access": ReasonHelp(
        BLOCKED,
        "The Procore user this integration connects as cannot read the project's commitments or invoices.",
        "A Procore admin adds that user to the project's directory with Commitments and Invoicing "
        "permission (or turns those tools on in the project), then the sync is run again.",
    ),
    "overpayment": ReasonHelp(
        BLOCKED,
        "Sending the payment would bring the payments on the bill above the bill's total: one may have "
        "been entered twice, or by hand in Procore.",
        "Compare the bill's payments in Xero and in Procore. Remove the duplicate, or ignore this payment.",
    ),
    "procore_refused": ReasonHelp(
        FAILED,
        "Procore answered the payment with an error; its own words are on the payment.",
        "Correct the cause Procore names (in Procore or in Xero), then an Admin retries the payment from "
        "its page or from Failures.",
    ),
    "reversal_refused": ReasonHelp(
        FAILED,
        "The payment was deleted in Xero after it was sent, and Procore refused to delete its copy.",
        "Delete the payment in Procore by hand and mark the reversal done on the payment's page, or retry "
        "the reversal.",
    ),
    "deleted_in_xero": ReasonHelp(
        SET_ASIDE,
        "The payment was deleted in Xero before it was sent, so there is nothing to send.",
        "Nothing to do.",
    ),
    "not_bill_payment": ReasonHelp(
        SET_ASIDE,
        "The payment is not a payment of a supplier bill (a refund, a prepayment, a customer's payment). "
        "Procore records only bill payments.",
        "Nothing to do.",
    ),
    "ignored": ReasonHelp(
        SET_ASIDE,
        "An Admin chose not to send this payment and gave a reason (on the payment's page).",
        "To send it after all, an Admin un-ignores it on the payment's page; the next run sends it.",
    ),
}

# What each payment state means, in the order a payment passes through them.
STATES: list[tuple[str, str]] = [
    ("new", "Read from Xero, not yet checked."),
    ("blocked", "Checked, and something must be fixed first (the reason and its fix are on the payment)."),
    ("ready", "Checked and matched to a Procore commitment: the run sends it."),
    ("sending", "Being sent to Procore right now."),
    ("sent", "In Procore, as a payment on the commitment."),
    ("failed", "Procore refused it; fix the cause and retry it."),
    ("reversing", "Deleted in Xero after it was sent: its copy is being deleted in Procore."),
    ("reversed", "Deleted in Xero and in Procore."),
    ("needs_attention", "Deleted in Xero, but its copy in Procore could not be deleted: a person must look."),
    ("ignored", "An Admin chose not to send it, with a reason."),
    ("skipped", "Not for Procore: not a bill payment, or deleted before it was sent."),
]


def reasons_of(group: str) -> list[dict]:
    """The sections of one group as the page shows them. Each title is the reason's own, from
    `syncapp.sync.reasons` (the one place titles are written, so the dashboard's lists and this page
    cannot drift apart); a code explained here without a title there is an error, not a made-up title."""
    return [
        {"code": code, "title": REASON_TITLES[code], "means": help.means, "fix": help.fix}
        for code, help in REASONS.items()
        if help.group == group
    ]


def reason_url(code: str) -> str:
    """Where the "How it works" page explains a reason code (its section anchor)."""
    return f"{reverse('help')}#reason-{code}"

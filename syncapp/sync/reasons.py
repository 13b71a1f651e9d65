"""The one catalogue of reasons a payment is blocked, failed or set aside.

Each code has its group (the "How it works" page's sections), a short title for a group of
payments (the reason without any one bill's specifics: "Vendor not linked in Procore"), what it
means and what to do in general (the /help/ page), and the templates of one payment's message and
fix. The engine (`resolve`, `send`, `services`) picks a code and the payment's specifics
(`params`); the words come from here, and are stored on the payment with the code and its
parameters (`Payment.message`, `fix`, `reason_params`) because the lists, searches, exports and
histories read the words.

A code with several shapes of message (a vendor unlinked by an Admin, or never linked) names its
shape in `params["variant"]`; a template without that variant falls back to the plain one.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import models

# The columns one payment's words are kept in (`Payment.message`, `Payment.fix`) hold this many
# characters; a message listing names Procore sent can be longer.
WORDS_MAX_LENGTH = 500

def no_reason() -> dict:
    """The reason columns of a payment that has none (it moved on, or was never held up); a new
    dict each time, so no two payments share one `reason_params`."""
    return {"reason_code": "", "reason_params": {}, "message": "", "fix": ""}


class Category(models.TextChoices):
    """The groups of the "How it works" page (label: its heading)."""

    BLOCKED = "blocked", "Why a payment is blocked"
    FAILED = "failed", "Why a payment failed"
    SET_ASIDE = "set_aside", "Why a payment is not sent"


class Reason(models.TextChoices):
    """Every value `Payment.reason_code` takes (label: the group title the dashboard shows)."""

    # Blocked while matching (resolve)
    UNKNOWN_XERO_STATUS = "unknown_xero_status", "Xero status this product does not know"
    BILL_NOT_FETCHED = "bill_not_fetched", "Bill could not be read from Xero"
    BILL_NOT_APPROVED = "bill_not_approved", "Bill not approved in Xero"
    INCOMPLETE = "incomplete", "Payment incomplete in Xero"
    CURRENCY_MISMATCH = "currency_mismatch", "Currency differs from Procore's"
    VENDOR_NOT_LINKED = "vendor_not_linked", "Vendor not linked in Procore"
    VENDOR_SUGGESTION = "vendor_suggestion", "Vendor match to confirm"
    VENDOR_AMBIGUOUS = "vendor_ambiguous", "Several Procore vendors match"
    AMBIGUOUS_INVOICE = "ambiguous_invoice", "Several Procore commitments match the bill"
    INVOICE_NOT_APPROVED = "invoice_not_approved", "Subcontractor invoice not approved in Procore"
    INVOICE_NOT_FOUND = "invoice_not_found", "Bill not found in Procore"
    COMMITMENT_NOT_PAYABLE = "commitment_not_payable", "Commitment cannot take payments"
    NO_PROJECT_ACCESS = "no_project_access", "No access to the Procore project"
    OVERPAYMENT = "overpayment", "Would pay more than the bill's total"
    # Failed while sending, reversals (send)
    PROCORE_REFUSED = "procore_refused", "Procore did not take the payment"
    REVERSAL_REFUSED = "reversal_refused", "Procore refused to delete a reversed payment"
    # Set aside (resolve, send, services)
    DELETED_IN_XERO = "deleted_in_xero", "Deleted in Xero"
    NOT_BILL_PAYMENT = "not_bill_payment", "Not a bill payment"
    IGNORED = "ignored", "Ignored by a person"

    @property
    def text(self) -> ReasonText:
        return CATALOGUE[self]

    def words(self, params: Mapping) -> tuple[str, str]:
        """One payment's message and fix, from the templates and the payment's specifics."""
        variant = params.get("variant", "")
        return _WORDS.format(_pick(self.text.message, variant), **params), _WORDS.format(
            _pick(self.text.fix, variant), **params
        )

    def fields(self, **params) -> dict:
        """The payment's reason columns for this code: to write with an update or a transition."""
        message, fix = self.words(params)
        return {
            "reason_code": self.value,
            "reason_params": params,
            "message": message[:WORDS_MAX_LENGTH],
            "fix": fix[:WORDS_MAX_LENGTH],
        }


@dataclass(frozen=True)
class ReasonText:
    category: Category
    means: str  # the /help/ page: what the reason means
    what_to_do: str  # the /help/ page: how a person fixes it, in general
    message: str | dict[str, str]  # one payment's message: a template, or one per variant ("" plain)
    fix: str | dict[str, str] = ""


def _pick(template: str | dict[str, str], variant: str) -> str:
    if isinstance(template, str):
        return template
    return template.get(variant, template[""])


class _Words(string.Formatter):
    """`str.format`, with a list joined by its format spec: "{missing: and no }" gives
    "payment date and no amount" (parameters stay plain JSON: strings, numbers, lists)."""

    def format_field(self, value, format_spec: str) -> str:
        if isinstance(value, list):
            return format_spec.join(str(item) for item in value)
        return super().format_field(value, format_spec)


_WORDS = _Words()

# What a Procore admin does so the integration can read and pay on a project ("who": the account).
_ACCESS_FIX = (
    "Add {who} to project {project}'s directory with Commitments and Invoicing permission, or turn "
    "those tools on in the project, then run the sync again."
)
_NOT_FOUND_FIX = (
    "Check that the subcontractor invoice is in Procore with invoice number {number!r}, "
    "or link the bill to a commitment by hand."
)
_NO_FIX = ""

CATALOGUE: dict[Reason, ReasonText] = {
    Reason.UNKNOWN_XERO_STATUS: ReasonText(
        Category.BLOCKED,
        "Xero gives the payment a status other than authorised or deleted, so it is not known to be a "
        "live payment and is not sent on a guess.",
        "Look at the payment in Xero. Once Xero shows it as authorised (or deleted), run the sync again.",
        "Xero reports this payment as {status}, which this product does not know.",
        "Check the payment in Xero; run the sync again once Xero shows it as authorised or deleted.",
    ),
    Reason.BILL_NOT_FETCHED: ReasonText(
        Category.BLOCKED,
        "The bill the payment pays could not be read from Xero during the run.",
        "Run the sync again. If it stays blocked, check that the bill still exists in Xero.",
        "The bill of this payment could not be read from Xero.",
        "Run the sync again; if this stays, check the bill still exists in Xero.",
    ),
    Reason.BILL_NOT_APPROVED: ReasonText(
        Category.BLOCKED,
        "The bill is a draft or waiting for approval in Xero. Only approved (or paid) bills are sent.",
        "Approve the bill in Xero, then run the sync again.",
        "Bill {bill} is {status} in Xero, not approved.",
        "Approve bill {bill} in Xero, then run the sync again.",
    ),
    Reason.INCOMPLETE: ReasonText(
        Category.BLOCKED,
        "The payment has no date, amount or invoice number in Xero; Procore needs all three.",
        "Fill in what is missing in Xero, then run the sync again.",
        "The payment on bill {bill} has no {missing: and no } in Xero.",
        "Fill in the {missing:, } in Xero, then run the sync again.",
    ),
    Reason.CURRENCY_MISMATCH: ReasonText(
        Category.BLOCKED,
        "The bill is in another currency than the one Procore states for the commitment, or than the "
        "Procore company's currency. Procore would record the amount in the wrong currency.",
        "If the Procore company works in the bill's currency, an Admin sets it on the Settings page. "
        "Otherwise record the payment in Procore by hand (converted), then ignore it here.",
        "Bill {bill} is in {bill_currency} but {whose} is in {stated}.",
        {
            "": "Record this payment in Procore by hand (converted), then ignore it here.",
            # Procore states no currency: the company's was compared, which an Admin may correct.
            "company": "If the Procore company works in {bill_currency}, set its currency on the Settings page; "
            "otherwise record this payment in Procore by hand (converted), then ignore it here.",
        },
    ),
    Reason.VENDOR_NOT_LINKED: ReasonText(
        Category.BLOCKED,
        "The Xero contact who was paid is not linked to a Procore vendor (or an Admin unlinked it).",
        "An Admin links the contact to its Procore vendor in Mappings, or creates the vendor in Procore "
        "from the Xero contact. The next run sends the payment.",
        {
            "": "Xero contact '{contact}' is not linked to a Procore vendor.",
            "unlinked": "Xero contact '{contact}' was unlinked from Procore vendor '{vendor}' by an Admin.",
        },
        {
            "": "Link Xero contact '{contact}' to a Procore vendor, or create the vendor in Procore from the "
            "Xero contact.",
            "unlinked": "Link Xero contact '{contact}' to the right Procore vendor, or create the vendor in "
            "Procore from the Xero contact.",
        },
    ),
    Reason.VENDOR_SUGGESTION: ReasonText(
        Category.BLOCKED,
        "A Procore vendor looks like the Xero contact (same or close name), but nobody has confirmed it.",
        "An Admin confirms the suggested vendor in Mappings, or links another one.",
        "Xero contact '{contact}' looks like Procore vendor '{vendor}' ({likeness}), "
        "but an Admin has not confirmed it.",
        "Confirm that Xero contact '{contact}' is Procore vendor '{vendor}', or link another vendor.",
    ),
    Reason.VENDOR_AMBIGUOUS: ReasonText(
        Category.BLOCKED,
        "Several Procore vendors match the Xero contact, so none is picked.",
        "An Admin links the contact to the right vendor in Mappings.",
        "Xero contact '{contact}' matches several Procore vendors: '{vendors:', '}'.",
        "Link Xero contact '{contact}' to the right Procore vendor.",
    ),
    Reason.AMBIGUOUS_INVOICE: ReasonText(
        Category.BLOCKED,
        "Several Procore commitments or subcontractor invoices match the bill, so none is picked.",
        "An Admin picks the right commitment for the bill in Mappings → Bills.",
        {
            "": "Bill {bill} names several commitments of this vendor in Procore: {commitments:, }.",
            "invoices": "Bill {bill} matches {count} approved subcontractor invoices in Procore: {invoices:, }.",
        },
        "Pick the right commitment for bill {bill} (link the bill by hand).",
    ),
    Reason.INVOICE_NOT_APPROVED: ReasonText(
        Category.BLOCKED,
        "The bill's subcontractor invoice is in Procore but not approved yet.",
        "Approve the subcontractor invoice in Procore, then run the sync again.",
        "Subcontractor invoice {number!r} in Procore is {status}, not approved.",
        "Approve subcontractor invoice {number!r} in Procore, then run the sync again.",
    ),
    Reason.INVOICE_NOT_FOUND: ReasonText(
        Category.BLOCKED,
        "No subcontractor invoice or commitment of the vendor in Procore matches the bill.",
        "Check that the subcontractor invoice is in Procore with the bill's invoice number, or have an "
        "Admin link the bill to a commitment in Mappings → Bills.",
        {
            "": "No Procore subcontractor invoice or commitment of this vendor matches bill {bill}.",
            "several": "No Procore subcontractor invoice or commitment of this vendor matches bill {bill}. "
            "The vendor has {count} commitments on the bill's project, so none can be picked.",
            # The vendor's commitments there could not be read: said so instead of "not there".
            "unreadable": "Bill {bill} was not found in Procore; {unread} could not be read: {refused:, }.",
        },
        {
            "": _NOT_FOUND_FIX,
            "unreadable": _NOT_FOUND_FIX + " If it belongs to {which}: " + _ACCESS_FIX,
        },
    ),
    Reason.COMMITMENT_NOT_PAYABLE: ReasonText(
        Category.BLOCKED,
        "The commitment the bill belongs to is in a status that takes no payments (a draft, say), or was deleted.",
        "Have the commitment approved in Procore, or link the bill to the right commitment in Mappings, "
        "then run the sync again.",
        {
            "": "Commitment {number} is {status} in Procore: it cannot take payments. Bill {bill}: {how}.",
            "several": "Bill {bill}: {how} cannot take payments in Procore ({statuses:, }).",
        },
        {
            "": "Link bill {bill} to the right commitment in Mappings, or have {number} approved in Procore "
            "(only {payable} commitments take payments), then run the sync again.",
            "deleted": "Link bill {bill} to the commitment that replaced {number} in Mappings, or record the "
            "payment in Procore by hand and ignore it here.",
        },
    ),
    Reason.NO_PROJECT_ACCESS: ReasonText(
        Category.BLOCKED,
        "The Procore user this integration connects as cannot read the project's commitments or invoices.",
        "A Procore admin adds that user to the project's directory with Commitments and Invoicing "
        "permission (or turns those tools on in the project), then the sync is run again.",
        {
            "": "No access to project {project} in Procore ({what}), so bill {bill} cannot be matched or sent.",
            # Procore refused the payments of the bill's invoice: its own words.
            "payments_refused": "{detail}",
        },
        _ACCESS_FIX,
    ),
    Reason.OVERPAYMENT: ReasonText(
        Category.BLOCKED,
        "Sending the payment would bring the payments on the bill above the bill's total: one may have "
        "been entered twice, or by hand in Procore.",
        "Compare the bill's payments in Xero and in Procore. Remove the duplicate, or ignore this payment.",
        "Sending this payment would bring the payments on bill {bill} to {sum}, more than the bill's total of {total}.",
        "Check the payments on this bill in Xero and in Procore (one may be entered twice, or by hand), "
        "or ignore this payment.",
    ),
    Reason.PROCORE_REFUSED: ReasonText(
        Category.FAILED,
        "Procore answered the payment with an error; its own words are on the payment.",
        "Correct the cause Procore names (in Procore or in Xero), then an Admin retries the payment from "
        "its page or from Failures.",
        "{detail}",
        "Correct the cause, then retry the payment.",
    ),
    Reason.REVERSAL_REFUSED: ReasonText(
        Category.FAILED,
        "The payment was deleted in Xero after it was sent, and Procore refused to delete its copy.",
        "Delete the payment in Procore by hand and mark the reversal done on the payment's page, or retry "
        "the reversal.",
        {
            "": "Deleted in Xero, but Procore payment #{procore_payment_id} may still be there: {detail}",
            # Procore's default (its financial-tools guide): a payment with an origin_id "cannot be
            # edited or deleted because it is synced with an ERP system".
            "locked": "Deleted in Xero, but Procore refused to delete its payment #{procore_payment_id}: "
            "Procore locks payments created by an integration.",
        },
        "{steps}",
    ),
    Reason.DELETED_IN_XERO: ReasonText(
        Category.SET_ASIDE,
        "The payment was deleted in Xero before it was sent, so there is nothing to send.",
        "Nothing to do.",
        {
            "": "Deleted in Xero before it was sent to Procore: nothing to send.",
            "checked": "Deleted in Xero before it reached Procore (checked: Procore does not have it): "
            "nothing to send.",
        },
        _NO_FIX,
    ),
    Reason.NOT_BILL_PAYMENT: ReasonText(
        Category.SET_ASIDE,
        "The payment is not a payment of a supplier bill (a refund, a prepayment, a customer's payment). "
        "Procore records only bill payments.",
        "Nothing to do.",
        "{what} is not a payment of a supplier bill; Procore records only bill payments.",
        _NO_FIX,
    ),
    Reason.IGNORED: ReasonText(
        Category.SET_ASIDE,
        "An Admin chose not to send this payment and gave a reason (on the payment's page).",
        "To send it after all, an Admin un-ignores it on the payment's page; the next run sends it.",
        "Ignored: {reason}",
        _NO_FIX,
    ),
}

# The reasons an Admin fixes by linking in Mappings: a contact to a vendor, a bill to a commitment.
VENDOR_REASONS = frozenset({Reason.VENDOR_NOT_LINKED, Reason.VENDOR_SUGGESTION, Reason.VENDOR_AMBIGUOUS})
BILL_REASONS = frozenset(
    {Reason.INVOICE_NOT_FOUND, Reason.AMBIGUOUS_INVOICE, Reason.INVOICE_NOT_APPROVED, Reason.COMMITMENT_NOT_PAYABLE}
)


def reason_title(code: str) -> str:
    """The group title of a reason code; a code no longer in the catalogue (an old row) is shown as
    its own words."""
    if code in Reason.values:
        return Reason(code).label
    return code.replace("_", " ").capitalize() if code else "No reason recorded"

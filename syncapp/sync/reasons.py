"""The reasons a payment is blocked, failed or set aside, by code, as a short title for a group of
payments: the reason without any one bill's specifics ("Vendor not linked in Procore", not
"Contact Acme on bill INV-1 is not linked"). Each payment's own message and fix stay on its row.

The codes are the ones `resolve` (blocked, not for Procore), `send` (failed, reversals) and
`services` (ignored) write to `Payment.reason_code`.
"""

from __future__ import annotations

REASON_TITLES: dict[str, str] = {
    # Blocked while matching (resolve)
    "unknown_xero_status": "Xero status this product does not know",
    "bill_not_fetched": "Bill could not be read from Xero",
    "bill_not_approved": "Bill not approved in Xero",
    "incomplete": "Payment incomplete in Xero",
    "currency_mismatch": "Currency differs from Procore's",
    "vendor_not_linked": "Vendor not linked in Procore",
    "vendor_suggestion": "Vendor match to confirm",
    "vendor_ambiguous": "Several Procore vendors match",
    "ambiguous_invoice": "Several Procore commitments match the bill",
    "invoice_not_approved": "Subcontractor invoice not approved in Procore",
    "invoice_not_found": "Bill not found in Procore",
    "commitment_not_payable": "Commitment cannot take payments",
    "no_project_access": "No access to the Procore project",
    "overpayment": "Would pay more than the bill's total",
    # Failed while sending, reversals (send)
    "procore_refused": "Procore did not take the payment",
    "reversal_refused": "Procore refused to delete a reversed payment",
    # Set aside
    "deleted_in_xero": "Deleted in Xero",
    "not_bill_payment": "Not a bill payment",
    "ignored": "Ignored by a person",
}


def reason_title(code: str) -> str:
    """The group title of a reason code; an unknown code is shown as its own words."""
    return REASON_TITLES.get(code) or (code.replace("_", " ").capitalize() if code else "No reason recorded")

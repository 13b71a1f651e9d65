"""The words of the "How it works" page (/help/) that are not a reason's: the introduction of each
group of reasons, and what each payment state means.

What each reason means and how a person fixes it live with its code, title and templates in the
one catalogue, `syncapp.sync.reasons`; this page shows every code of it. Every reason shown in
the dashboard links to its section, `/help/#reason-<code>`.
"""

from __future__ import annotations

from syncapp.sync.reasons import CATALOGUE, Category

# What the reasons of a group have in common, under the group's heading (`Category`'s label).
_INTROS: dict[Category, str] = {
    Category.BLOCKED: "Found before sending. Fix the cause; the next run sends the payment.",
    Category.FAILED: "Procore refused it when it was sent. Fix the cause, then retry it.",
    Category.SET_ASIDE: "There is nothing to send, or a person decided so.",
}

# key -> (heading, introduction), in the page's order
REASON_GROUPS: dict[str, tuple[str, str]] = {
    category.value: (category.label, _INTROS[category]) for category in Category
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
    """The sections of one group as the page shows them, in the catalogue's order."""
    return [
        {"code": reason.value, "title": reason.label, "means": text.means, "fix": text.what_to_do}
        for reason, text in CATALOGUE.items()
        if text.category == group
    ]

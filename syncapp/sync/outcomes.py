"""What a run's counts mean to people: the final outcomes of the payments it handled, in order,
with the words the run summary and the dashboard use.

Only final outcomes are counted (a payment found ready and then sent counts once, as sent), so
"Finished: 23 sent, 10 blocked" never reads as if more were still waiting.
"""

from __future__ import annotations

from collections.abc import Mapping

# key -> (label for a heading or a bar segment, words after a number in a sentence)
OUTCOMES: dict[str, tuple[str, str]] = {
    "sent": ("Sent", "sent"),
    "already_in_procore": ("Already in Procore", "already in Procore"),
    "blocked": ("Blocked", "blocked"),
    "failed": ("Failed", "failed"),
    "skipped": ("Not for Procore", "not for Procore"),
    "reversed": ("Reversed", "reversed"),
    "needs_attention": ("Reversal needs attention", "reversals need attention"),
    "reversal_pending": ("Reversal to retry", "reversals to retry"),
    "would_send": ("Would send", "would be sent"),
    "would_reverse": ("Would reverse", "would be reversed"),
}


# How a payment's history says it was found in Procore rather than created there (the start of
# its "sent" event): the payments list then counts it as sent, a run as "already in Procore".
ALREADY_IN_PROCORE_EVENT = "Already in Procore"


def label(key: str) -> str:
    return OUTCOMES.get(key, (key.replace("_", " ").capitalize(), ""))[0]


def phrase(key: str) -> str:
    return OUTCOMES.get(key, ("", key.replace("_", " ")))[1]


def ordered(counts: Mapping[str, object]) -> list[tuple[str, int]]:
    """(key, n) for the outcomes that happened, known ones in OUTCOMES order, unknown ones last."""
    numbers = {k: int(v) for k, v in (counts or {}).items() if isinstance(v, int | float) and v}
    keys = [k for k in OUTCOMES if numbers.get(k)] + sorted(k for k in numbers if k not in OUTCOMES)
    return [(k, numbers[k]) for k in keys]


def summary_line(counts: Mapping[str, object]) -> str:
    """'23 sent, 2 already in Procore, 10 blocked' — or 'nothing new to send'."""
    return ", ".join(f"{n:,} {phrase(key)}" for key, n in ordered(counts)) or "nothing new to send"

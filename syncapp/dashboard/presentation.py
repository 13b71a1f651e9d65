"""How states look: a tone (colour family) and an icon for each, so every badge carries a shape and
a word as well as a colour (readable without colour, WCAG 1.4.1)."""

from typing import NamedTuple


class Look(NamedTuple):
    tone: str  # ok | warn | bad | info | violet | "" (neutral)
    icon: str


PAYMENT_STATES: dict[str, Look] = {
    "new": Look("", "dot"),
    "blocked": Look("warn", "alert"),
    "ready": Look("info", "arrow-right"),
    "sending": Look("info", "loader"),
    "sent": Look("ok", "check-circle"),
    "failed": Look("bad", "x-circle"),
    "reversing": Look("violet", "undo"),
    "reversed": Look("violet", "undo"),
    "needs_attention": Look("bad", "alert"),
    "ignored": Look("", "slash"),
    "skipped": Look("", "slash"),
}

RUN_STATES: dict[str, Look] = {
    "queued": Look("info", "clock"),
    "running": Look("info", "loader"),
    "succeeded": Look("ok", "check-circle"),
    "failed": Look("bad", "x-circle"),
    "paused": Look("warn", "clock"),
    "skipped": Look("", "slash"),
}

CONNECTION_STATES: dict[str, Look] = {
    "connected": Look("ok", "check-circle"),
    "needs_reconnect": Look("bad", "alert"),
    "errors": Look("warn", "alert"),  # connected, but calls failed lately
    "disconnected": Look("", "plug"),
    "missing": Look("", "plug"),
}

# The order counts are shown on Home and the states offered in the filter.
PAYMENT_STATE_ORDER = [
    "sent",
    "blocked",
    "failed",
    "ready",
    "sending",
    "new",
    "needs_attention",
    "reversing",
    "reversed",
    "ignored",
    "skipped",
]

_TABLES = {"payment": PAYMENT_STATES, "run": RUN_STATES, "connection": CONNECTION_STATES}


def look(kind: str, state: str) -> Look:
    return _TABLES[kind].get(state, Look("", "dot"))

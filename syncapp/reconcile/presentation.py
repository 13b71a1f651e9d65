"""How each line status looks: a tone and an icon, always shown with its words (never colour alone)."""

from syncapp.dashboard.presentation import Look

LINE_LOOKS: dict[str, Look] = {
    "matched": Look("ok", "check-circle"),
    "amount_differs": Look("bad", "alert"),
    "date_differs": Look("warn", "clock"),
    "missing_in_procore": Look("bad", "x-circle"),
    "not_sent": Look("info", "arrow-right"),
    "deleted_in_xero": Look("violet", "undo"),
    "procore_only": Look("bad", "alert"),
    "by_hand": Look("", "info"),
    "ignored": Look("", "slash"),
}

REPORT_LOOKS: dict[str, Look] = {
    "queued": Look("info", "clock"),
    "running": Look("info", "loader"),
    "done": Look("ok", "check-circle"),
    "failed": Look("bad", "x-circle"),
}


def line_look(status: str) -> Look:
    return LINE_LOOKS.get(status, Look("", "dot"))


def report_look(state: str) -> Look:
    return REPORT_LOOKS.get(state, Look("", "dot"))

"""What a log line is about: the sync run and the payment being worked on, added to every line.

The engine says what it is working on with `log_context(run_id=..., payment_id=...)`; every log
record made inside (by our code, the connectors, or a library) then carries `run_id` and
`payment_id`, through `ContextFilter` on the console handler. Context variables, not thread
locals, so it holds for threads and asyncio alike and never leaks from one task to the next.

Two formats, chosen by LOG_FORMAT in settings: `JsonFormatter` (one JSON object a line, for log
collectors) and `TextFormatter` (readable, with `run=… payment=…` when known).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

FIELDS = ("run_id", "payment_id")
_vars: dict[str, ContextVar[int | None]] = {name: ContextVar(name, default=None) for name in FIELDS}


@contextmanager
def log_context(*, run_id: int | None = None, payment_id: int | None = None) -> Iterator[None]:
    """Within the block, log lines carry these ids; a value left None keeps the outer one."""
    given = {"run_id": run_id, "payment_id": payment_id}
    tokens = [(_vars[name], _vars[name].set(value)) for name, value in given.items() if value is not None]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def current() -> dict[str, int]:
    """The ids known here, e.g. {"run_id": 12, "payment_id": 345}."""
    return {name: value for name, var in _vars.items() if (value := var.get()) is not None}


class ContextFilter(logging.Filter):
    """Puts the known ids on each record (`record.run_id`, `record.payment_id`) and a readable
    `record.context` (" run=12 payment=345", or ""). Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        known = current()
        for name, value in known.items():
            if not hasattr(record, name):  # an explicit `extra=` wins
                setattr(record, name, value)
        tags = [f"{name.removesuffix('_id')}={getattr(record, name)}" for name in FIELDS if hasattr(record, name)]
        record.context = "".join(f" {tag}" for tag in tags)
        return True


class TextFormatter(logging.Formatter):
    """The readable line: time, level, logger, `run=… payment=…` when known, message."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s %(message)s", defaults={"context": ""})


class JsonFormatter(_JsonFormatter):
    """One JSON object a line: time (ISO 8601, UTC), level, logger, message, run_id and payment_id
    when known, any other `extra=` field, and the traceback as exc_info.

    Left out: the readable `context` (the ids are fields already) and Django's `request` extra,
    whose text would carry the query string (an OAuth callback's code, say)."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            reserved_attrs=[*RESERVED_ATTRS, "context", "request", "taskName"],
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(timespec="milliseconds")


class RefusalWithoutTraceback(logging.Filter):
    """A refused request (4xx: a 403 for a Finance user on an Admin page, a 404) is an answer the
    site meant to give, so its django.request line carries no traceback; 5xx keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True

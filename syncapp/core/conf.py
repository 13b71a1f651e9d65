"""Each app's settings in one `conf.py` of its own (sync, reconcile, webhooks, connectors, sandbox,
and this one for core), every setting there with its default, so a reader finds them in one place.

A setting is read from django.conf.settings at each use, never copied at import: a test's
override_settings (or pytest-django's `settings` fixture) applies. settings.py sets one only when
its environment variable is given (.env.example lists those); unset, the default here applies.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from django.conf import settings

T = TypeVar("T")


class Setting(Generic[T]):
    """A class attribute that reads the Django setting of its own name, or its default."""

    def __init__(self, default: T) -> None:
        self.default = default

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: object, owner: type | None = None) -> T:
        return getattr(settings, self.name, self.default)


def defaults(conf: type) -> dict[str, Any]:
    """Every setting of a conf class with its default (for the tests that compare them with
    .env.example)."""
    return {name: value.default for name, value in vars(conf).items() if isinstance(value, Setting)}


class CoreConf:
    # The worker's heartbeat schedule beats every minute and the scheduler looks every 30 s: three
    # minutes of silence is two missed beats and a slow one, the worker is not taking tasks.
    WORKER_DEAD_SECONDS = Setting(180.0)
    # Run log lines, finished background tasks and webhook deliveries older than this many days are
    # deleted by the daily `prune` (core.retention); payments and their history are kept.
    RETENTION_DAYS = Setting(90)

"""Reconciliation's settings, each with its default (read at use through core.conf.Setting, so
override_settings applies)."""

from __future__ import annotations

from syncapp.core.conf import Setting


class ReconcileConf:
    # A build writes its heartbeat after every commitment; Procore's longest wait is about a minute.
    RECONCILE_STALE_SECONDS = Setting(180.0)
    # A queued build may wait for a busy worker; only a lost task leaves it queued this long.
    RECONCILE_QUEUED_STALE_SECONDS = Setting(900.0)

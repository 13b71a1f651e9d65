"""The sync engine's settings, each with its default (how core.conf.Setting reads them: at use,
so override_settings applies). Those .env.example lists come from the environment when set."""

from __future__ import annotations

from syncapp.core.conf import Setting


class SyncConf:
    # A running run writes its heartbeat every few seconds, also while it waits (it sleeps in
    # slices); one HTTP call is at most HTTP_TIMEOUT. Two minutes of silence: the worker is gone.
    SYNC_STALE_SECONDS = Setting(120.0)
    # A worker whose process still holds the run's lock is alive; only a process that stopped
    # working (a stopped process, a hung host whose kernel still answers) is silent this long.
    SYNC_HUNG_SECONDS = Setting(600.0)
    # A queued run may wait for a busy worker; only a lost task leaves it queued this long.
    SYNC_QUEUED_STALE_SECONDS = Setting(900.0)
    # A run asks Xero for what changed since this long before the last run's mark: a row saved
    # while that run read may carry an earlier UpdatedDateUTC. Reading a row twice is harmless.
    SYNC_OVERLAP_SECONDS = Setting(300.0)
    # How long after our client gave up on a payment create Procore may still carry it out: the
    # payment is looked for only then, and posted again only if absent (sync.send).
    SYNC_UNANSWERED_SETTLE_SECONDS = Setting(60.0)
    # A run reads every Procore project in full this often; in between it reads what changed
    # where its payments are (sync.procore_index).
    PROCORE_FULL_READ_HOURS = Setting(24.0)

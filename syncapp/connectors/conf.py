"""The connectors' settings, each with its default (read at use through core.conf.Setting, so
override_settings applies). The services' addresses, credentials and HTTP_TIMEOUT are in
settings.py: they have no default worth stating twice (the sandbox's or the real service's)."""

from __future__ import annotations

from syncapp.core.conf import Setting


class ConnectorsConf:
    # The base of the retry backoff (seconds): retry n waits about base * 2**n (tests make it tiny).
    SYNC_RETRY_BASE_SECONDS = Setting(0.5)

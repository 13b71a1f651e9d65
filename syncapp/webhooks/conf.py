"""Xero webhooks' settings, each with its default (read at use through core.conf.Setting, so
override_settings applies). XERO_WEBHOOK_KEY, a secret, stays in settings.py with the other
credentials."""

from __future__ import annotations

from syncapp.core.conf import Setting


class WebhooksConf:
    # A burst of webhook events becomes one run once none has come for this long (seconds).
    WEBHOOK_DEBOUNCE_SECONDS = Setting(5.0)

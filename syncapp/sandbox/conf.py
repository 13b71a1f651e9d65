"""The sandbox's switches, each with its default. Each behaviour's source (the spec operation or
documentation page it follows) is commented where the switch is used: the module named beside it.

A switch is read at each use: first from Django settings (pytest-django's `settings` fixture, when
the sandbox runs in the test's process), then from the environment (a sandbox server started
with the variable set, e.g. by the torture suite or `manage.py sandbox_faults`), then the default.
"""

from __future__ import annotations

import os

from django.conf import settings

from syncapp.core.conf import Setting
from syncapp.sandbox.procore.filters import VENDOR_COMMITMENTS


class Switch(Setting[str]):
    """A sandbox switch as text, stripped: from settings, else the environment; blank or unset,
    the default."""

    def __get__(self, instance: object, owner: type | None = None) -> str:
        value = getattr(settings, self.name, None)
        if value is None:
            value = os.environ.get(self.name, "")
        return str(value).strip() or self.default


class SandboxConf:
    # Both services (faults.py): a share 0..1 of API calls held past the client's timeout, then
    # carried out. Off.
    SANDBOX_SLOW_ANSWER_RATE = Switch("")
    # Procore (faults.py): a 422 on a payment create, in one of the documented body shapes
    # ("text", "list", "map", "error"). Off.
    SANDBOX_PROCORE_PAYMENT_422 = Switch("")
    # Procore (faults.py): service accounts must send Procore-Company-Id to /me and /companies
    # (Multiple Procore Regions). Off.
    SANDBOX_PROCORE_SERVICE_ACCOUNT_COMPANY_HEADER = Switch("")
    # Procore (faults.py): what filters[vendor_id] on GET /projects means: "commitments",
    # "ignored" or "none".
    SANDBOX_PROCORE_PROJECTS_VENDOR_FILTER = Switch(VENDOR_COMMITMENTS)
    # Procore (procore/api.py, clean_payment_fields): a payment create's checks the spec does not
    # state (a positive amount with two decimals, notes and origin_data up to 10,000 characters,
    # the subcontractor invoice on the payment's commitment): "strict" applies them, "documented"
    # only the spec's types, date format and enum, and what the record's storage needs.
    SANDBOX_PROCORE_PAYMENT_CHECKS = Switch("strict")
    # Procore (procore/ratelimit.py): a 429 carries Retry-After (documented for the 503 only).
    # A Django setting only (True/False), not an environment switch.
    SANDBOX_PROCORE_429_RETRY_AFTER = Setting(False)
    # Xero (xero/payloads.py): a batch payment's id also at the payment's top level, as the spec's
    # getPayments example has it ("false": only inside BatchPayment).
    SANDBOX_XERO_BATCH_ID_AT_TOP_LEVEL = Switch("true")
    # Xero (xero/payloads.py): a refund of a credit note, prepayment or overpayment embeds that
    # "document", or an "invoice" as one example of the spec shows.
    SANDBOX_XERO_OTHER_DOCUMENT_EMBED = Switch("document")
    # Xero (xero/webhooks.py): where the sandbox delivers its webhooks; empty: it sends none.
    SANDBOX_XERO_WEBHOOK_URL = Switch("")

"""Settings of the worker processes the torture suite starts (`manage.py sync_payments`,
`manage.py qcluster`, `python -m tests.torture.procore_reader`).

The test settings (the secrets come from the parent pytest process's environment, so tokens it
stored decrypt here), a short retry backoff (a run meets hundreds of injected faults), and one
seam: `TORTURE_CRASH_AT=<point>:<nth>[:stop]` makes the process SIGKILL itself (or SIGSTOP itself,
with `:stop`) the nth time the run reaches that crash point (syncapp/sync/crashpoints.py), so a
seed can choose the exact moment a real OS process dies. The point `post` is the nth payment
create handed to httpx (`Client.send`): after the run's lease and claim checks, just before
httpx's request hooks, where the client's last check as the request leaves sits (no crash point
sits that late), the worst moment for a worker to stall; `sent_event` is the nth "sent" event about
to be written, after the payment's row already says sent.
"""

import os
import signal

from syncapp.settings_test import *  # noqa: F403
from syncapp.sync import crashpoints

SYNC_RETRY_BASE_SECONDS = float(os.environ.get("TORTURE_RETRY_BASE_SECONDS", "0.01"))


def _arm(spec: str) -> None:
    point, _, rest = spec.partition(":")
    nth_text, _, action = rest.partition(":")
    nth = int(nth_text or "1")
    sig = signal.SIGSTOP if action == "stop" else signal.SIGKILL
    seen = {"n": 0}

    def hook(name: str) -> None:
        if name == point:
            seen["n"] += 1
            if seen["n"] == nth:
                os.kill(os.getpid(), sig)

    if point == "post":
        _before_payment_posts(hook)
    elif point == "sent_event":
        crashpoints.hook = _before_sent_events(hook)
    else:
        crashpoints.hook = hook


def _before_sent_events(hook):
    """A crash point hook that, from the first create on, calls `hook("sent_event")` right
    before each "sent" PaymentEvent is inserted: after the payment's row says sent, before its
    event does (connected late: models cannot be imported while settings load)."""
    connected = []

    def on_point(name: str) -> None:
        if name == "after_create" and not connected:
            from django.db.models.signals import pre_save

            from syncapp.sync.models import PaymentEvent

            def before_save(sender, instance, **kwargs):
                if instance.kind == "sent":
                    hook("sent_event")

            pre_save.connect(before_save, sender=PaymentEvent, weak=False)
            connected.append(before_save)

    return on_point


def _before_payment_posts(hook) -> None:
    import httpx

    send = httpx.Client.send

    def send_after_hook(self, request, **kwargs):
        if request.method == "POST" and request.url.path.endswith("/contract_payments"):
            hook("post")
        return send(self, request, **kwargs)

    httpx.Client.send = send_after_hook


if os.environ.get("TORTURE_CRASH_AT"):
    _arm(os.environ["TORTURE_CRASH_AT"])

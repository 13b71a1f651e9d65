"""`manage.py sandbox_faults --service xero|procore [switches] [--reset] [--show]`: change how a
simulated service misbehaves (latency, 5xx, 429, expired tokens, commit-then-fail, rate limits)
while the server runs. The switches are `syncapp.sandbox.models.Behaviour` rows, read per request.
"""

import argparse

from django.core.management.base import BaseCommand, CommandError

from syncapp.sandbox.models import Behaviour, CommitThenFail, Service

# Behaviour fields shown by --show, in this order.
SHOWN = [
    "latency_ms", "error_rate", "throttle_rate", "expire_tokens", "commit_then_fail", "commit_then_fail_rate",
    "hang_seconds", "minute_limit", "day_limit", "hourly_limit", "spike_limit", "spike_window_seconds",
]  # fmt: skip

NON_NEGATIVE = ("latency_ms", "minute_limit", "day_limit", "hourly_limit", "spike_limit", "spike_window_seconds")

COMMIT_THEN_FAIL = {"off": CommitThenFail.OFF, "500": CommitThenFail.ERROR_500, "timeout": CommitThenFail.TIMEOUT}


def rate(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("a rate is a share between 0 and 1")
    return value


def on_off(text: str) -> bool:
    if text not in ("on", "off"):
        raise argparse.ArgumentTypeError("say on or off")
    return text == "on"


class Command(BaseCommand):
    help = "Set the sandbox's fault switches for one simulated service, and print those in force."

    def add_arguments(self, parser):
        parser.add_argument("--service", choices=Service.values, help="xero or procore (all, for --reset/--show).")
        parser.add_argument("--latency-ms", type=int, dest="latency_ms", help="Added to every API answer.")
        parser.add_argument("--error-rate", type=rate, dest="error_rate", help="Share of calls answered 5xx.")
        parser.add_argument("--throttle-rate", type=rate, dest="throttle_rate", help="Share of calls answered 429.")
        parser.add_argument("--expire-tokens", type=on_off, dest="expire_tokens", metavar="on|off")
        parser.add_argument("--commit-then-fail", choices=list(COMMIT_THEN_FAIL), dest="commit_then_fail")
        parser.add_argument("--commit-then-fail-rate", type=rate, dest="commit_then_fail_rate")
        parser.add_argument("--hang-seconds", type=float, dest="hang_seconds", help="How long a timeout fault hangs.")
        parser.add_argument("--minute-limit", type=int, dest="minute_limit", help="Xero: calls per minute.")
        parser.add_argument("--day-limit", type=int, dest="day_limit", help="Xero: calls per day.")
        parser.add_argument("--hourly-limit", type=int, dest="hourly_limit", help="Procore: calls per hour.")
        parser.add_argument("--spike-limit", type=int, dest="spike_limit", help="Procore: calls per spike window.")
        parser.add_argument("--spike-window", type=int, dest="spike_window_seconds", help="Procore: window, seconds.")
        parser.add_argument("--reset", action="store_true", help="Back to no faults and the real limits first.")
        parser.add_argument("--show", action="store_true", help="Only print the switches in force.")

    def handle(self, *args, service: str | None, reset: bool, show: bool, **options):
        values = switches(options)
        if (values or not (reset or show)) and service is None:
            raise CommandError("Say which service: --service xero or --service procore.")
        if show and (values or reset):
            raise CommandError("--show only prints; leave the other switches out.")
        if reset:
            Behaviour.reset(service)
        if values:
            Behaviour.set(service, **values)
        for name in [service] if service else Service.values:
            self.stdout.write(describe(Behaviour.get(name)))


def switches(options: dict) -> dict:
    """The Behaviour fields given on the command line, as the model stores them."""
    values = {name: options[name] for name in SHOWN if options.get(name) is not None}
    for name in NON_NEGATIVE:
        if values.get(name, 0) < 0:
            raise CommandError(f"--{name.replace('_', '-')} cannot be negative.")
    if "commit_then_fail" in values:
        values["commit_then_fail"] = COMMIT_THEN_FAIL[values["commit_then_fail"]]
    return values


def describe(behaviour: Behaviour) -> str:
    shown = ", ".join(f"{name}={getattr(behaviour, name)!r}" for name in SHOWN)
    return f"{behaviour.service}: {shown}"

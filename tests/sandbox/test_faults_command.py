"""`sandbox_faults`: switches a simulated service's faults and limits, and says what is in force."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from syncapp.sandbox.models import Behaviour


def faults(*args: str) -> str:
    out = StringIO()
    call_command("sandbox_faults", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_it_sets_the_switches_of_one_service():
    output = faults(
        "--service", "procore", "--latency-ms", "250", "--error-rate", "0.1", "--throttle-rate", "0.2",
        "--expire-tokens", "on", "--commit-then-fail", "timeout", "--commit-then-fail-rate", "0.5",
        "--hourly-limit", "600", "--spike-limit", "5", "--spike-window", "3", "--hang-seconds", "2",
    )  # fmt: skip
    procore = Behaviour.get("procore")
    assert (procore.latency_ms, procore.error_rate, procore.throttle_rate) == (250, 0.1, 0.2)
    assert procore.expire_tokens and procore.commit_then_fail == "timeout" and procore.commit_then_fail_rate == 0.5
    assert (procore.hourly_limit, procore.spike_limit, procore.spike_window_seconds) == (600, 5, 3)
    assert procore.hang_seconds == 2
    assert "procore: latency_ms=250" in output and "commit_then_fail='timeout'" in output
    assert Behaviour.get("xero").latency_ms == 0  # the other service is untouched


@pytest.mark.django_db
def test_it_sets_xero_limits_and_switches_commit_then_fail_off_again():
    faults("--service", "xero", "--minute-limit", "5", "--day-limit", "40", "--commit-then-fail", "500")
    assert Behaviour.get("xero").commit_then_fail == "500"
    faults("--service", "xero", "--commit-then-fail", "off", "--expire-tokens", "off")
    xero = Behaviour.get("xero")
    assert (xero.minute_limit, xero.day_limit, xero.commit_then_fail, xero.expire_tokens) == (5, 40, "", False)


@pytest.mark.django_db
def test_reset_puts_a_service_back_to_the_real_limits_and_no_faults():
    faults("--service", "xero", "--throttle-rate", "1", "--minute-limit", "2")
    faults("--service", "procore", "--error-rate", "1")
    faults("--service", "xero", "--reset")
    assert Behaviour.get("xero").throttle_rate == 0 and Behaviour.get("xero").minute_limit == 60
    assert Behaviour.get("procore").error_rate == 1  # only the named service
    faults("--reset")
    assert Behaviour.get("procore").error_rate == 0


@pytest.mark.django_db
def test_reset_then_set_in_one_call_starts_from_the_defaults():
    faults("--service", "procore", "--latency-ms", "900")
    faults("--service", "procore", "--reset", "--error-rate", "0.3")
    procore = Behaviour.get("procore")
    assert (procore.latency_ms, procore.error_rate) == (0, 0.3)


def switches_in_force() -> list[dict]:
    """Every switch of both services (each row made with its defaults first)."""
    for service in ("xero", "procore"):
        Behaviour.get(service)
    return list(Behaviour.objects.order_by("service").values())


@pytest.mark.django_db
def test_show_prints_both_services_and_changes_nothing():
    faults("--service", "xero", "--latency-ms", "40")
    output = faults("--show")
    assert output.startswith("xero: latency_ms=40") and "\nprocore: latency_ms=0" in output
    assert Behaviour.get("xero").latency_ms == 40


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args",
    [
        ["--error-rate", "0.5"],  # no service named
        ["--service", "xero", "--error-rate", "1.5"],
        ["--service", "xero", "--throttle-rate", "-0.1"],
        ["--service", "xero", "--latency-ms", "-5"],
        ["--service", "xero", "--expire-tokens", "yes"],
        ["--service", "xero", "--commit-then-fail", "maybe"],
        ["--service", "sage", "--show"],
        ["--service", "xero", "--show", "--latency-ms", "5"],
    ],
)
def test_bad_switches_are_refused_and_change_nothing(args):
    before = switches_in_force()
    with pytest.raises((CommandError, SystemExit)):
        faults(*args)
    assert switches_in_force() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "Say which service: --service xero or --service procore."),
        (["--latency-ms", "5"], "Say which service: --service xero or --service procore."),
        (["--show", "--reset"], "--show only prints; leave the other switches out."),
        (["--service", "xero", "--show", "--latency-ms", "5"], "--show only prints; leave the other switches out."),
        (["--service", "xero", "--minute-limit", "-1"], "--minute-limit cannot be negative."),
        (["--service", "xero", "--day-limit", "-1"], "--day-limit cannot be negative."),
        (["--service", "procore", "--hourly-limit", "-1"], "--hourly-limit cannot be negative."),
        (["--service", "procore", "--spike-limit", "-1"], "--spike-limit cannot be negative."),
        (["--service", "procore", "--spike-window", "-1"], "--spike-window-seconds cannot be negative."),
        (["--latency-ms", "-1"], "--latency-ms cannot be negative."),  # checked before the service
    ],
)
def test_each_refusal_says_what_is_wrong(args, message):
    before = switches_in_force()
    with pytest.raises(CommandError) as refused:
        faults(*args)
    assert str(refused.value) == message
    assert switches_in_force() == before


@pytest.mark.django_db
def test_show_with_a_service_prints_only_that_service():
    assert faults("--service", "procore", "--show").startswith("procore: latency_ms=0")
    assert "xero:" not in faults("--service", "procore", "--show")

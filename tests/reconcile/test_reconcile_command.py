"""`manage.py reconcile` refuses what it cannot do with a sentence, before or instead of a file: a
bad or backwards period, no or an ambiguous integration, a report already running, a failed build."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from syncapp.connections.models import Integration
from syncapp.reconcile.reports import start_report


def refusal(*args: str) -> str:
    with pytest.raises(CommandError) as refused:
        call_command("reconcile", *args)
    return str(refused.value)


def test_a_period_that_is_not_dates_or_runs_backwards_is_refused():
    assert refusal("--from", "May 1st") == "'May 1st' is not a date: write it as YYYY-MM-DD."
    assert refusal("--from", "2026-05-02", "--to", "2026-05-01") == "--from is after --to."


@pytest.mark.django_db
def test_the_integration_must_exist_and_be_named_when_there_are_several():
    assert refusal() == "No integration yet."
    assert refusal("--integration", "nowhere") == "No integration named 'nowhere'."
    Integration.objects.create(name="one")
    Integration.objects.create(name="two")
    assert refusal() == "Say which integration with --integration NAME."


@pytest.mark.django_db
def test_a_report_already_running_or_a_failed_build_is_refused_without_a_file(tmp_path):
    integration = Integration.objects.create(name="lonely")
    output = tmp_path / "report.csv"
    report, _ = start_report(integration=integration)
    running = refusal("--output", str(output))
    assert running == f"Reconciliation #{report.pk} is already running for 'lonely'; try again later."
    report.delete()
    failed = refusal("--output", str(output))
    assert failed.startswith("Reconciliation #") and " failed: " in failed and "Xero" in failed
    assert not output.exists()

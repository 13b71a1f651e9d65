"""During a sync, every server log line says which run it is about, and a line about one payment
says which payment (JSON lines, LOG_FORMAT=json, as a log collector reads them)."""

from __future__ import annotations

import io
import json
import logging

import pytest

from syncapp.core.logcontext import ContextFilter, JsonFormatter
from syncapp.sync.models import Payment, PaymentState, RunState

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def json_lines():
    """The root logger's lines as the console handler writes them with LOG_FORMAT=json."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in out.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_each_line_of_a_sync_carries_the_run_id_and_a_payments_line_its_payment_id(world, settings, json_lines):
    # Procore refuses every payment create (a 422): each ready payment fails with a line of its own.
    settings.SANDBOX_PROCORE_PAYMENT_422 = "text"
    run = world.run()
    assert run.state == RunState.SUCCEEDED, run.error
    # The sandbox answers from the live server's thread: its lines are not the sync's.
    lines = [
        line for line in json_lines() if line["logger"].startswith("syncapp.") and ".sandbox" not in line["logger"]
    ]
    assert lines and [line for line in lines if line.get("run_id") != run.pk] == []
    failed = [line for line in lines if " failed: " in line["message"]]
    assert len(failed) == Payment.objects.filter(integration=world.integration, state=PaymentState.FAILED).count() > 0
    for line in failed:
        payment = Payment.objects.get(pk=line["payment_id"])
        assert line["message"].startswith(f"run {run.pk}: Payment {payment.xero_payment_id} failed: ")
        assert line["level"] == "WARNING"
    # A line about the run as a whole names no payment.
    [finished] = [line for line in lines if line["message"].startswith(f"run {run.pk}: Run finished")]
    assert "payment_id" not in finished

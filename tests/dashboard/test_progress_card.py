"""The progress card says what a run really did, in each state: queued, running with and without a
total, finished, paused with and without an end, skipped, and stopped with and without a reason."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from syncapp.dashboard.views.runs import ProgressCard, progress_card
from syncapp.sync.models import RunState, SyncRun

PAUSED_UNTIL = timezone.make_aware(dt.datetime(2026, 3, 2, 14, 30))


@pytest.mark.parametrize(
    ("run", "card"),
    [
        (
            SyncRun(state=RunState.QUEUED),
            ProgressCard("Queued: waiting for a worker to start it…", None, "", "", "Not started yet."),
        ),
        (
            SyncRun(state=RunState.RUNNING, phase="send", progress_done=39, progress_total=100),
            ProgressCard("Sending to Procore…", 39, "39%", "", "39 of 100 payments"),
        ),
        (
            SyncRun(state=RunState.RUNNING, fetched=1234),
            ProgressCard("Starting…", None, "", "", "1,234 fetched so far"),
        ),
        (
            SyncRun(state=RunState.SUCCEEDED, phase="send", counts={}),
            ProgressCard("Every payment handled", 100, "100%", "done", "Finished: nothing new to send."),
        ),
        (
            SyncRun(state=RunState.PAUSED, phase="send", progress_done=1, progress_total=4, error="Rate limit."),
            ProgressCard("Paused while sending to Procore", 25, "", "paused", "Paused: Rate limit."),
        ),
        (
            SyncRun(state=RunState.PAUSED, paused_until=PAUSED_UNTIL, error="Day limit."),
            ProgressCard(
                "Paused", 0, "", "paused", f"Paused until {timezone.localtime(PAUSED_UNTIL):%H:%M}: Day limit."
            ),
        ),
        (SyncRun(state=RunState.SKIPPED), ProgressCard("Skipped", 0, "", "", "Skipped.")),
        (
            SyncRun(state=RunState.SKIPPED, error="Another run was active."),
            ProgressCard("Skipped", 0, "", "", "Another run was active."),
        ),
        (
            SyncRun(state=RunState.FAILED, phase="send", progress_done=3, progress_total=4, error="Procore said no."),
            ProgressCard("Stopped while sending to Procore", 75, "", "failed", "Stopped: Procore said no."),
        ),
        (SyncRun(state=RunState.FAILED), ProgressCard("Stopped", 0, "", "failed", "Stopped: the run failed.")),
    ],
    ids=[
        "queued",
        "running",
        "running-no-total",
        "finished",
        "paused",
        "paused-until",
        "skipped",
        "skipped-why",
        "stopped",
        "stopped-no-reason",
    ],
)
def test_the_card_says_what_the_run_really_did(run, card):
    assert progress_card(run) == card


def test_a_pause_ending_inside_a_minute_names_the_minute_it_is_over_by(settings):
    """The card and Procore's "try again after" name the same minute."""
    settings.TIME_ZONE = "UTC"
    until = dt.datetime(2026, 3, 2, 14, 30, 11, tzinfo=dt.UTC)
    run = SyncRun(state=RunState.PAUSED, paused_until=until, error="Procore is overloaded; try again after 14:31.")
    assert progress_card(run) == ProgressCard(
        "Paused", 0, "", "paused", "Paused until 14:31: Procore is overloaded; try again after 14:31."
    )

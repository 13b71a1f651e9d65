"""The time left under the progress bar: measured from the run's own pace between two polls, hidden
until the sample means something, bounded by Procore's rate limit while sending, never negative,
and "waiting for rate limit until HH:MM" while a run is paused."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from syncapp.sync.models import RunState, SyncRun
from syncapp.sync.progress import MAX_SEND_PACE, seconds_left, time_left_text

# --- the estimate ----------------------------------------------------------------------------------


def test_the_pace_is_the_payments_done_over_the_time_taken():
    # 30 payments in 60 s: 90 left take 180 s
    assert seconds_left(phase="resolve", left=90, done=30, elapsed=60.0) == pytest.approx(180.0)
    assert time_left_text(180.0) == "about 3 min left"


@pytest.mark.parametrize(("done", "elapsed"), [(0, 60.0), (2, 60.0), (50, 1.0), (50, 0.0)])
def test_no_estimate_until_enough_payments_over_enough_time(done, elapsed):
    assert seconds_left(phase="send", left=100, done=done, elapsed=elapsed) is None
    assert time_left_text(None) == ""


def test_sending_is_never_estimated_faster_than_procore_lets_it_go():
    # 100 payments in 10 s would be 10/s; Procore's spike window allows about 2.5 calls a second
    fast = seconds_left(phase="send", left=250, done=100, elapsed=10.0)
    assert fast == pytest.approx(250 / MAX_SEND_PACE) and fast == pytest.approx(100.0)
    # matching reads nothing per payment from Procore: its measured pace stands
    assert seconds_left(phase="resolve", left=250, done=100, elapsed=10.0) == pytest.approx(25.0)


def test_the_estimate_is_never_negative():
    assert seconds_left(phase="send", left=0, done=10, elapsed=10.0) == 0
    assert seconds_left(phase="send", left=-5, done=10, elapsed=10.0) is None
    assert time_left_text(0.0) == "less than a minute left"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (59, "less than a minute left"),
        (61, "about 1 min left"),
        (3600, "about 1 h left"),
        (5460, "about 1 h 31 min left"),
    ],
)
def test_the_time_left_reads_as_a_person_says_it(seconds, text):
    assert time_left_text(seconds) == text


# --- the progress card -----------------------------------------------------------------------------


def poll(client, run, **params):
    return client.get(reverse("run-progress", args=[run.pk]), params, headers={"HX-Request": "true"})


def next_sample(html: str) -> str:
    return re.search(r"[?&;]s=([^\"&]+)", html).group(1).replace("%3A", ":")


def running(world, **fields) -> SyncRun:
    values = {"integration": world.integration, "trigger": "button", "state": RunState.RUNNING}
    values.update(fields)
    return SyncRun.objects.create(**values)


@pytest.mark.django_db
def test_the_card_shows_the_time_left_from_the_pace_it_observed(finance_client, world):
    run = running(world, phase="resolve", progress_done=10, progress_total=100)
    first = poll(finance_client, run).content.decode()
    assert "min left" not in first and "run-eta" not in first  # one sample: no estimate yet
    phase, done, at = next_sample(first).split(":")
    assert (phase, done) == ("resolve", "10")

    # The poll carries its first sample back; 30 more payments in the 60 s since then: 60 left, 2 min
    then = float(int(timezone.now().timestamp()) - 60)  # whole seconds: the URL rounds to tenths
    SyncRun.objects.filter(pk=run.pk).update(progress_done=40)
    html = poll(finance_client, run, s=f"resolve:10:{then:.1f}").content.decode()
    assert "about 2 min left" in html
    assert next_sample(html) == f"resolve:10:{then:.1f}"  # the same first sample, kept


@pytest.mark.django_db
def test_a_new_phase_starts_a_new_sample(finance_client, world):
    run = running(world, phase="send", progress_done=5, progress_total=100)
    then = float(int(timezone.now().timestamp()) - 60)  # whole seconds: the URL rounds to tenths
    html = poll(finance_client, run, s=f"resolve:0:{then:.1f}").content.decode()
    assert "left" not in html.split('class="progress-meta"', 1)[1]
    assert next_sample(html).startswith("send:5:")


@pytest.mark.django_db
@pytest.mark.parametrize("sample", ["junk", "send:x:1", "send:50:1", f"send:0:{10**12}", "send:-3:1"])
def test_a_broken_or_impossible_sample_shows_nothing_and_starts_anew(finance_client, world, sample):
    run = running(world, phase="send", progress_done=20, progress_total=100)
    response = poll(finance_client, run, s=sample)
    assert response.status_code == 200
    html = response.content.decode()
    assert "run-eta" not in html and next_sample(html).startswith("send:20:")


@pytest.mark.django_db
def test_a_paused_run_says_until_when_it_waits_for_the_rate_limit(finance_client, world):
    until = timezone.localtime(timezone.now() + dt.timedelta(minutes=20)).replace(second=11, microsecond=0)
    run = running(world, state=RunState.PAUSED, phase="send", progress_done=5, progress_total=10, paused_until=until)
    html = poll(finance_client, run).content.decode()
    # 14:04:11 reads "until 14:05": never a minute before the run resumes.
    assert f"waiting for rate limit until {until + dt.timedelta(seconds=49):%H:%M}" in html


@pytest.mark.django_db
def test_an_ended_run_has_no_estimate(finance_client, world):
    run = running(world, state=RunState.SUCCEEDED, phase="send", progress_done=10, progress_total=10)
    then = float(int(timezone.now().timestamp()) - 60)  # whole seconds: the URL rounds to tenths
    html = poll(finance_client, run, s=f"send:0:{then:.1f}").content.decode()
    assert "run-eta" not in html and "hx-get" not in html


@pytest.mark.django_db
def test_home_polls_carry_the_sample_beside_their_own_parameters(finance_client, world):
    run = running(world, phase="send", progress_done=40, progress_total=100)
    then = float(int(timezone.now().timestamp()) - 30)  # whole seconds: the URL rounds to tenths
    html = poll(finance_client, run, on="home", v="x", s=f"send:10:{then:.1f}").content.decode()
    # 30 payments in 30 s (under Procore's 2.5 a second, so that bound does not bite): 60 left, 1 min
    assert "about 1 min left" in html
    card = re.search(rf'<div id="run-progress-{run.pk}"[^>]*>', html).group(0)
    assert "?on=home&amp;" in card and f"&amp;s=send%3A10%3A{then:.1f}" in card

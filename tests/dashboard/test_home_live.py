"""Home while a run works: every part a run changes is re-drawn by the progress poll, the card says
what the run really does (and how it really ended), and the numbers explain each other."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from syncapp.connections.models import Integration
from syncapp.dashboard.charts import nice_scale, stacked_daily
from syncapp.dashboard.selectors import DayBar
from syncapp.sync.models import PaymentEvent, PaymentState, RunState, SyncRun
from tests.dashboard.conftest import make_payment

pytestmark = pytest.mark.django_db


def active_run(world, **fields) -> SyncRun:
    values = {"integration": world.integration, "trigger": "button", "state": RunState.RUNNING}
    values.update(fields)
    return SyncRun.objects.create(**values)


def poll(client, run, **params):
    url = reverse("run-progress", args=[run.pk])
    return client.get(url, {"on": "home", **params}, headers={"HX-Request": "true"})


def next_version(html: str) -> str:
    """The fingerprint the re-drawn poller will send on its next poll."""
    return re.search(r"v=([0-9a-f]+)", html).group(1)


def sent_tile(html: str) -> str:
    tile = re.search(r'<a class="stat ok".*?</a>', html, re.S).group(0)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", tile)).strip()


# --- who may poll ----------------------------------------------------------------------------------


def test_the_home_poll_sends_anonymous_visitors_to_the_login(client, world):
    run = active_run(world)
    response = poll(client, run)
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_user_without_a_role_may_not_poll_home(client, world, roleless_user):
    client.force_login(roleless_user)
    assert poll(client, active_run(world)).status_code == 403


# --- everything a run changes refreshes while it runs ----------------------------------------------


def test_home_polls_every_two_seconds_while_a_run_works_and_draws_its_live_parts(finance_client, world):
    run = active_run(world, phase="send", progress_done=1, progress_total=4)
    html = finance_client.get(reverse("home")).content.decode()
    assert 'hx-trigger="every 2s"' in html and f"/runs/{run.pk}/progress/?on=home" in html
    assert 'id="connection-cards"' in html and 'id="state-tiles"' in html and 'id="recent-runs"' in html


def test_each_poll_redraws_the_counts_chart_and_runs_when_the_run_changed_them(finance_client, world):
    run = active_run(world, phase="fetch")
    first = poll(finance_client, run)
    html = first.content.decode()
    assert first.status_code == 200
    for part in ("sync-action", "connection-cards", "state-tiles", "chart", "recent-runs"):
        assert f'id="{part}" hx-swap-oob="true"' in html, part
    assert f"Run #{run.pk} is in progress" in html  # the button stays a link to the run meanwhile
    assert "Sent 1" in sent_tile(html)

    # The run fetches and sends more: the next poll carries the new numbers.
    for n in range(10, 14):
        make_payment(world.integration, n, state=PaymentState.SENT)
    SyncRun.objects.filter(pk=run.pk).update(counts={"sent": 4})
    html = poll(finance_client, run, v=next_version(html)).content.decode()
    assert "Sent 5" in sent_tile(html)
    assert 'id="chart" hx-swap-oob="true"' in html and 'id="recent-runs" hx-swap-oob="true"' in html


def test_a_poll_that_finds_nothing_changed_redraws_only_the_card(finance_client, world):
    run = active_run(world, phase="send", progress_done=1, progress_total=4)
    html = poll(finance_client, run).content.decode()
    again = poll(finance_client, run, v=next_version(html)).content.decode()
    assert 'id="state-tiles"' not in again and 'id="chart"' not in again  # an open table stays open
    assert f'id="run-progress-{run.pk}"' in again and "every 2s" in again


def test_the_poll_keeps_the_chart_measure_the_page_shows(finance_client, world):
    run = active_run(world, phase="fetch")
    html = finance_client.get(reverse("home"), {"chart": "amount"}).content.decode()
    assert "chart=amount" in html
    html = poll(finance_client, run, chart="amount").content.decode()
    assert "Payments per day, amount" in html and "chart=amount" in html


def test_polling_stops_when_the_run_ends_and_the_button_comes_back(finance_client, world):
    run = active_run(world, phase="send", progress_done=2, progress_total=4)
    html = poll(finance_client, run).content.decode()
    SyncRun.objects.filter(pk=run.pk).update(state=RunState.SUCCEEDED, counts={"sent": 4}, finished_at=timezone.now())
    response = poll(finance_client, run, v=next_version(html))
    html = response.content.decode()
    assert response.status_code == 286 and "hx-trigger" not in html  # htmx stops polling
    assert 'id="sync-action" hx-swap-oob="true"' in html and "Get All Payments" in html
    assert 'id="state-tiles" hx-swap-oob="true"' in html  # drawn once more at the end, changed or not


# --- a run started elsewhere appears without a reload ----------------------------------------------


def watch(client, **params):
    return client.get(reverse("home-run-watch"), params, headers={"HX-Request": "true"})


def test_home_without_a_run_watches_slowly_for_one(finance_client, world):
    html = finance_client.get(reverse("home")).content.decode()
    watcher = re.search(r'<div id="run-watch"[^>]*>', html).group(0)
    assert 'hx-trigger="every 12s"' in watcher and 'hx-target="#home-run"' in watcher
    assert "shown=" not in watcher
    assert '<div id="home-run"></div>' in html


def test_the_watch_answers_nothing_while_no_run_is_under_way(finance_client, world):
    response = watch(finance_client)
    assert response.status_code == 204 and response.content == b""


def test_a_run_started_elsewhere_swaps_in_its_progress_card_which_then_polls(finance_client, world):
    run = active_run(world, trigger="schedule", phase="send", progress_done=3, progress_total=10)
    response = watch(finance_client, chart="amount")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="run-progress-{run.pk}"' in html and "Sending to Procore" in html
    card = re.search(rf'<div id="run-progress-{run.pk}"[^>]*>', html).group(0)
    assert 'hx-trigger="every 2s"' in card and "on=home" in card and "chart=amount" in card
    # the watcher comes back out of band, now knowing the run it showed
    watcher = re.search(r'<div id="run-watch"[^>]*>', html).group(0)
    assert f"shown={run.pk}" in watcher and 'hx-swap-oob="true"' in watcher
    assert watch(finance_client, shown=run.pk).status_code == 204


def test_home_with_a_run_watches_for_the_next_one(finance_client, world):
    run = active_run(world)
    html = finance_client.get(reverse("home")).content.decode()
    assert f"shown={run.pk}" in re.search(r'<div id="run-watch"[^>]*>', html).group(0)
    run.state = RunState.SUCCEEDED
    run.save()
    assert watch(finance_client, shown=run.pk).status_code == 204
    following = active_run(world)
    assert f'id="run-progress-{following.pk}"' in watch(finance_client, shown=run.pk).content.decode()


def test_the_watch_is_for_signed_in_people_with_a_role(client, world, roleless_user):
    assert watch(client).status_code == 302
    client.force_login(roleless_user)
    assert watch(client).status_code == 403


# --- the card follows the run's real state -----------------------------------------------------------


def test_a_queued_run_says_it_waits_for_a_worker_and_no_percentage(finance_client, world):
    run = active_run(world, state=RunState.QUEUED)
    html = poll(finance_client, run).content.decode()
    assert "Queued: waiting for a worker to start it" in html
    assert "aria-valuenow" not in html and "%</span>" not in html


def test_a_started_run_no_longer_says_queued(finance_client, world):
    run = active_run(world, phase="fetch", started_at=timezone.now(), fetched=12)
    html = poll(finance_client, run).content.decode()
    assert "Fetching from Xero…" in html and "12 fetched so far" in html
    assert "Queued" not in html and "queued" not in html


@pytest.mark.parametrize(
    ("phase", "words"),
    [
        ("fetch", "Fetching from Xero…"),
        ("resolve", "Matching with Procore…"),
        ("send", "Sending to Procore…"),
        ("reversals", "Checking reversals…"),
    ],
)
def test_each_phase_has_its_own_words_not_the_step_name_with_ing(finance_client, world, phase, words):
    run = active_run(world, phase=phase, progress_done=39, progress_total=100)
    html = poll(finance_client, run).content.decode()
    assert words in html and 'aria-valuenow="39"' in html and "39%" in html
    assert "Resolveing" not in html and "Reversalsing" not in html


def test_a_failed_run_is_neither_100_percent_nor_in_progress(finance_client, world):
    run = active_run(
        world,
        state=RunState.FAILED,
        phase="send",
        progress_done=39,
        progress_total=100,
        started_at=timezone.now() - dt.timedelta(minutes=2),
        finished_at=timezone.now(),
        error="Procore did not answer POST /payments after 4 tries (HTTP 502).",
    )
    response = poll(finance_client, run)
    html = response.content.decode()
    assert response.status_code == 286
    assert "Stopped while sending to Procore" in html and "HTTP 502" in html
    assert "100%</span>" not in html and 'aria-valuenow="100"' not in html and 'aria-valuenow="39"' in html
    assert "in progress" not in html and 'class="progress failed"' in html
    assert "Get All Payments" in html  # the button is back


def test_a_paused_run_says_until_when_and_is_not_100_percent(finance_client, world):
    run = active_run(
        world,
        state=RunState.PAUSED,
        phase="send",
        progress_done=10,
        progress_total=40,
        paused_until=timezone.now() + dt.timedelta(minutes=30),
        error="Procore's rate limit is spent.",
    )
    html = poll(finance_client, run).content.decode()
    assert "Paused while sending to Procore" in html and "Procore&#x27;s rate limit is spent." in html
    assert "100%</span>" not in html and 'aria-valuenow="25"' in html


def test_a_finished_run_is_100_percent_with_its_outcomes(finance_client, world):
    run = active_run(world, state=RunState.SUCCEEDED, phase="reversals", counts={"sent": 283, "already_in_procore": 2})
    html = poll(finance_client, run).content.decode()
    assert (
        "Finished: 283 sent, 2 already in Procore." in html and "100%</span>" in html and 'aria-valuenow="100"' in html
    )


def test_starting_a_run_shows_no_queued_notice_that_would_outlive_it(finance_client, world):
    response = finance_client.post(reverse("start-sync"), {"integration": "demo"}, follow=True)
    html = response.content.decode()
    run = SyncRun.objects.get(state=RunState.QUEUED)
    assert 'class="messages"' not in html  # the card is the notice, and it changes with the run
    assert "Queued: waiting for a worker to start it" in html and f"Run #{run.pk}" in html


# --- the numbers explain each other ------------------------------------------------------------------


def test_the_sent_tile_says_how_many_were_already_in_procore(finance_client, world):
    for n in (20, 21):
        payment = make_payment(world.integration, n, state=PaymentState.SENT)
        PaymentEvent.objects.create(
            payment=payment, kind="sent", message="Already in Procore as payment #77 (matched by Xero payment id)"
        )
    SyncRun.objects.filter(pk=world.run.pk).update(counts={"sent": 1, "already_in_procore": 2})
    html = finance_client.get(reverse("home")).content.decode()
    assert "Sent 3 2 of them were already in Procore" in sent_tile(html)
    assert "+2 already in Procore" in html  # beside the run's own "sent" in the last runs


def test_the_sent_tile_says_nothing_more_when_every_payment_was_sent_by_a_run(finance_client, world):
    html = finance_client.get(reverse("home")).content.decode()
    assert sent_tile(html) == "Sent 1"


# --- chart ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("top", "labels"),
    [
        (10, [0, 2, 4, 6, 8, 10]),
        (7, [0, 2, 4, 6, 8]),
        (3, [0, 1, 2, 3]),
        (1, [0, 1]),
        (285, [0, 100, 200, 300]),
        (12_345.67, [0, 5_000, 10_000, 15_000]),
    ],
)
def test_the_axis_steps_are_1_2_or_5_times_a_power_of_ten(top, labels):
    step, intervals = nice_scale(top)
    assert [step * i for i in range(intervals + 1)] == labels


def test_the_chart_of_ten_payments_has_ticks_0_2_4_6_8_10_on_evenly_spaced_lines():
    bars = [DayBar(dt.date(2026, 3, 1), sent=6, blocked=3, failed=1), DayBar(dt.date(2026, 3, 2), sent=2)]
    chart = stacked_daily(bars, measure="count")
    assert [t.label for t in chart.ticks] == ["0", "2", "4", "6", "8", "10"]
    gaps = {round(a.y - b.y, 1) for a, b in zip(chart.ticks, chart.ticks[1:], strict=False)}
    assert len(gaps) == 1
    tallest = sum(r.height for r in chart.columns[0].rects)
    assert tallest == pytest.approx(chart.plot_bottom - chart.ticks[-1].y, abs=0.3)  # 10 reaches the top line


def test_the_amount_chart_labels_round_thousands():
    chart = stacked_daily([DayBar(dt.date(2026, 3, 1), sent=1, sent_amount=Decimal("12345.67"))], measure="amount")
    assert [t.label for t in chart.ticks] == ["0", "5k", "10k", "15k"]


def test_with_two_integrations_the_watch_asks_for_the_one_home_shows(finance_client, world):
    second = Integration.objects.create(name="second", label="Second Site")
    html = finance_client.get(reverse("home"), {"integration": "second"}).content.decode()
    assert "integration=second" in re.search(r'<div id="run-watch"[^>]*>', html).group(0)
    active_run(world)  # a run of the other integration is not this page's business
    assert watch(finance_client, integration=second.name).status_code == 204
    assert watch(finance_client, integration=world.integration.name).status_code == 200

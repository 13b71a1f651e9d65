"""The pacer's arithmetic on a fake clock: bursts while budget is plentiful, spreads when low,
waits for the reset at zero, never lets a call through before a 429's wait is over."""

import threading

from syncapp.connectors.pacing import SlidingWindowLog, WindowPacer
from syncapp.connectors.retries import backoff_delay


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_calls_go_at_once_while_plenty_of_budget_is_left():
    clock = FakeClock()
    pacer = WindowPacer(clock=clock, sleep=clock.sleep, reset_slack=0)
    pacer.observe(limit=25, remaining=24, seconds_to_reset=10)
    waits = [pacer.wait() for _ in range(10)]
    assert waits == [0.0] * 10


def test_a_low_budget_is_spread_evenly_until_the_reset_while_the_window_is_unknown():
    clock = FakeClock()
    pacer = WindowPacer(clock=clock, sleep=clock.sleep, reset_slack=0)
    # Another client's call reported the budget: none of ours is in the window to learn from.
    pacer.observe(limit=25, remaining=5, seconds_to_reset=10)
    waits = [pacer.wait() for _ in range(3)]
    assert waits == [0.0, 2.5, 2.5]  # 10 s left for 5 calls, then 7.5 s for 3
    assert clock.now == 1005.0


def test_at_zero_remaining_the_next_call_waits_for_the_reset():
    clock = FakeClock()
    pacer = WindowPacer(clock=clock, sleep=clock.sleep, reset_slack=0.05)
    pacer.observe(limit=25, remaining=0, seconds_to_reset=3)
    assert round(pacer.wait(), 2) == 3.05
    # The budget after the reset is unknown until an answer says it: no further waiting.
    assert pacer.wait() == 0.0


def test_after_a_429_no_call_goes_before_the_wait_is_over():
    clock = FakeClock()
    pacer = WindowPacer(clock=clock, sleep=clock.sleep)
    pacer.block_for(5)
    assert pacer.wait() == 5.0
    assert pacer.wait() == 0.0


def test_a_stale_window_does_not_hold_calls_back():
    clock = FakeClock()
    pacer = WindowPacer(clock=clock, sleep=clock.sleep, reset_slack=0)
    pacer.observe(limit=25, remaining=1, seconds_to_reset=2)
    clock.now += 5
    assert pacer.wait() == 0.0


def test_threads_sharing_a_pacer_get_distinct_slots():
    clock = FakeClock()
    pacer = WindowPacer(clock=clock, sleep=lambda s: None, reset_slack=0)
    pacer.observe(limit=25, remaining=5, seconds_to_reset=10)
    delays: list[float] = []
    lock = threading.Lock()

    def reserve():
        delay = pacer.reserve()
        with lock:
            delays.append(delay)

    threads = [threading.Thread(target=reserve) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Five reservations, each one interval after the previous one: no two share a slot.
    assert sorted(round(d, 6) for d in delays) == sorted(set(round(d, 6) for d in delays))
    assert max(delays) >= 8.0


def test_backoff_grows_and_is_capped():
    assert 0.25 <= backoff_delay(0) <= 0.5
    assert 2.0 <= backoff_delay(3) <= 4.0
    assert 4.0 <= backoff_delay(10) <= 8.0


def test_the_sliding_log_says_when_our_oldest_call_leaves_the_minute():
    clock = FakeClock()
    log = SlidingWindowLog(60, clock=clock)
    assert log.seconds_until_oldest_expires() == 60
    log.record()
    clock.now += 45
    log.record()
    assert log.seconds_until_oldest_expires() == 15
    clock.now += 20
    assert log.seconds_until_oldest_expires() == 40


def sliding_window_server(limit: int, window: float, log: list[float], now: float) -> tuple[bool, int, float]:
    """Procore's spike window as the sandbox keeps it: (refused, remaining, seconds to the reset,
    rounded up to a whole unix second as X-Rate-Limit-Reset is)."""
    import math

    live = [t for t in log if t > now - window]
    log[:] = live
    if len(live) >= limit:
        return True, 0, math.ceil(live[0] + window) - now
    log.append(now)
    return False, limit - len(log), math.ceil(log[0] + window) - now


def test_a_learned_window_takes_each_slot_as_it_frees_without_a_429():
    clock = FakeClock()
    clock.now = 1000.37
    pacer = WindowPacer(clock=clock, sleep=clock.sleep)
    server_log: list[float] = []
    refused = made = 0
    start = clock.now
    while clock.now < start + 120:
        pacer.wait()
        clock.now += 0.013  # the call's way to the server
        was_refused, remaining, to_reset = sliding_window_server(10, 10.0, server_log, clock.now)
        refused += was_refused
        made += not was_refused
        pacer.observe(limit=10, remaining=remaining, seconds_to_reset=to_reset)
        clock.now += 0.04  # the answer's way back
    assert refused == 0
    # The ceiling over 120 s of a 10-per-10-s sliding window is 130 calls (10 at once, then 1/s).
    # Waiting for the rounded reset loses half a second a slot on average (about 80 calls); what
    # is left here is the calls' own travel time and the pacer's 50 ms of slack.
    assert made >= 0.9 * 130


def test_a_learned_window_never_moves_a_wait_more_than_a_second_before_the_reported_reset():
    clock = FakeClock()
    pacer = WindowPacer(clock=clock, sleep=clock.sleep, reset_slack=0)
    pacer.wait()
    pacer.observe(limit=5, remaining=4, seconds_to_reset=2)  # learns a 2-second window
    clock.now += 1
    pacer.observe(limit=5, remaining=0, seconds_to_reset=30)  # another client's long window
    assert pacer.wait() == 30.0


def test_no_single_wait_is_longer_than_a_minute_even_for_an_hourly_reset():
    clock = FakeClock()
    pacer = WindowPacer(clock=clock, sleep=clock.sleep, reset_slack=0)
    pacer.observe(limit=3600, remaining=0, seconds_to_reset=1800)
    assert pacer.wait() == 60.0

"""The pacer's arithmetic on a fake clock: bursts while budget is plentiful, spreads when low,
waits for the reset at zero, never lets a call through before a 429's wait is over."""

import threading

from syncapp.connectors.pacing import SlidingWindowLog, WindowPacer, backoff_delay


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


def test_a_low_budget_is_spread_evenly_until_the_reset():
    clock = FakeClock()
    pacer = WindowPacer(clock=clock, sleep=clock.sleep, reset_slack=0)
    assert pacer.wait() == 0.0  # the call whose answer reports the budget
    pacer.observe(limit=25, remaining=4, seconds_to_reset=8)
    first = pacer.wait()
    second = pacer.wait()
    assert first == 2.0  # 8 s left for 4 calls
    assert second == 2.0
    assert clock.now == 1004.0


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

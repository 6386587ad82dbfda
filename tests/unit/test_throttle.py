"""Sliding-window count of failed sign-ins (drivers/throttle.py)."""

from __future__ import annotations

import pytest

from tests.unit.fakes import FakeClock
from voltbook.drivers.throttle import SlidingWindowThrottle

KEY = ["account:alice@example.com"]


@pytest.fixture
def throttle(clock: FakeClock) -> SlidingWindowThrottle:
    return SlidingWindowThrottle(clock, max_failures=3, window_s=60.0)


def fail(throttle: SlidingWindowThrottle, keys: list[str], times: int = 1) -> None:
    for _ in range(times):
        throttle.record_failure(keys)


def test_a_key_without_failures_may_try_at_once(throttle: SlidingWindowThrottle) -> None:
    assert throttle.retry_after(KEY) == 0


def test_fewer_failures_than_the_maximum_do_not_block(throttle: SlidingWindowThrottle) -> None:
    fail(throttle, KEY, 2)
    assert throttle.retry_after(KEY) == 0


def test_the_maximum_number_of_failures_blocks_for_the_whole_window(
    throttle: SlidingWindowThrottle,
) -> None:
    fail(throttle, KEY, 3)
    assert throttle.retry_after(KEY) == 60


def test_the_wait_is_until_the_oldest_counted_failure_leaves_the_window(
    throttle: SlidingWindowThrottle, clock: FakeClock
) -> None:
    fail(throttle, KEY)  # t=0
    clock.advance(10)
    fail(throttle, KEY)  # t=10
    clock.advance(5)
    fail(throttle, KEY)  # t=15
    assert throttle.retry_after(KEY) == 45  # the t=0 failure leaves at t=60
    clock.advance(44)
    assert throttle.retry_after(KEY) == 1
    clock.advance(1)
    assert throttle.retry_after(KEY) == 0  # only two failures left in the window


def test_partial_seconds_of_waiting_are_rounded_up(
    throttle: SlidingWindowThrottle, clock: FakeClock
) -> None:
    fail(throttle, KEY, 3)
    clock.advance(59.2)
    assert throttle.retry_after(KEY) == 1


def test_with_more_failures_than_the_maximum_the_wait_counts_from_the_right_one(
    throttle: SlidingWindowThrottle, clock: FakeClock
) -> None:
    for _ in range(5):  # t = 0, 10, 20, 30, 40
        fail(throttle, KEY)
        clock.advance(10)
    # at t=50 the window holds 0..40; it drops below 3 when t=20 leaves, at t=80
    assert throttle.retry_after(KEY) == 30


def test_failures_older_than_the_window_are_forgotten(
    throttle: SlidingWindowThrottle, clock: FakeClock
) -> None:
    fail(throttle, KEY, 2)
    clock.advance(60)
    fail(throttle, KEY)
    assert throttle.retry_after(KEY) == 0


def test_the_longest_wait_of_several_keys_applies(
    throttle: SlidingWindowThrottle, clock: FakeClock
) -> None:
    account, address = "account:a@example.com", "address:192.0.2.1"
    fail(throttle, [account, address], 3)  # t=0, both blocked until t=60
    clock.advance(30)
    fail(throttle, [address], 3)  # address now blocked until t=90
    assert throttle.retry_after([account]) == 30
    assert throttle.retry_after([address]) == 60
    assert throttle.retry_after([account, address]) == 60


def test_keys_are_counted_separately(throttle: SlidingWindowThrottle) -> None:
    fail(throttle, ["address:192.0.2.1"], 3)
    assert throttle.retry_after(["address:192.0.2.2"]) == 0
    assert throttle.retry_after(["account:a@example.com"]) == 0


def test_reset_forgets_only_the_given_keys(throttle: SlidingWindowThrottle) -> None:
    account, address = "account:a@example.com", "address:192.0.2.1"
    fail(throttle, [account, address], 3)
    throttle.reset([account])
    assert throttle.retry_after([account]) == 0
    assert throttle.retry_after([address]) == 60


def test_reset_of_an_unknown_key_is_harmless(throttle: SlidingWindowThrottle) -> None:
    throttle.reset(["account:nobody@example.com"])
    assert throttle.retry_after(["account:nobody@example.com"]) == 0


def test_the_defaults_are_ten_failures_a_minute(clock: FakeClock) -> None:
    throttle = SlidingWindowThrottle(clock)
    fail(throttle, KEY, 9)
    assert throttle.retry_after(KEY) == 0
    fail(throttle, KEY)
    assert throttle.retry_after(KEY) == 60


def test_a_spray_of_many_keys_still_counts_correctly(
    throttle: SlidingWindowThrottle, clock: FakeClock
) -> None:
    # Enough distinct keys to trigger the sweep of stale entries.
    for n in range(50_002):
        throttle.record_failure([f"address:{n}"])
    clock.advance(61)
    fail(throttle, KEY, 3)
    assert throttle.retry_after(["address:7"]) == 0
    assert throttle.retry_after(KEY) == 60

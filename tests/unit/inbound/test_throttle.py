"""The login throttle's arithmetic, on a clock the test moves (milliseconds, no waiting)."""

from __future__ import annotations

from channelhub.inbound.throttle import FailureThrottle, RequestBudget


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_key_is_refused_after_the_limit_until_its_oldest_failure_leaves_the_window():
    clock = Clock()
    throttle = FailureThrottle(limit=3, window=60, clock=clock)
    for _ in range(3):
        assert throttle.retry_after("u") is None
        throttle.failed("u")
        clock.now += 10
    assert throttle.retry_after("u") == 30  # failures at 0, 10, 20; now 30: the first leaves at 60
    clock.now += 29.5
    assert throttle.retry_after("u") == 1
    clock.now += 0.5
    assert throttle.retry_after("u") is None
    assert throttle.retry_after("other") is None


def test_success_clears_a_key_and_memory_is_bounded():
    clock = Clock()
    throttle = FailureThrottle(limit=1, window=60, max_keys=2, clock=clock)
    throttle.failed("a")
    assert throttle.retry_after("a") == 60
    throttle.succeeded("a")
    assert throttle.retry_after("a") is None
    for key in ("x", "y", "z"):
        throttle.failed(key)
    assert throttle.retry_after("x") is None, "the least recently failed key was dropped"
    assert throttle.retry_after("z") == 60


def test_a_request_budget_counts_fixed_windows_and_says_what_is_left():
    clock = Clock()  # 1000.0: 1000 s into a second window, 100 s into a 15-minute one
    budget = RequestBudget(clock=clock)
    caps = [(2, 1), (3, 900)]
    first = budget.spend("u", caps)
    assert first.allowed and first.headers == {"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "1",
                                               "X-RateLimit-Reset": "1"}
    assert budget.spend("u", caps).allowed
    third = budget.spend("u", caps)
    assert not third.allowed and third.headers["Retry-After"] == "1"
    clock.now += 1  # a new second; the 15-minute window holds 3 already
    fourth = budget.spend("u", caps)
    assert not fourth.allowed and fourth.headers["Retry-After"] == "799" and fourth.headers["X-RateLimit-Limit"] == "3"
    assert budget.spend("other", caps).allowed and budget.spend("u", []) is None

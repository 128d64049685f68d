from __future__ import annotations

from imgedge.proxy.breaker import CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_threshold_and_recovers_through_half_open() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=3, cooldown_s=10, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.failure()
    assert breaker.state == "closed"
    breaker.failure()
    assert breaker.state == "open" and not breaker.allow() and breaker.trips == 1
    assert breaker.retry_after() == 10
    clock.now = 10
    assert breaker.state == "half-open"
    assert breaker.allow()  # one trial …
    assert not breaker.allow()  # … and only one
    breaker.failure()
    assert breaker.state == "open"
    clock.now = 25
    assert breaker.allow()
    breaker.success()
    assert breaker.state == "closed" and breaker.allow()


def test_success_resets_the_count() -> None:
    breaker = CircuitBreaker(threshold=2)
    breaker.failure()
    breaker.success()
    breaker.failure()
    assert breaker.state == "closed"

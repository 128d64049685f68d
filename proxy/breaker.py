"""A circuit breaker for the origin: after repeated failures, fail fast for a while instead of piling on."""

from __future__ import annotations

import time
from collections.abc import Callable


class CircuitBreaker:
    def __init__(
        self, threshold: int = 5, cooldown_s: float = 10.0, clock: Callable[[], float] = time.monotonic
    ):
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self.trips = 0

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return "closed"
        return "half-open" if self._clock() - self._opened_at >= self.cooldown_s else "open"

    def allow(self) -> bool:
        """Closed: yes. Open: no. Half-open: one trial at a time (the next failure re-opens at once)."""
        state = self.state
        if state == "open":
            return False
        if state == "half-open":
            self._opened_at = self._clock()  # hold other callers back while this trial runs
        return True

    def retry_after(self) -> int:
        if self._opened_at is None:
            return 0
        return max(1, round(self.cooldown_s - (self._clock() - self._opened_at)))

    def success(self) -> None:
        self._failures = 0
        self._opened_at = None

    def failure(self) -> None:
        self._failures += 1
        if self._failures >= self.threshold or self._opened_at is not None:
            if self._opened_at is None:
                self.trips += 1
            self._opened_at = self._clock()

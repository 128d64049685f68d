"""Request rate limits per client, for the endpoints that start work (generation, uploads)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request

from imgedge.generator.errors import ApiError
from imgedge.generator.metrics import Metrics


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """One token bucket per client key; refills continuously at `per_minute`, holds at most `burst`."""

    def __init__(
        self,
        per_minute: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 10_000,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: dict[str, _Bucket] = {}

    def take(self, client: str) -> float:
        """Returns 0 when allowed, else the seconds until a token is available."""
        now = self.clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= self.max_clients:
                self._forget_full(now)
            bucket = self._buckets[client] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

    def retry_after(self, wait: float) -> str:
        return str(max(1, math.ceil(wait)))

    def _forget_full(self, now: float) -> None:
        # A bucket that has refilled completely carries no information, so dropping it is free.
        full_after = self.burst / self.rate
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.updated < full_after}


class RateGate:
    """Per-client token buckets in front of the endpoints that cost work; refusals are counted."""

    def __init__(self, buckets: TokenBuckets, metrics: Metrics) -> None:
        self.buckets = buckets
        self.metrics = metrics

    def check(self, request: Request) -> None:
        wait = self.buckets.take(client_key(request))
        if wait:
            self.metrics.jobs_refused_rate_limited.inc()
            raise ApiError(429, "too many requests", {"Retry-After": self.buckets.retry_after(wait)})


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"

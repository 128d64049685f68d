from __future__ import annotations

import pytest

from imgedge.generator.http.rate_limit import TokenBuckets


def test_token_bucket_refills_with_time() -> None:
    now = [0.0]
    buckets = TokenBuckets(per_minute=60, burst=2, clock=lambda: now[0])
    assert buckets.take("a") == 0 and buckets.take("a") == 0
    wait = buckets.take("a")
    assert wait == pytest.approx(1.0)
    assert buckets.take("b") == 0  # buckets are per client
    now[0] = 1.0
    assert buckets.take("a") == 0

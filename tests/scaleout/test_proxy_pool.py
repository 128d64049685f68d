"""Two proxy processes sharing one Redis: results made by one serve the other; a burst transforms once."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx

from tests.scaleout.conftest import Stack

BURST = 16


def leaders(stack: Stack, proxy: str) -> int:
    flights = stack.stats(proxy)["single_flight"]
    return int(str(flights["leaders"]))


def test_a_variant_transformed_by_one_instance_is_a_hit_on_the_other(stack: Stack) -> None:
    path = stack.url("--width", "140", "--format", "webp")
    with httpx.Client(timeout=60) as client:
        made = client.get(stack.proxy_a + path)
        assert made.headers["cache-status"] == "imgedge; fwd=miss; stored"
        served = client.get(stack.proxy_b + path)
        assert served.headers["cache-status"] == "imgedge; hit; detail=redis"
        assert served.content == made.content and served.headers["etag"] == made.headers["etag"]
        # Promoted into B's own memory tier on the way.
        assert client.get(stack.proxy_b + path).headers["cache-status"] == "imgedge; hit; detail=memory"


async def test_a_burst_of_misses_over_both_instances_transforms_once(stack: Stack) -> None:
    path = stack.url("--width", "333", "--height", "222", "--fit", "cover", "--format", "webp")
    before = leaders(stack, stack.proxy_a) + leaders(stack, stack.proxy_b)
    async with httpx.AsyncClient(timeout=120) as client:
        responses = await asyncio.gather(
            *(client.get((stack.proxy_a, stack.proxy_b)[i % 2] + path) for i in range(BURST))
        )
    assert all(r.status_code == 200 for r in responses)
    assert len({r.content for r in responses}) == 1
    statuses = Counter(r.headers["cache-status"].split("; detail=")[0] for r in responses)
    # Whoever arrived after the result was stored got a hit; everyone else waited on the one transform.
    assert statuses["imgedge; fwd=miss; stored"] == 1, statuses
    assert set(statuses) <= {"imgedge; fwd=miss; stored", "imgedge; fwd=miss; collapsed", "imgedge; hit"}
    assert leaders(stack, stack.proxy_a) + leaders(stack, stack.proxy_b) == before + 1
    print(f"burst of {BURST} over two instances: {dict(statuses)}")

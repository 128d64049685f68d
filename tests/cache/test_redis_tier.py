from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio as aioredis

from imgedge.cache.entry import Entry
from imgedge.cache.redis_tier import RedisTier

EntryFactory = Callable[..., Entry]


@pytest.fixture
async def tier(redis_url: str) -> AsyncIterator[RedisTier]:
    tier = RedisTier(redis_url, max_entry_bytes=10_000, ttl_s=300)
    yield tier
    await tier.aclose()


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_round_trip_with_ttl(tier: RedisTier, raw: aioredis.Redis, make_entry: EntryFactory) -> None:
    entry = make_entry(b"redis-body")
    await tier.put("v1/var/a/1", entry, ["asset:a"])
    assert await tier.get("v1/var/a/1") == entry
    assert await tier.get("v1/var/a/2") is None
    assert 0 < await raw.ttl("imgedge:e:v1/var/a/1") <= 300
    assert 0 < await raw.ttl("imgedge:t:asset:a") <= 300
    assert tier.stats()["hits"] == 1 and tier.stats()["misses"] == 1


async def test_shared_between_instances(redis_url: str, tier: RedisTier, make_entry: EntryFactory) -> None:
    other = RedisTier(redis_url, max_entry_bytes=10_000, ttl_s=300)
    try:
        await tier.put("k", make_entry(b"shared"), ["asset:a"])
        got = await other.get("k")
        assert got is not None and got.body == b"shared"
        assert await other.purge("asset:a") == 1
        assert await tier.get("k") is None
    finally:
        await other.aclose()


async def test_purge_by_tag(tier: RedisTier, raw: aioredis.Redis, make_entry: EntryFactory) -> None:
    await tier.put("a1", make_entry(tags=("asset:a",)), ["asset:a"])
    await tier.put("a2", make_entry(tags=("asset:a",)), ["asset:a"])
    await tier.put("b1", make_entry(tags=("asset:b",)), ["asset:b"])
    assert await tier.purge("asset:a") == 2
    assert await tier.get("a1") is None and await tier.get("a2") is None
    assert await tier.get("b1") is not None
    assert not await raw.exists("imgedge:t:asset:a")
    assert await tier.purge("asset:a") == 0


async def test_entries_over_the_size_limit_are_not_stored(tier: RedisTier, make_entry: EntryFactory) -> None:
    await tier.put("big", make_entry(b"x" * 20_000), ["asset:a"])
    assert await tier.get("big") is None
    assert tier.stats()["too_large"] == 1


async def test_corrupt_value_is_dropped_not_served(
    tier: RedisTier, raw: aioredis.Redis, make_entry: EntryFactory
) -> None:
    await tier.put("k", make_entry(b"fine"), ["asset:a"])
    value = await raw.get("imgedge:e:k")
    assert value is not None
    await raw.set("imgedge:e:k", value[:-3])
    assert await tier.get("k") is None
    assert not await raw.exists("imgedge:e:k")
    assert tier.stats()["corrupt"] == 1


async def test_unreachable_redis_is_a_counted_miss_not_an_error(
    make_entry: EntryFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused
        tier = RedisTier(f"redis://127.0.0.1:{port}/0", max_entry_bytes=10_000, ttl_s=300, timeout_s=0.5)
        try:
            with caplog.at_level(logging.WARNING, logger="imgedge.cache.redis_tier"):
                await tier.put("k", make_entry(), ["asset:a"])
                assert await tier.get("k") is None
                assert await tier.purge("asset:a") == 0
        finally:
            await tier.aclose()
    assert tier.stats()["errors"] == 3
    assert "redis cache get failed" in caplog.text

"""DistributedSingleFlight against a real redis-server: instances are separate objects with their own
connections, as separate proxy processes would be."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio as aioredis

from imgedge.cache.distributed_flight import DistributedSingleFlight


class SharedResults:
    """Stands in for the shared Redis tier: what a leader stores, every instance can look up."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    async def lookup(self, key: str) -> str | None:
        return self.values.get(key)


@pytest.fixture
async def instances(redis_url: str) -> AsyncIterator[Callable[..., DistributedSingleFlight[str]]]:
    made: list[DistributedSingleFlight[str]] = []
    shared = SharedResults()

    def make(max_wait_s: float = 35.0) -> DistributedSingleFlight[str]:
        flight = DistributedSingleFlight[str](redis_url, shared.lookup, poll_s=0.005, max_wait_s=max_wait_s)
        made.append(flight)
        return flight

    make.shared = shared  # type: ignore[attr-defined]
    yield make
    for flight in made:
        await flight.aclose()


def work(shared: SharedResults, key: str, value: str, gate: asyncio.Event | None, calls: list[str]
         ) -> Callable[[], Awaitable[str]]:  # fmt: skip
    async def run() -> str:
        calls.append(value)
        if gate is not None:
            await gate.wait()
        shared.values[key] = value
        return value

    return run


async def test_followers_on_other_instances_wait_for_the_leaders_result(
    instances: Callable[..., DistributedSingleFlight[str]],
) -> None:
    a, b = instances(), instances()
    shared: SharedResults = instances.shared  # type: ignore[attr-defined]
    gate, calls = asyncio.Event(), list[str]()
    leader = asyncio.create_task(a.run("k", work(shared, "k", "from-a", gate, calls)))
    while calls != ["from-a"]:
        await asyncio.sleep(0.001)
    followers = [asyncio.create_task(b.run("k", work(shared, "k", "from-b", None, calls))) for _ in range(5)]
    local = asyncio.create_task(a.run("k", work(shared, "k", "from-a2", None, calls)))
    while b.stats()["waited"] < 1:  # b found the lock held: it is waiting on a, not working
        await asyncio.sleep(0.001)
    gate.set()
    assert await leader == ("from-a", False)
    assert [await f for f in followers] == [("from-a", True)] * 5
    assert await local == ("from-a", True)
    assert calls == ["from-a"]
    assert a.stats()["leaders"] == 1 and b.stats()["leaders"] == 0
    assert b.stats()["collapsed_remote"] == 1 and b.stats()["collapsed_local"] == 4


async def test_a_dead_leaders_lock_expires_and_a_follower_takes_over(
    instances: Callable[..., DistributedSingleFlight[str]], redis_url: str
) -> None:
    follower = instances()
    shared: SharedResults = instances.shared  # type: ignore[attr-defined]
    client = aioredis.Redis.from_url(redis_url)
    try:
        # What a proxy killed mid-transform leaves behind: a lock with a TTL and no result.
        await client.set("imgedge:flight:k", "dead-leader", px=300)
    finally:
        await client.aclose()
    calls: list[str] = []
    result = await follower.run("k", work(shared, "k", "from-follower", None, calls))
    assert result == ("from-follower", False)
    assert calls == ["from-follower"]
    assert follower.stats()["took_over"] == 1


async def test_a_failed_leader_lets_the_next_instance_try(
    instances: Callable[..., DistributedSingleFlight[str]],
) -> None:
    a, b = instances(), instances()
    shared: SharedResults = instances.shared  # type: ignore[attr-defined]
    gate = asyncio.Event()

    async def fails() -> str:
        await gate.wait()
        raise RuntimeError("origin down")

    leader = asyncio.create_task(a.run("k", fails))
    while a.stats()["leaders"] < 1:  # a holds the lock
        await asyncio.sleep(0.001)
    calls: list[str] = []
    follower = asyncio.create_task(b.run("k", work(shared, "k", "from-b", None, calls)))
    while b.stats()["waited"] < 1:
        await asyncio.sleep(0.001)
    gate.set()
    with pytest.raises(RuntimeError, match="origin down"):
        await leader
    assert await follower == ("from-b", False)
    assert calls == ["from-b"]


async def test_waiting_is_bounded_even_if_the_lock_never_goes(
    instances: Callable[..., DistributedSingleFlight[str]], redis_url: str
) -> None:
    follower = instances(max_wait_s=0.2)
    shared: SharedResults = instances.shared  # type: ignore[attr-defined]
    client = aioredis.Redis.from_url(redis_url)
    try:
        await client.set("imgedge:flight:k", "stuck")  # no TTL: a lock nobody will release
    finally:
        await client.aclose()
    calls: list[str] = []
    assert await follower.run("k", work(shared, "k", "mine", None, calls)) == ("mine", False)
    assert follower.stats()["gave_up_waiting"] == 1


async def test_without_redis_it_degrades_to_local_single_flight() -> None:
    shared = SharedResults()
    flight = DistributedSingleFlight[str]("redis://127.0.0.1:1/0", shared.lookup, timeout_s=0.5)
    try:
        gate, calls = asyncio.Event(), list[str]()
        runs = [asyncio.create_task(flight.run("k", work(shared, "k", "v", gate, calls))) for _ in range(3)]
        while not calls:
            await asyncio.sleep(0.001)
        gate.set()
        assert sorted(await asyncio.gather(*runs)) == [("v", False), ("v", True), ("v", True)]
        assert calls == ["v"] and flight.stats()["redis_errors"] >= 1
    finally:
        await flight.aclose()

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from imgedge.cache.broadcast import POLL_INTERVAL_S, PurgeBroadcaster, PurgeNotDelivered
from imgedge.cache.disk import DiskTier
from imgedge.cache.entry import Entry
from imgedge.cache.memory import MemoryTier
from imgedge.cache.redis_tier import RedisTier
from imgedge.cache.tiered import TieredCache

EntryFactory = Callable[..., Entry]
SpawnWorker = Callable[..., Awaitable[asyncio.subprocess.Process]]


class WorkerProcess:
    """Another proxy process (tests/cache/cache_worker.py serve) with its own memory tier."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    async def ask(self, line: str) -> dict[str, object]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line.encode() + b"\n")
        await self.proc.stdin.drain()
        # A guard against a hung worker, not a speed assertion.
        async with asyncio.timeout(60):
            reply: dict[str, object] = json.loads(await self.proc.stdout.readline())
        return reply


@pytest.fixture
async def start_worker(spawn_worker: SpawnWorker) -> AsyncIterator[Callable[..., Awaitable[WorkerProcess]]]:
    started: list[WorkerProcess] = []

    async def start(*args: str) -> WorkerProcess:
        worker = WorkerProcess(await spawn_worker("serve", *args))
        started.append(worker)
        assert worker.proc.stdout is not None
        async with asyncio.timeout(60):
            hello = json.loads(await worker.proc.stdout.readline())
        assert hello["ready"]
        return worker

    yield start
    for worker in started:
        assert worker.proc.stdin is not None
        worker.proc.stdin.write(b"quit\n")
        await worker.proc.stdin.drain()
        assert await worker.proc.wait() == 0


async def test_disk_log_purge_reaches_the_memory_of_another_worker(
    tmp_path: Path, start_worker: Callable[..., Awaitable[WorkerProcess]], make_entry: EntryFactory
) -> None:
    cache = TieredCache([MemoryTier(1 << 20), DiskTier(tmp_path / "results", 1 << 24)])
    broadcaster = PurgeBroadcaster([cache], log_path=tmp_path / "purge.log")
    await broadcaster.start()
    try:
        assert broadcaster.mode == "disk-log"
        other = await start_worker(str(tmp_path))
        await cache.put("k", make_entry(b"variant"), ["asset:a"])
        assert await other.ask("get k") == {"tier": "disk", "body": "variant"}
        assert await other.ask("get k") == {"tier": "memory", "body": "variant"}

        assert await broadcaster.purge("asset:a") == 2
        await asyncio.sleep(POLL_INTERVAL_S)  # other workers look at the log at most this often
        assert await other.ask("get k") == {"tier": None, "body": None}

        # And the other way round: the worker purges, our memory tier forgets.
        assert await other.ask("put k2 asset:b second") == {"ok": True}
        assert (await cache.get("k2"))[1] == "disk"
        assert (await cache.get("k2"))[1] == "memory"
        assert await other.ask("purge asset:b") == {"removed": 2}
        await asyncio.sleep(POLL_INTERVAL_S)
        assert await cache.get("k2") == (None, None)
    finally:
        await broadcaster.stop()


async def test_redis_purge_reaches_another_process_and_its_own_disk(
    tmp_path: Path,
    redis_url: str,
    start_worker: Callable[..., Awaitable[WorkerProcess]],
    make_entry: EntryFactory,
) -> None:
    # Two "machines": separate disk directories, one shared Redis.
    cache = TieredCache(
        [
            MemoryTier(1 << 20),
            DiskTier(tmp_path / "here" / "results", 1 << 24),
            RedisTier(redis_url, 1 << 20, 60),
        ]
    )
    broadcaster = PurgeBroadcaster([cache], redis_url=redis_url, log_path=tmp_path / "here" / "purge.log")
    await broadcaster.start()
    try:
        assert broadcaster.mode == "redis"
        other = await start_worker(str(tmp_path / "there"), redis_url)
        await cache.put("k", make_entry(b"variant"), ["asset:a"])
        assert await other.ask("get k") == {"tier": "redis", "body": "variant"}
        assert await other.ask("get k") == {"tier": "memory", "body": "variant"}

        # purge() returns once every subscriber has acknowledged, so the very next request is a miss.
        assert await broadcaster.purge("asset:a") == 3
        assert await other.ask("get k") == {"tier": None, "body": None}
        assert broadcaster.stats()["missing_acks"] == 0

        assert await other.ask("put k2 asset:b second") == {"ok": True}
        assert (await cache.get("k2"))[1] == "redis"
        assert (await cache.get("k2"))[1] == "memory"
        assert await other.ask("purge asset:b") == {"removed": 3}
        assert await cache.get("k2") == (None, None)
        assert broadcaster.stats()["applied"] == 1
    finally:
        await broadcaster.stop()
        await cache.aclose()


async def test_two_caches_in_one_process_over_redis(redis_url: str, make_entry: EntryFactory) -> None:
    caches = [TieredCache([MemoryTier(1 << 20)]) for _ in range(2)]
    broadcasters = [PurgeBroadcaster([c], redis_url=redis_url) for c in caches]
    for b in broadcasters:
        await b.start()
    try:
        for c in caches:
            await c.put("k", make_entry(), ["asset:a"])
        assert await broadcasters[0].purge("asset:a") == 1
        for c in caches:
            assert await c.get("k") == (None, None)
        # The receiver also refuses a copy made before the purge that arrives late.
        await caches[1].put("k", make_entry(created_at=time.time() - 60), ["asset:a"])
        assert await caches[1].get("k") == (None, None)
    finally:
        for b in broadcasters:
            await b.stop()


async def test_without_redis_or_disk_purge_is_local(make_entry: EntryFactory) -> None:
    cache = TieredCache([MemoryTier(1 << 20)])
    broadcaster = PurgeBroadcaster([cache])
    await broadcaster.start()
    await cache.put("k", make_entry(), ["asset:a"])
    assert broadcaster.mode == "local"
    assert await broadcaster.purge("asset:a") == 1
    await broadcaster.stop()


async def test_a_rotated_log_drops_local_memory(tmp_path: Path, make_entry: EntryFactory) -> None:
    cache = TieredCache([MemoryTier(1 << 20)])
    broadcaster = PurgeBroadcaster([cache], log_path=tmp_path / "purge.log")
    await broadcaster.start()
    try:
        await broadcaster.purge("asset:x")
        await cache.put("k", make_entry(), ["asset:a"])
        assert (await cache.get("k"))[1] == "memory"
        (tmp_path / "purge.log").unlink()
        (tmp_path / "purge.log").write_bytes(b"")
        await asyncio.sleep(POLL_INTERVAL_S)
        assert await cache.get("k") == (None, None)
        assert broadcaster.stats()["lost_track"] == 1
    finally:
        await broadcaster.stop()


async def test_a_dropped_subscription_drops_local_memory(redis_url: str, make_entry: EntryFactory) -> None:
    cache = TieredCache([MemoryTier(1 << 20)])
    broadcaster = PurgeBroadcaster([cache], redis_url=redis_url)
    await broadcaster.start()
    admin = aioredis.Redis.from_url(redis_url)
    try:
        await cache.put("k", make_entry(), ["asset:a"])
        # Purges published while the subscription was down never arrive, so the local memory is suspect.
        assert await admin.client_kill_filter(_type="pubsub") == 1
        async with asyncio.timeout(60):
            while broadcaster.stats()["lost_track"] == 0:
                await asyncio.sleep(0.01)
        assert await cache.get("k") == (None, None)
        # Still subscribed afterwards: purges from elsewhere keep arriving.
        other_cache = TieredCache([MemoryTier(1 << 20)])
        other = PurgeBroadcaster([other_cache], redis_url=redis_url)
        await other.start()
        try:
            await cache.put("k", make_entry(), ["asset:a"])
            await other.purge("asset:a")
            assert await cache.get("k") == (None, None)
            assert other.stats()["missing_acks"] == 0
        finally:
            await other.stop()
    finally:
        await admin.aclose()
        await broadcaster.stop()


async def test_purge_that_cannot_be_published_is_applied_locally_and_reported(
    private_redis: tuple[str, subprocess.Popen[bytes]], make_entry: EntryFactory
) -> None:
    url, server = private_redis
    cache = TieredCache([MemoryTier(1 << 20)])
    broadcaster = PurgeBroadcaster([cache], redis_url=url, ack_timeout_s=0.5)
    await broadcaster.start()
    try:
        await cache.put("k", make_entry(), ["asset:a"])
        server.terminate()
        server.wait()
        with pytest.raises(PurgeNotDelivered):
            await broadcaster.purge("asset:a")
        assert await cache.get("k") == (None, None)
    finally:
        await broadcaster.stop()

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import pytest

from imgedge.cache import tiered
from imgedge.cache.disk import DiskTier
from imgedge.cache.entry import Entry
from imgedge.cache.memory import MemoryTier
from imgedge.cache.redis_tier import RedisTier
from imgedge.cache.tier import Scope
from imgedge.cache.tiered import TieredCache

EntryFactory = Callable[..., Entry]


@pytest.fixture
async def three_tiers(
    tmp_path: Path, redis_url: str
) -> AsyncIterator[tuple[MemoryTier, DiskTier, RedisTier]]:
    redis_tier = RedisTier(redis_url, 1 << 20, 300)
    yield MemoryTier(1 << 20), DiskTier(tmp_path, 1 << 20), redis_tier
    await redis_tier.aclose()


async def test_put_writes_every_tier(
    three_tiers: tuple[MemoryTier, DiskTier, RedisTier], make_entry: EntryFactory
) -> None:
    cache = TieredCache(three_tiers)
    entry = make_entry()
    await cache.put("k", entry, ["asset:a"])
    for tier in three_tiers:
        assert await tier.get("k") == entry, tier.name


async def test_hits_are_promoted_into_faster_tiers(
    three_tiers: tuple[MemoryTier, DiskTier, RedisTier], make_entry: EntryFactory
) -> None:
    memory, disk, redis_tier = three_tiers
    cache = TieredCache(three_tiers)
    entry = make_entry(b"only in redis")
    await redis_tier.put("k", entry, ["asset:a"])
    assert await cache.get("k") == (entry, "redis")
    assert await cache.get("k") == (entry, "memory")
    assert await disk.get("k") == entry
    await memory.purge("asset:a")
    assert await cache.get("k") == (entry, "disk")
    assert await cache.get("missing") == (None, None)


async def test_purge_reaches_every_tier(
    three_tiers: tuple[MemoryTier, DiskTier, RedisTier], make_entry: EntryFactory
) -> None:
    cache = TieredCache(three_tiers)
    await cache.put("a1", make_entry(), ["asset:a"])
    await cache.put("a2", make_entry(), ["asset:a"])
    await cache.put("b1", make_entry(tags=("asset:b",)), ["asset:b"])
    assert await cache.purge("asset:a") == 6  # two entries in each of three tiers
    for tier in three_tiers:
        assert await tier.get("a1") is None and await tier.get("a2") is None
        assert await tier.get("b1") is not None
    assert cache.stats()["memory"]["entries"] == 1


async def test_put_tags_are_carried_by_the_entry(tmp_path: Path, make_entry: EntryFactory) -> None:
    memory = MemoryTier(1 << 20)
    cache = TieredCache([memory, DiskTier(tmp_path, 1 << 20)])
    await cache.put("k", make_entry(tags=()), ["asset:a"])
    entry, _ = await cache.get("k")
    assert entry is not None and entry.tags == ("asset:a",)
    await memory.purge("asset:a")
    await cache.get("k")  # promoted from disk, with the tag, so a purge still finds it in memory
    assert await memory.purge("asset:a") == 1


async def test_entry_made_before_a_purge_is_neither_stored_nor_served(
    tmp_path: Path, make_entry: EntryFactory
) -> None:
    disk = DiskTier(tmp_path, 1 << 20)
    cache = TieredCache([MemoryTier(1 << 20), disk])
    made_before = make_entry(created_at=time.time() - 60)
    await cache.purge("asset:a")
    # A transform that started before the purge finishes after it: storing it would undo the purge.
    await cache.put("k", made_before, ["asset:a"])
    assert await cache.get("k") == (None, None)
    # Another process that has not heard of the purge wrote it to the shared disk tier.
    await disk.put("k", made_before, ["asset:a"])
    assert await cache.get("k") == (None, None)
    assert cache.stale_rejected == 2
    fresh = make_entry()
    await cache.put("k", fresh, ["asset:a"])
    assert await cache.get("k") == (fresh, "memory")


async def test_forget_drops_memory_and_refuses_older_entries(
    tmp_path: Path, make_entry: EntryFactory
) -> None:
    memory = MemoryTier(1 << 20)
    cache = TieredCache([memory, DiskTier(tmp_path, 1 << 20)])
    entry = make_entry()
    await cache.put("k", entry, ["asset:a"])
    cache.forget("asset:a", time.time())
    assert await memory.get("k") is None
    assert await cache.get("k") == (None, None)


async def test_unreachable_redis_falls_through_without_raising(
    tmp_path: Path, make_entry: EntryFactory
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        redis_tier = RedisTier(f"redis://127.0.0.1:{sock.getsockname()[1]}/0", 1 << 20, 300, timeout_s=0.5)
        cache = TieredCache([MemoryTier(1 << 20), DiskTier(tmp_path, 1 << 20), redis_tier])
        try:
            entry = make_entry()
            await cache.put("k", entry, ["asset:a"])
            assert await cache.get("k") == (entry, "memory")
            assert await cache.get("other") == (None, None)
            assert await cache.purge("asset:a") == 2
        finally:
            await cache.aclose()
    assert cache.stats()["redis"]["errors"] == 3


async def test_share_later_stores_here_now_and_in_the_shared_tiers_in_the_background(
    three_tiers: tuple[MemoryTier, DiskTier, RedisTier], make_entry: EntryFactory
) -> None:
    memory, disk, redis_tier = three_tiers
    cache = TieredCache(three_tiers)
    entry = make_entry(b"an original" * 1000)
    await cache.put("k", entry, ["asset:a"], share_later=True)
    # Nothing awaited since: the disk and Redis writes are still running, and this process answers.
    assert cache.later_bytes == len(entry.body)
    assert memory.peek("k") == entry
    await cache.drain()
    assert cache.later_bytes == 0
    assert await disk.get("k") == entry and await redis_tier.get("k") == entry


async def test_share_later_waits_past_its_byte_bound(tmp_path: Path, make_entry: EntryFactory) -> None:
    disk = DiskTier(tmp_path, 1 << 20)
    cache = TieredCache([MemoryTier(1 << 20), disk], max_later_bytes=1500)
    first, second = make_entry(b"x" * 1000), make_entry(b"y" * 600)
    await cache.put("first", first, ["asset:a"], share_later=True)
    await cache.put("second", second, ["asset:a"], share_later=True)  # 1600 bytes would pass the bound
    # The second was written before its put returned (the first may have finished meanwhile).
    assert cache.later_bytes in (0, 1000)
    assert await disk.get("second") == second
    await cache.aclose()  # closing waits for the write still running
    assert await DiskTier(tmp_path, 1 << 20).get("first") == first


async def test_share_later_without_a_process_tier_writes_at_once(
    tmp_path: Path, make_entry: EntryFactory
) -> None:
    disk = DiskTier(tmp_path, 1 << 20)
    cache = TieredCache([disk])
    entry = make_entry()
    await cache.put("k", entry, ["asset:a"], share_later=True)
    assert cache.later_bytes == 0
    assert await disk.get("k") == entry


async def test_share_on_reuse_writes_the_shared_tiers_on_the_second_use_only(
    tmp_path: Path, make_entry: EntryFactory
) -> None:
    memory, disk = MemoryTier(1 << 20), DiskTier(tmp_path, 1 << 20)
    cache = TieredCache([memory, disk])
    viewed_once, viewed_twice = make_entry(b"one view" * 100), make_entry(b"two views" * 100)
    await cache.put("once", viewed_once, ["asset:a"], share_on_reuse=True)
    await cache.put("twice", viewed_twice, ["asset:a"], share_on_reuse=True)
    assert cache.later_bytes == 0 and memory.holds("once") and memory.holds("twice")
    assert await cache.get("twice") == (viewed_twice, "memory")  # its second use
    assert cache.later_bytes == len(viewed_twice.body)
    await cache.drain()
    assert await disk.get("twice") == viewed_twice and await disk.get("once") is None
    assert await cache.get("twice") == (viewed_twice, "memory")
    assert cache.later_bytes == 0  # shared once, not on every use


async def test_share_on_reuse_counts_a_second_put_and_entries_too_large_to_keep_here(
    tmp_path: Path, make_entry: EntryFactory
) -> None:
    memory, disk = MemoryTier(1000), DiskTier(tmp_path, 1 << 20)
    cache = TieredCache([memory, disk])
    entry = make_entry(b"x" * 100)
    await cache.put("k", entry, ["asset:a"], share_on_reuse=True)
    memory.clear()  # evicted before it was used again: the fetch that follows is its second use
    await cache.put("k", entry, ["asset:a"], share_on_reuse=True)
    large = make_entry(b"y" * 2000)  # larger than the memory tier: shared at once, or never kept at all
    await cache.put("large", large, ["asset:a"], share_on_reuse=True)
    await cache.drain()
    assert await disk.get("k") == entry and await disk.get("large") == large


async def test_share_on_reuse_forgets_its_oldest_keys_and_skips_what_another_process_shared(
    tmp_path: Path, make_entry: EntryFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tiered, "MAX_UNSHARED_KEYS", 2)
    memory, disk = MemoryTier(1 << 20), DiskTier(tmp_path, 1 << 20)
    cache = TieredCache([memory, disk])
    entries = {key: make_entry(key.encode() * 100) for key in ("first", "second", "third")}
    for key, entry in entries.items():
        await cache.put(key, entry, ["asset:a"], share_on_reuse=True)
    for key in entries:
        await cache.get(key)
    await cache.drain()
    assert [await disk.get(key) is not None for key in entries] == [False, True, True]
    await cache.put("elsewhere", make_entry(b"z" * 100), ["asset:a"], share_on_reuse=True)
    memory.clear()
    await disk.put("elsewhere", entries["first"], ["asset:a"])  # another process's second use
    assert (await cache.get("elsewhere"))[1] == "disk"
    assert cache.later_bytes == 0  # not written again


async def test_a_purge_before_the_background_write_keeps_it_out(
    tmp_path: Path, make_entry: EntryFactory
) -> None:
    disk = DiskTier(tmp_path, 1 << 20)
    cache = TieredCache([MemoryTier(1 << 20), disk])
    await cache.put("k", make_entry(created_at=time.time() - 1), ["asset:a"], share_later=True)
    cache.forget("asset:a", time.time())  # another process's purge, heard before the write began
    await cache.drain()
    assert await disk.get("k") is None
    assert await cache.get("k") == (None, None)


def test_tier_names_must_be_unique() -> None:
    with pytest.raises(ValueError, match="unique"):
        TieredCache([MemoryTier(1), MemoryTier(1)])


class _DictTier:
    """A tier the tiered cache has never heard of: only its declarations tell it how to treat it."""

    def __init__(self, name: str, scope: Scope, promotable: bool = True) -> None:
        self.name, self.scope, self.promotable = name, scope, promotable
        self.entries: dict[str, Entry] = {}

    async def get(self, key: str) -> Entry | None:
        return self.entries.get(key)

    async def put(self, key: str, entry: Entry, tags: Sequence[str]) -> None:
        self.entries[key] = entry

    async def purge(self, tag: str) -> int:
        doomed = [k for k, e in self.entries.items() if tag in e.tags]
        for key in doomed:
            del self.entries[key]
        return len(doomed)

    def stats(self) -> dict[str, int]:
        return {"entries": len(self.entries)}


async def test_tiers_are_treated_by_what_they_declare(make_entry: EntryFactory) -> None:
    shared = _DictTier("shared", "cluster")
    host = _DictTier("host", "host", promotable=False)
    cache = TieredCache([host, shared])
    entry = make_entry(tags=("asset:a",))
    shared.entries["k"] = entry
    assert await cache.get("k") == (entry, "shared")
    assert "k" not in host.entries  # declared not promotable
    assert cache.get_local("k") is None  # no process-scope tier: the hit path must not await
    host.entries["k"] = entry
    assert await cache.purge_unshared("asset:a", time.time()) == 1
    assert "k" in shared.entries and "k" not in host.entries  # the other host already purged the shared tier

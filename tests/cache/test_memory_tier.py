from __future__ import annotations

from collections.abc import Callable

from imgedge.cache.entry import Entry, entry_size
from imgedge.cache.memory import MemoryTier

EntryFactory = Callable[..., Entry]


async def test_bounded_by_total_bytes_not_count(make_entry: EntryFactory) -> None:
    entry = make_entry(b"x" * 3000)
    tier = MemoryTier(max_bytes=3 * entry_size(entry) + 10)
    for i in range(10):
        await tier.put(f"k{i}", entry, ["asset:a"])
    stats = tier.stats()
    assert stats["entries"] == 3
    assert stats["stored_bytes"] <= 3 * entry_size(entry) + 10
    assert stats["evictions"] == 7
    small = make_entry(b"x")
    for i in range(20):
        await tier.put(f"s{i}", small, ["asset:b"])
    assert tier.stats()["entries"] > 3


async def test_evicts_least_recently_used(make_entry: EntryFactory) -> None:
    entry = make_entry(b"x" * 1000)
    tier = MemoryTier(max_bytes=3 * entry_size(entry))
    for key in ("a", "b", "c"):
        await tier.put(key, entry, [])
    assert await tier.get("a") is not None
    await tier.put("d", entry, [])
    assert await tier.get("b") is None
    for key in ("a", "c", "d"):
        assert await tier.get(key) is not None


async def test_entry_larger_than_tier_is_not_stored_and_evicts_nothing(make_entry: EntryFactory) -> None:
    tier = MemoryTier(max_bytes=10_000)
    await tier.put("small", make_entry(b"x" * 100), [])
    await tier.put("huge", make_entry(b"x" * 20_000), [])
    assert await tier.get("huge") is None
    assert await tier.get("small") is not None


async def test_counts_hits_and_misses(make_entry: EntryFactory) -> None:
    tier = MemoryTier(max_bytes=1 << 20)
    await tier.put("k", make_entry(), [])
    await tier.get("k")
    await tier.get("k")
    await tier.get("nope")
    assert tier.stats()["hits"] == 2
    assert tier.stats()["misses"] == 1


async def test_purge_by_tag(make_entry: EntryFactory) -> None:
    tier = MemoryTier(max_bytes=1 << 20)
    await tier.put("a1", make_entry(tags=("asset:a",)), ["asset:a"])
    await tier.put("a2", make_entry(tags=("asset:a",)), ["asset:a"])
    await tier.put("b1", make_entry(tags=("asset:b",)), ["asset:b"])
    assert await tier.purge("asset:a") == 2
    assert await tier.get("a1") is None and await tier.get("a2") is None
    assert await tier.get("b1") is not None
    assert await tier.purge("asset:a") == 0


async def test_overwrite_moves_tags(make_entry: EntryFactory) -> None:
    tier = MemoryTier(max_bytes=1 << 20)
    await tier.put("k", make_entry(), ["asset:a"])
    await tier.put("k", make_entry(), ["asset:b"])
    assert await tier.purge("asset:a") == 0
    assert await tier.purge("asset:b") == 1


async def test_evicted_keys_leave_the_tag_index(make_entry: EntryFactory) -> None:
    entry = make_entry(b"x" * 1000)
    tier = MemoryTier(max_bytes=entry_size(entry))
    await tier.put("a", entry, ["asset:a"])
    await tier.put("b", entry, ["asset:b"])
    assert await tier.purge("asset:a") == 0
    assert await tier.purge("asset:b") == 1

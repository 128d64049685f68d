from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from imgedge.cache.disk import DiskTier
from imgedge.cache.entry import Entry, encode_entry
from imgedge.cache.tag_lists import TagListBusy, TagLists

EntryFactory = Callable[..., Entry]
SpawnWorker = Callable[..., Awaitable[asyncio.subprocess.Process]]


def hash_of(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def object_path(root: Path, key: str) -> Path:
    digest = hash_of(key)
    return root / "objects" / digest[:2] / digest


async def test_round_trip_and_no_temporary_files_left(tmp_path: Path, make_entry: EntryFactory) -> None:
    tier = DiskTier(tmp_path, 1 << 20)
    entry = make_entry(b"payload")
    await tier.put("k", entry, ["asset:a"])
    assert await tier.get("k") == entry
    assert await tier.get("other") is None
    assert list((tmp_path / "tmp").iterdir()) == []
    assert object_path(tmp_path, "k").read_bytes() == encode_entry(entry)
    assert tier.stats()["hits"] == 1 and tier.stats()["misses"] == 1


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: data[:-1], id="last-byte-missing"),
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: data[:40] + bytes([data[40] ^ 0xFF]) + data[41:], id="flipped-byte"),
        pytest.param(lambda data: data + b"trailing", id="trailing-bytes"),
    ],
)
async def test_damaged_file_is_deleted_and_never_served(
    tmp_path: Path,
    make_entry: EntryFactory,
    damage: Callable[[bytes], bytes],
    caplog: pytest.LogCaptureFixture,
) -> None:
    tier = DiskTier(tmp_path, 1 << 20)
    await tier.put("k", make_entry(b"y" * 500), ["asset:a"])
    path = object_path(tmp_path, "k")
    path.write_bytes(damage(path.read_bytes()))
    with caplog.at_level(logging.WARNING, logger="imgedge.cache.disk"):
        assert await tier.get("k") is None
    assert not path.exists()
    assert tier.stats()["corrupt"] == 1
    assert "corrupt" in caplog.text


async def test_survives_restart(tmp_path: Path, make_entry: EntryFactory) -> None:
    entry = make_entry(b"kept")
    first = DiskTier(tmp_path, 1 << 20)
    await first.put("k", entry, ["asset:a"])
    del first
    second = DiskTier(tmp_path, 1 << 20)
    assert await second.get("k") == entry
    await second.enforce_limit()
    assert second.stats()["entries"] == 1
    assert second.stats()["stored_bytes"] == len(encode_entry(entry))
    assert await second.purge("asset:a") == 1
    assert await second.get("k") is None


async def test_evicts_least_recently_accessed_by_total_bytes(
    tmp_path: Path, make_entry: EntryFactory
) -> None:
    entry = make_entry(b"z" * 1000)
    size = len(encode_entry(entry))
    tier = DiskTier(tmp_path, max_bytes=size * 9 // 2, touch_interval_s=0)
    now = time.time()
    for age, key in zip((400, 300, 200, 100), ("k1", "k2", "k3", "k4"), strict=True):
        await tier.put(key, entry, ["asset:a"])
        os.utime(object_path(tmp_path, key), (now - age, now - age))
    assert await tier.get("k1") is not None  # a read makes k1 the most recently used
    await tier.put("k5", entry, ["asset:a"])
    assert not object_path(tmp_path, "k2").exists()
    for key in ("k1", "k3", "k4", "k5"):
        assert object_path(tmp_path, key).exists(), key
    stats = tier.stats()
    assert stats["evictions"] == 1
    assert stats["stored_bytes"] <= size * 9 // 2
    # The evicted key has left its tag's list too, so the list does not grow with what eviction removed.
    tag_hash = hash_of("asset:a")
    listed = (tmp_path / "tag-lists" / tag_hash[:2] / tag_hash).read_text().split()
    assert sorted(listed) == sorted(hash_of(k) for k in ("k1", "k3", "k4", "k5"))
    assert await tier.purge("asset:a") == 4


async def test_purge_removes_only_tagged_entries(tmp_path: Path, make_entry: EntryFactory) -> None:
    tier = DiskTier(tmp_path, 1 << 20)
    await tier.put("a1", make_entry(tags=("asset:a",)), ["asset:a"])
    await tier.put("a2", make_entry(tags=("asset:a", "x")), ["asset:a", "x"])
    await tier.put("b1", make_entry(tags=("asset:b",)), ["asset:b"])
    assert await tier.purge("asset:a") == 2
    assert await tier.get("a1") is None and await tier.get("a2") is None
    assert await tier.get("b1") is not None
    assert await tier.purge("asset:a") == 0
    assert await tier.purge("x") == 0


async def test_unwritable_directory_is_logged_and_counted_not_raised(
    tmp_path: Path, make_entry: EntryFactory, caplog: pytest.LogCaptureFixture
) -> None:
    in_the_way = tmp_path / "cache"
    in_the_way.write_text("a file where the cache directory should be")
    tier = DiskTier(in_the_way, 1 << 20)
    with caplog.at_level(logging.WARNING, logger="imgedge.cache.disk"):
        await tier.put("k", make_entry(), ["asset:a"])
        assert await tier.get("k") is None
        assert await tier.purge("asset:a") == 0
    assert tier.stats()["errors"] >= 1
    assert "disk cache write failed" in caplog.text


async def test_full_disk_is_logged_and_counted_not_raised(tmp_path: Path, spawn_worker: SpawnWorker) -> None:
    proc = await spawn_worker("fsize", str(tmp_path))
    out, _ = await proc.communicate()
    assert proc.returncode == 0
    report = json.loads(out)
    assert report["raised"] is None
    assert report["big"] is False  # refused by the file-size limit: counted, not served, not raised
    assert report["small"] is True  # the tier keeps working for what still fits
    assert report["errors"] == 1
    assert report["tmp_files"] == []


async def test_a_tag_is_one_list_file_not_a_file_per_entry(tmp_path: Path, make_entry: EntryFactory) -> None:
    # Each file created costs an inode; on this host's journal-less ext4, up to a millisecond of CPU.
    tier = DiskTier(tmp_path, 1 << 20)
    for key in ("a1", "a2", "a3"):
        await tier.put(key, make_entry(tags=("asset:a",)), ["asset:a"])
    lists = [p for p in (tmp_path / "tag-lists").rglob("*") if p.is_file()]
    assert len(lists) == 1
    assert lists[0].read_text().split() == [hash_of(k) for k in ("a1", "a2", "a3")]
    assert await tier.purge("asset:a") == 3
    assert [p for p in (tmp_path / "tag-lists").rglob("*") if p.is_file()] == []


async def test_markers_of_an_older_version_are_still_purged(tmp_path: Path, make_entry: EntryFactory) -> None:
    tier = DiskTier(tmp_path, 1 << 20)
    await tier.put("new", make_entry(tags=("asset:a",)), ["asset:a"])
    await tier.put("old", make_entry(tags=("asset:a",)), [])  # as if listed by an empty marker file
    tag_hash = hash_of("asset:a")
    legacy = tmp_path / "tags" / tag_hash[:2] / tag_hash
    legacy.mkdir(parents=True)
    (legacy / hash_of("old")).touch()
    assert await tier.purge("asset:a") == 2
    assert await tier.get("old") is None and await tier.get("new") is None
    assert not legacy.exists()


async def test_an_eviction_finishes_when_a_tag_list_keeps_changing(
    tmp_path: Path, make_entry: EntryFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def busy(self: TagLists, tag_hash: str, keep: Callable[[str], bool]) -> None:
        raise TagListBusy("replaced under each attempt")

    monkeypatch.setattr(TagLists, "compact", busy)
    entry = make_entry(b"z" * 1000)
    size = len(encode_entry(entry))
    tier = DiskTier(tmp_path, max_bytes=size * 5 // 2)
    for key in ("k1", "k2", "k3"):
        await tier.put(key, entry, ["asset:a"])
    stats = tier.stats()
    assert stats["errors"] == 0 and stats["evictions"] >= 1
    assert stats["stored_bytes"] <= size * 5 // 2


async def test_temporary_files_left_by_a_crash_are_swept_once_stale(
    tmp_path: Path, make_entry: EntryFactory
) -> None:
    tier = DiskTier(tmp_path, 1 << 20)
    await tier.put("k", make_entry(tags=("asset:a",)), ["asset:a"])
    tag_hash = hash_of("asset:a")
    an_hour_ago = time.time() - 3700
    left = {
        "write": tmp_path / "tmp" / "0123abcd.crashed",
        "write still running": tmp_path / "tmp" / "4567cdef.running",
        "compaction": tmp_path / "tag-lists" / tag_hash[:2] / ".tmp-crashed",
        "compaction still running": tmp_path / "tag-lists" / tag_hash[:2] / ".tmp-running",
    }
    for path in left.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"partial")
    for name in ("write", "compaction"):
        os.utime(left[name], (an_hour_ago, an_hour_ago))
    await tier.enforce_limit()
    running = {"write still running", "compaction still running"}
    assert {name for name, path in left.items() if path.exists()} == running
    assert await tier.get("k") is not None
    assert (tmp_path / "tag-lists" / tag_hash[:2] / tag_hash).exists()

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from imgedge.cache.build import build_purge_broadcaster, build_result_cache, build_source_cache
from imgedge.cache.config import CacheConfig
from imgedge.cache.entry import Entry
from imgedge.cache.memory import MemoryTier

EntryFactory = Callable[..., Entry]


async def test_default_result_and_source_caches(tmp_path: Path, make_entry: EntryFactory) -> None:
    cfg = CacheConfig.from_env(tmp_path, {})
    results, sources = build_result_cache(cfg), build_source_cache(cfg)
    assert [t.name for t in results.tiers] == ["memory", "disk"]
    assert [t.name for t in sources.tiers] == ["memory", "disk"]
    await results.put("v1/var/a/1", make_entry(b"variant"), ["asset:a"])
    await sources.put("v1/src/a/original", make_entry(b"original"), ["asset:a"])
    assert any((tmp_path / "cache" / "results").rglob("objects/*/*"))
    assert any((tmp_path / "cache" / "sources").rglob("objects/*/*"))

    broadcaster = build_purge_broadcaster(cfg, [results, sources])
    await broadcaster.start()
    try:
        assert broadcaster.mode == "disk-log"
        assert await broadcaster.purge("asset:a") == 4
    finally:
        await broadcaster.stop()


async def test_redis_tier_only_when_configured(tmp_path: Path, redis_url: str) -> None:
    cfg = CacheConfig.from_env(
        tmp_path, {"IMGEDGE_CACHE_REDIS_URL": redis_url, "IMGEDGE_CACHE_DISK_DIR": "off"}
    )
    results = build_result_cache(cfg)
    try:
        assert [t.name for t in results.tiers] == ["memory", "redis"]
        assert [t.name for t in build_source_cache(cfg).tiers] == ["memory"]
        assert build_purge_broadcaster(cfg, [results]).mode == "redis"
    finally:
        await results.aclose()


def test_zero_sizes_leave_tiers_out(tmp_path: Path) -> None:
    cfg = CacheConfig.from_env(tmp_path, {"IMGEDGE_CACHE_MEMORY_BYTES": "0", "IMGEDGE_CACHE_DISK_BYTES": "0"})
    assert build_result_cache(cfg).tiers == ()


def test_memory_budgets_are_per_host_and_shared_out_among_the_workers(tmp_path: Path) -> None:
    environ = {"IMGEDGE_CACHE_MEMORY_BYTES": "128MiB", "IMGEDGE_CACHE_SOURCE_MEMORY_BYTES": "256MiB"}
    one = CacheConfig.from_env(tmp_path, environ)
    four = CacheConfig.from_env(tmp_path, {**environ, "IMGEDGE_WORKERS": "4"})
    assert one.workers == 1 and four.workers == 4
    for cfg, share in ((one, 1), (four, 4)):
        results, sources = build_result_cache(cfg).tiers[0], build_source_cache(cfg).tiers[0]
        assert isinstance(results, MemoryTier) and isinstance(sources, MemoryTier)
        assert results.max_bytes == (128 << 20) // share
        assert sources.max_bytes == (256 << 20) // share

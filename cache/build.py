"""Assemble caches and the purge broadcaster from configuration (a tier of size 0 is left out)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeAlias

from imgedge.cache.broadcast import PurgeBroadcaster
from imgedge.cache.cdn_purge import CdnPurger
from imgedge.cache.config import CacheConfig
from imgedge.cache.disk import DiskTier
from imgedge.cache.entry import Entry
from imgedge.cache.memory import MemoryTier
from imgedge.cache.singleflight import SingleFlight
from imgedge.cache.tier import CacheTier
from imgedge.cache.tiered import TieredCache

# The Redis modules are imported where a Redis URL is configured: redis-py is 4.3 MiB in every process.
if TYPE_CHECKING:
    from imgedge.cache.distributed_flight import DistributedSingleFlight


def build_result_cache(cfg: CacheConfig) -> TieredCache:
    tiers: list[CacheTier] = []
    if cfg.memory_bytes > 0:
        tiers.append(MemoryTier(cfg.per_process(cfg.memory_bytes)))
    if cfg.result_dir is not None and cfg.disk_bytes > 0:
        tiers.append(DiskTier(cfg.result_dir, cfg.disk_bytes))
    if cfg.redis_url is not None:
        from imgedge.cache.redis_tier import RedisTier

        tiers.append(RedisTier(cfg.redis_url, cfg.redis_max_entry_bytes, cfg.redis_ttl_s))
    return TieredCache(tiers)


def build_source_cache(cfg: CacheConfig) -> TieredCache:
    # Originals already live in the generator's store, one hop away; sharing them through Redis would
    # mostly move megabytes around, so the source cache stays on this machine.
    tiers: list[CacheTier] = []
    if cfg.source_memory_bytes > 0:
        tiers.append(MemoryTier(cfg.per_process(cfg.source_memory_bytes)))
    if cfg.source_cache_dir is not None and cfg.source_disk_bytes > 0:
        tiers.append(DiskTier(cfg.source_cache_dir, cfg.source_disk_bytes))
    return TieredCache(tiers)


def build_purge_broadcaster(cfg: CacheConfig, caches: Sequence[TieredCache]) -> PurgeBroadcaster:
    return PurgeBroadcaster(
        caches,
        redis_url=cfg.redis_url,
        log_path=cfg.purge_log_path,
        ack_timeout_s=cfg.purge_ack_timeout_s,
        cdn=CdnPurger(cfg.cdn_purge_urls) if cfg.cdn_purge_urls else None,
    )


Flights: TypeAlias = "SingleFlight | DistributedSingleFlight[Entry]"


def build_single_flight(cfg: CacheConfig, results: TieredCache) -> Flights:
    """Across instances when they share a Redis tier (where the leader's result lands), else per process."""
    if cfg.redis_url is None:
        return SingleFlight()
    from imgedge.cache.distributed_flight import DistributedSingleFlight

    async def lookup(key: str) -> Entry | None:
        entry, _ = await results.get(key)
        return entry

    return DistributedSingleFlight(cfg.redis_url, lookup)

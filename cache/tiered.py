"""Fastest-first composition of tiers that promotes hits and refuses entries older than a purge."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace

from imgedge.cache.entry import Entry
from imgedge.cache.tier import CacheTier, Closable, ProcessTier, is_process_tier

logger = logging.getLogger(__name__)

# Purge times are only needed while an entry made before the purge may still be in flight somewhere;
# the oldest ones can be forgotten.
_MAX_REMEMBERED_PURGES = 65536


class TieredCache:
    def __init__(self, tiers: Sequence[CacheTier]) -> None:
        names = [tier.name for tier in tiers]
        if len(set(names)) != len(names):
            raise ValueError(f"tier names must be unique, got {names}")
        self.tiers: tuple[CacheTier, ...] = tuple(tiers)
        self._process_tiers: tuple[ProcessTier, ...] = tuple(t for t in tiers if is_process_tier(t))
        first = self.tiers[0] if self.tiers else None
        self._local: ProcessTier | None = first if first is not None and is_process_tier(first) else None
        self._purged_at: OrderedDict[str, float] = OrderedDict()
        self._lookup_hooks: list[Callable[[], None]] = []
        self.stale_rejected = 0

    async def get(self, key: str) -> tuple[Entry | None, str | None]:
        self._run_hooks()
        for index, tier in enumerate(self.tiers):
            entry = await self._tier_get(tier, key)
            if entry is None:
                continue
            if self._predates_purge(entry):
                self.stale_rejected += 1
                continue
            for faster in self.tiers[:index]:
                if faster.promotable:
                    await self._tier_put(faster, key, entry, entry.tags)
            return entry, tier.name
        return None, None

    def get_local(self, key: str) -> Entry | None:
        """The fastest tier only, without awaiting: for a hit path that must not pay for a miss."""
        self._run_hooks()
        if self._local is None:
            return None
        entry = self._local.peek(key)
        if entry is None or self._predates_purge(entry):
            return None
        return entry

    async def put(self, key: str, entry: Entry, tags: Sequence[str]) -> None:
        self._run_hooks()
        all_tags = tuple(dict.fromkeys((*entry.tags, *tags)))
        if all_tags != entry.tags:
            # The entry carries its tags so that promotion and purge checks see them in every tier.
            entry = replace(entry, tags=all_tags)
        if self._predates_purge(entry):
            # Made from state that an admin has purged since; storing it would undo the purge.
            self.stale_rejected += 1
            return
        await asyncio.gather(*(self._tier_put(tier, key, entry, all_tags) for tier in self.tiers))

    async def purge(self, tag: str) -> int:
        self._remember_purge(tag, time.time())
        counts = await asyncio.gather(*(self._tier_purge(tier, tag) for tier in self.tiers))
        return sum(counts)

    def forget(self, tag: str, purged_at: float) -> None:
        """Apply a purge made by another process that shares (or has already purged) the slower tiers."""
        self._remember_purge(tag, purged_at)
        for tier in self._process_tiers:
            tier.purge_now(tag)

    async def purge_unshared(self, tag: str, purged_at: float) -> int:
        """Apply another host's purge: every tier except the ones that host shares with us (Redis)."""
        self._remember_purge(tag, purged_at)
        local = [tier for tier in self.tiers if tier.scope != "cluster"]
        return sum(await asyncio.gather(*(self._tier_purge(tier, tag) for tier in local)))

    def clear_memory(self) -> None:
        """Drop process-local entries when purges may have been missed (lost subscription, rotated log)."""
        for tier in self._process_tiers:
            tier.clear()

    def add_lookup_hook(self, hook: Callable[[], None]) -> None:
        self._lookup_hooks.append(hook)

    def remove_lookup_hook(self, hook: Callable[[], None]) -> None:
        self._lookup_hooks.remove(hook)

    def stats(self) -> dict[str, dict[str, int]]:
        return {tier.name: tier.stats() for tier in self.tiers}

    async def aclose(self) -> None:
        for tier in self.tiers:
            if isinstance(tier, Closable):
                await tier.aclose()

    def _run_hooks(self) -> None:
        for hook in self._lookup_hooks:
            hook()

    def _remember_purge(self, tag: str, purged_at: float) -> None:
        previous = self._purged_at.pop(tag, -math.inf)
        self._purged_at[tag] = max(previous, purged_at)
        while len(self._purged_at) > _MAX_REMEMBERED_PURGES:
            self._purged_at.popitem(last=False)

    def _predates_purge(self, entry: Entry) -> bool:
        if not self._purged_at:
            return False  # the usual case, on every hit
        return any(entry.created_at < self._purged_at.get(tag, -math.inf) for tag in entry.tags)

    # Tiers report their own failures; these guards keep a buggy tier from failing a request that
    # origin can still answer.
    async def _tier_get(self, tier: CacheTier, key: str) -> Entry | None:
        try:
            return await tier.get(key)
        except Exception:
            logger.exception("cache tier %s failed on get", tier.name)
            return None

    async def _tier_put(self, tier: CacheTier, key: str, entry: Entry, tags: Sequence[str]) -> None:
        try:
            await tier.put(key, entry, tags)
        except Exception:
            logger.exception("cache tier %s failed on put", tier.name)

    async def _tier_purge(self, tier: CacheTier, tag: str) -> int:
        try:
            return await tier.purge(tag)
        except Exception:
            logger.exception("cache tier %s failed on purge", tier.name)
            return 0

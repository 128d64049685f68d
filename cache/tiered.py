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
# put(..., share_later=True) holds at most this many bytes in writes still running; past it, it waits.
DEFAULT_MAX_LATER_BYTES = 64 << 20
# put(..., share_on_reuse=True) remembers this many keys whose entries this process has not shared yet; past
# it, the oldest one's entry stays unshared (another process fetches it again, as it would have anyway).
MAX_UNSHARED_KEYS = 4096


class TieredCache:
    def __init__(self, tiers: Sequence[CacheTier], *, max_later_bytes: int = DEFAULT_MAX_LATER_BYTES) -> None:
        names = [tier.name for tier in tiers]
        if len(set(names)) != len(names):
            raise ValueError(f"tier names must be unique, got {names}")
        self.tiers: tuple[CacheTier, ...] = tuple(tiers)
        self._process_tiers: tuple[ProcessTier, ...] = tuple(t for t in tiers if is_process_tier(t))
        self._shared_tiers = tuple(t for t in tiers if not is_process_tier(t))
        first = self.tiers[0] if self.tiers else None
        self._local: ProcessTier | None = first if first is not None and is_process_tier(first) else None
        self._purged_at: OrderedDict[str, float] = OrderedDict()
        self._lookup_hooks: list[Callable[[], None]] = []
        self.stale_rejected = 0
        self.max_later_bytes = max_later_bytes
        self._later: set[asyncio.Task[None]] = set()
        self._later_bytes = 0
        self._unshared: OrderedDict[str, None] = OrderedDict()

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
            if self._unshared and key in self._unshared:
                del self._unshared[key]  # its second use: worth a place where other processes find it
                if is_process_tier(tier):  # else another process has shared it meanwhile
                    await self._share(key, entry, entry.tags)
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

    async def put(
        self, key: str, entry: Entry, tags: Sequence[str], *, share_later: bool = False,
        share_on_reuse: bool = False,
    ) -> None:  # fmt: skip
        """`share_later`: store in this process's tiers now and in the tiers other processes read (disk,
        Redis) in the background, for entries a process can make again without them (an original, one
        fetch away): the request that made it does not wait for a write of megabytes. `drain` waits for
        those writes; past `max_later_bytes` of them running, the put waits for its own.

        `share_on_reuse`: the same, but the shared tiers get the entry only on its second use in this
        process (a `get` that finds it here, or a second `put` of the key), as nginx's
        `proxy_cache_min_uses 2`: an original viewed once costs no disk write."""
        self._run_hooks()
        all_tags = tuple(dict.fromkeys((*entry.tags, *tags)))
        if all_tags != entry.tags:
            # The entry carries its tags so that promotion and purge checks see them in every tier.
            entry = replace(entry, tags=all_tags)
        if self._predates_purge(entry):
            # Made from state that an admin has purged since; storing it would undo the purge.
            self.stale_rejected += 1
            return
        # Without a tier of its own this process could not answer from the entry until the write is done.
        if not (share_later or share_on_reuse) or not self._process_tiers:
            await self._put_in(self.tiers, key, entry, all_tags)
            return
        await self._put_in(self._process_tiers, key, entry, all_tags)
        if share_on_reuse and key not in self._unshared and self._held_here(key):
            self._unshared[key] = None
            if len(self._unshared) > MAX_UNSHARED_KEYS:
                self._unshared.popitem(last=False)
            return
        self._unshared.pop(key, None)  # used before (and evicted since), or too large to keep here
        await self._share(key, entry, all_tags)

    def _held_here(self, key: str) -> bool:
        return any(tier.holds(key) for tier in self._process_tiers)

    async def _share(self, key: str, entry: Entry, tags: tuple[str, ...]) -> None:
        """Writes the entry to the shared tiers in the background (or now, past `max_later_bytes`)."""
        if not self._shared_tiers:
            return
        size = len(entry.body)
        if self._later_bytes + size > self.max_later_bytes:
            await self._put_in(self._shared_tiers, key, entry, tags)
            return
        self._later_bytes += size
        task = asyncio.create_task(self._put_later(self._shared_tiers, key, entry, tags, size))
        self._later.add(task)
        task.add_done_callback(self._later.discard)

    @property
    def later_bytes(self) -> int:
        """Bytes in background writes still running."""
        return self._later_bytes

    async def drain(self) -> None:
        """Wait for the background writes of `put(..., share_later=True)`."""
        while self._later:
            await asyncio.gather(*self._later)

    async def _put_in(
        self, tiers: Sequence[CacheTier], key: str, entry: Entry, tags: tuple[str, ...]
    ) -> None:
        await asyncio.gather(*(self._tier_put(tier, key, entry, tags) for tier in tiers))

    async def _put_later(
        self, tiers: Sequence[CacheTier], key: str, entry: Entry, tags: tuple[str, ...], size: int
    ) -> None:
        try:
            if self._predates_purge(entry):  # purged between the put and this write
                self.stale_rejected += 1
                return
            await self._put_in(tiers, key, entry, tags)
        finally:
            self._later_bytes -= size

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
        self._unshared.clear()

    def add_lookup_hook(self, hook: Callable[[], None]) -> None:
        self._lookup_hooks.append(hook)

    def remove_lookup_hook(self, hook: Callable[[], None]) -> None:
        self._lookup_hooks.remove(hook)

    def stats(self) -> dict[str, dict[str, int]]:
        return {tier.name: tier.stats() for tier in self.tiers}

    async def aclose(self) -> None:
        await self.drain()
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

"""Process-local LRU tier bounded by total bytes, not by entry count."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cachetools import LRUCache

from imgedge.cache.entry import Entry, entry_size
from imgedge.cache.tier import Scope, zero_stats


class _ByteLRU(LRUCache[str, Entry]):
    def __init__(self, max_bytes: int, on_evict: Callable[[str], None]) -> None:
        super().__init__(maxsize=max_bytes, getsizeof=entry_size)
        self._on_evict = on_evict

    def popitem(self) -> tuple[str, Entry]:
        # cachetools calls popitem only to make room, so every call here is an eviction.
        key, value = super().popitem()
        self._on_evict(key)
        return key, value


class MemoryTier:
    scope: Scope = "process"
    promotable = True

    def __init__(self, max_bytes: int, *, name: str = "memory") -> None:
        self.name = name
        self.max_bytes = max_bytes
        self._lru = _ByteLRU(max_bytes, self._evicted)
        self._keys_by_tag: dict[str, set[str]] = {}
        self._tags_by_key: dict[str, tuple[str, ...]] = {}
        self._counts = zero_stats()

    async def get(self, key: str) -> Entry | None:
        entry = self._lru.get(key)
        self._counts["hits" if entry is not None else "misses"] += 1
        return entry

    def peek(self, key: str) -> Entry | None:
        """A synchronous lookup that counts hits only: a miss here is looked up again through every tier."""
        entry = self._lru.get(key)
        if entry is not None:
            self._counts["hits"] += 1
        return entry

    def holds(self, key: str) -> bool:
        return key in self._lru

    async def put(self, key: str, entry: Entry, tags: Sequence[str]) -> None:
        self._unlink(key)
        try:
            self._lru[key] = entry
        except ValueError:
            # Larger than the whole tier: caching it would only flush everything else.
            self._lru.pop(key, None)
            return
        self._tags_by_key[key] = tuple(tags)
        for tag in tags:
            self._keys_by_tag.setdefault(tag, set()).add(key)

    async def purge(self, tag: str) -> int:
        return self.purge_now(tag)

    def purge_now(self, tag: str) -> int:
        removed = 0
        for key in self._keys_by_tag.pop(tag, set()):
            if self._lru.pop(key, None) is not None:
                removed += 1
            self._unlink(key)
        return removed

    def clear(self) -> None:
        self._lru.clear()
        self._keys_by_tag.clear()
        self._tags_by_key.clear()

    def stats(self) -> dict[str, int]:
        return {
            **self._counts, "stored_bytes": int(self._lru.currsize), "entries": len(self._lru),
            "max_bytes": self.max_bytes,
        }  # fmt: skip

    def _evicted(self, key: str) -> None:
        self._counts["evictions"] += 1
        self._unlink(key)

    def _unlink(self, key: str) -> None:
        for tag in self._tags_by_key.pop(key, ()):
            keys = self._keys_by_tag.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._keys_by_tag[tag]

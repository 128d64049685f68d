"""What every cache tier offers; the tiered cache composes any number of them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from imgedge.cache.entry import Entry

STAT_NAMES = ("hits", "misses", "evictions", "stored_bytes", "entries", "errors")


class CacheTier(Protocol):
    name: str

    async def get(self, key: str) -> Entry | None: ...

    async def put(self, key: str, entry: Entry, tags: Sequence[str]) -> None: ...

    async def purge(self, tag: str) -> int: ...

    def stats(self) -> dict[str, int]: ...


@runtime_checkable
class Closable(Protocol):
    async def aclose(self) -> None: ...


def zero_stats() -> dict[str, int]:
    return dict.fromkeys(STAT_NAMES, 0)

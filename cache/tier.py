"""What every cache tier offers; the tiered cache composes any number of them by what they declare.

A tier says who else sees its entries (`scope`) and whether hits found in slower tiers are copied into
it (`promotable`); the tiered cache reads those, never the tier's class. See docs/architecture.md for
adding a tier.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol, TypeGuard, runtime_checkable

from imgedge.cache.entry import Entry

STAT_NAMES = ("hits", "misses", "evictions", "stored_bytes", "entries", "errors")

# process: this process only (memory); host: processes sharing a directory (disk);
# cluster: every proxy instance (Redis).
Scope = Literal["process", "host", "cluster"]


class CacheTier(Protocol):
    name: str
    scope: Scope
    promotable: bool

    async def get(self, key: str) -> Entry | None: ...

    async def put(self, key: str, entry: Entry, tags: Sequence[str]) -> None: ...

    async def purge(self, tag: str) -> int: ...

    def stats(self) -> dict[str, int]: ...


class ProcessTier(CacheTier, Protocol):
    """A tier of scope "process" also answers without awaiting, which the hit path relies on."""

    def peek(self, key: str) -> Entry | None: ...

    def holds(self, key: str) -> bool: ...  # neither counted nor promoting

    def purge_now(self, tag: str) -> int: ...

    def clear(self) -> None: ...


def is_process_tier(tier: CacheTier) -> TypeGuard[ProcessTier]:
    return tier.scope == "process"


@runtime_checkable
class Closable(Protocol):
    async def aclose(self) -> None: ...


def zero_stats() -> dict[str, int]:
    return dict.fromkeys(STAT_NAMES, 0)

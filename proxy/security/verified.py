"""Requests that passed verification (signature and output limits), memoised per process by the path and query
they arrived with, LRU bounded in bytes. A request that failed is never kept, so a flood of bad URLs leaves
nothing behind; URLs longer than `max_key_bytes` are verified every time rather than kept."""

from __future__ import annotations

from collections import OrderedDict

from imgedge.proxy.dialects.base import ParsedRequest

_ENTRY_OVERHEAD = 600  # the frozen spec, source and credential objects, measured with tracemalloc


class VerifiedRequests:
    def __init__(self, max_bytes: int = 8 << 20, max_key_bytes: int = 2048) -> None:
        self.max_bytes = max_bytes
        self.max_key_bytes = max_key_bytes
        self.stored_bytes = 0
        self._entries: OrderedDict[str, tuple[ParsedRequest, int]] = OrderedDict()

    def get(self, path: str, query: str) -> ParsedRequest | None:
        key = f"{path}?{query}" if query else path
        found = self._entries.get(key)
        if found is None:
            return None
        self._entries.move_to_end(key)
        return found[0]

    def put(self, path: str, query: str, parsed: ParsedRequest) -> None:
        key = f"{path}?{query}" if query else path
        if len(key) > self.max_key_bytes or key in self._entries:
            return
        size = (
            2 * len(key) + len(parsed.credential.message) + len(parsed.credential.signature) + _ENTRY_OVERHEAD
        )
        self._entries[key] = (parsed, size)
        self.stored_bytes += size
        while self.stored_bytes > self.max_bytes and self._entries:
            _, (_, evicted) = self._entries.popitem(last=False)
            self.stored_bytes -= evicted

    def __len__(self) -> int:
        return len(self._entries)

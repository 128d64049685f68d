"""Hits while misses saturate the transform pool: two load clients at once against the same proxy.

One client walks unique uncached variants with enough connections to keep every transform thread of every
worker busy; the other requests variants that are already cached. Each reports its own latency, so the hit
latency is measured apart from the misses', which one client mixing both could not tell apart.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.load_types import LoadResult


@dataclass(frozen=True, slots=True)
class SaturatedResult:
    hits: LoadResult
    misses: LoadResult


def run(hits: Callable[[], LoadResult], misses: Callable[[], LoadResult]) -> SaturatedResult:
    found: dict[str, LoadResult] = {}
    failures: list[BaseException] = []

    def collect(name: str, load: Callable[[], LoadResult]) -> None:
        try:
            found[name] = load()
        except BaseException as exc:  # re-raised below, on the caller's thread
            failures.append(exc)

    threads = [
        threading.Thread(target=collect, args=("misses", misses)),
        threading.Thread(target=collect, args=("hits", hits)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return SaturatedResult(hits=found["hits"], misses=found["misses"])

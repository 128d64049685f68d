"""The table `imgedge serve`'s proxy workers take turns at new connections by (`imgedge.web.balanced_accept`).

A memfd that `imgedge serve` makes and each worker inherits and maps: per worker, an int64 count of the
connections it holds and the CLOCK_MONOTONIC time its event loop last ran. Each worker writes only its own
slot; reads of the others' may be a moment old, which only makes a turn less fair.
"""

from __future__ import annotations

import mmap
import os
import time

STALE_S = 0.5  # a worker whose loop has not run for this long is left out of the comparison
SLACK = 8
MAX_WORKERS = 256  # IMGEDGE_WORKERS' own limit
_SLOT_BYTES = 16


def create_table(workers: int) -> int:
    """A table for `workers` workers, all counts zero: its descriptor, for the workers to inherit."""
    fd = os.memfd_create("imgedge-connections")
    os.ftruncate(fd, workers * _SLOT_BYTES)
    return fd


class ConnectionTable:
    """One worker's view of the table: its own slot to write, the others' to compare with."""

    def __init__(self, fd: int, index: int) -> None:
        size = os.fstat(fd).st_size
        workers = size // _SLOT_BYTES
        if not 0 < workers <= MAX_WORKERS or size % _SLOT_BYTES:
            raise ValueError(f"descriptor {fd} is not a connection table ({size} bytes)")
        if not 0 <= index < workers:
            raise ValueError(f"worker index {index} is outside the table's {workers} slots")
        self._map = mmap.mmap(fd, size)
        view = memoryview(self._map)
        # Aligned 8-byte loads and stores are single instructions on the hosts served: no torn values.
        self._counts = view[: workers * 8].cast("q")
        self._times = view[workers * 8 :].cast("d")
        self._index = index
        self._others = [other for other in range(workers) if other != index]
        self._counts[index] = 0  # a replacement does not inherit the count its predecessor left
        self.tick()

    def tick(self) -> None:
        self._times[self._index] = time.monotonic()

    def leave(self) -> None:
        self._times[self._index] = 0.0

    def opened(self) -> None:
        self._counts[self._index] += 1

    def closed(self) -> None:
        self._counts[self._index] -= 1

    def crowded(self) -> bool:
        """Whether another live worker holds fewer connections than this one: any fewer while this one holds
        under 8, more than an eighth fewer from 8 on, so a worker may take a big burst a few at a time."""
        mine = self._counts[self._index]
        fewer = mine - mine // SLACK
        live_since = time.monotonic() - STALE_S
        return any(self._counts[o] < fewer and self._times[o] > live_since for o in self._others)

    def close(self) -> None:
        self._counts.release()
        self._times.release()
        self._map.close()

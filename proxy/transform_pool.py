"""The bounded pool libvips work runs on: its own threads, at a lower CPU priority than the event loop.

Cache hits are answered on the event loop and never touch libvips. When misses keep every core busy, the
kernel still has to choose between the event loop and the transform threads; lowering the threads'
priority (a per-thread nice value on Linux, inherited by the threads libvips and its encoders start from
them) lets a hit run as soon as it arrives instead of waiting for a time slice (benchmarks/results/
profile.md, "Hits under saturated misses"). Only libvips work comes here, so no other thread (disk-tier
reads for hits, for instance) ever runs at the lower priority.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from imgedge.proxy.errors import Overloaded
from imgedge.proxy.metrics import QUEUE_DEPTH
from imgedge.proxy.pipeline.deadline import Deadline, within

T = TypeVar("T")
_MAX_NICE = 19


def lower_priority(nice: int) -> None:
    """Raise the calling thread's nice value by `nice` (Linux: per thread). Best effort elsewhere."""
    if nice <= 0 or not hasattr(os, "setpriority"):
        return
    thread_id = threading.get_native_id()
    with contextlib.suppress(OSError):
        current = os.getpriority(os.PRIO_PROCESS, thread_id)
        os.setpriority(os.PRIO_PROCESS, thread_id, min(_MAX_NICE, current + nice))


class TransformPool:
    def __init__(self, threads: int, *, queue_size: int, nice: int = 0) -> None:
        self.threads = threads
        self.capacity = threads + queue_size  # running + waiting transforms
        self.admitted = 0
        self._executor = ThreadPoolExecutor(
            threads, thread_name_prefix="imgedge-transform", initializer=lower_priority, initargs=(nice,)
        )

    def admit(self) -> None:
        """Admission: running + waiting transforms are bounded, so overload costs a 503, not memory."""
        if self.admitted >= self.capacity:
            raise Overloaded("too many transforms queued", headers={"Retry-After": "1"})

    async def run(self, work: Callable[[], T], deadline: Deadline | None = None) -> T:
        """Run `work` on a pool thread; counted in the queue depth while it waits or runs. At `deadline`
        this raises TransformTimeout at once: work still queued is dropped, and work already running is
        killed inside libvips (the deadline's kill flag on the images it watches) and left to unwind on
        its thread, which keeps its memory reservation until it does (imgedge.proxy.security.cost)."""
        self.admitted += 1
        QUEUE_DEPTH.inc()
        try:
            if deadline is None:
                return await self._submit(work)
            return await within(deadline, lambda: self._submit(work))
        finally:
            self.admitted -= 1
            QUEUE_DEPTH.dec()

    def _submit(self, work: Callable[[], T]) -> asyncio.Future[T]:
        # Cancelling the wrapper cancels the pool's future too, so queued work never starts.
        return asyncio.wrap_future(self._executor.submit(work))

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

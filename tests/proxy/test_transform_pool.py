"""The transform pool: its threads run at a lower CPU priority, and admission bounds what may wait."""

from __future__ import annotations

import asyncio
import os
import sys
import threading

import pytest

from imgedge.proxy.errors import Overloaded
from imgedge.proxy.transform_pool import TransformPool


def _nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are a Linux behaviour")
async def test_pool_threads_are_niced_and_others_are_not() -> None:
    pool = TransformPool(1, queue_size=1, nice=5)
    try:
        base = _nice()
        assert await pool.run(_nice) == min(19, base + 5)
        # A thread the pool thread starts (as libvips and its encoders do) inherits the lower priority.
        started: list[int] = []

        def spawn() -> None:
            child = threading.Thread(target=lambda: started.append(_nice()))
            child.start()
            child.join()

        await pool.run(spawn)
        assert started == [min(19, base + 5)]
        assert _nice() == base  # the event loop's thread keeps its priority
        assert await asyncio.to_thread(_nice) == base  # and so do the default worker threads
    finally:
        pool.close()


async def test_admission_refuses_beyond_threads_plus_queue() -> None:
    pool = TransformPool(1, queue_size=1)
    release = threading.Event()
    try:
        running = [asyncio.ensure_future(pool.run(release.wait)) for _ in range(2)]
        await asyncio.sleep(0.05)
        assert pool.admitted == 2
        with pytest.raises(Overloaded) as refused:
            pool.admit()
        assert refused.value.status == 503 and refused.value.headers["Retry-After"] == "1"
        release.set()
        await asyncio.gather(*running)
        assert pool.admitted == 0
        pool.admit()
    finally:
        release.set()
        pool.close()

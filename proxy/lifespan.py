"""Start-up and shutdown of one proxy process: libvips settings, purge fan-out, gauges, closing clients."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import anyio
import pyvips
from starlette.applications import Starlette

from imgedge.cache.broadcast import PurgeBroadcaster
from imgedge.cache.build import Flights
from imgedge.cache.tiered import TieredCache
from imgedge.proxy import metrics
from imgedge.proxy.autoquality import QualityBook
from imgedge.proxy.popularity import SharedPopularity
from imgedge.proxy.prompts import PromptResolver
from imgedge.proxy.security.cost import release_free_memory
from imgedge.proxy.sources import Source
from imgedge.proxy.transform_pool import TransformPool
from imgedge.web import heartbeat
from imgedge.web.metrics_listener import MetricsListener

log = logging.getLogger("imgedge.proxy")

GAUGE_REFRESH_S = 5
FREE_MEMORY_INTERVAL_S = 10
POPULARITY_PUBLISH_S = 5


@dataclass(frozen=True, slots=True)
class ProxyLifespan:
    allow_unsigned: bool
    results: TieredCache
    sources: TieredCache
    broadcaster: PurgeBroadcaster
    flights: Flights
    origin: Source
    pool: TransformPool
    popularity: SharedPopularity
    qualities: QualityBook | None = None
    metrics_listener: MetricsListener | None = None
    prompts: PromptResolver | None = None
    heartbeat_fd: int = 0
    libvips_threads: int = 1  # IMGEDGE_TRANSFORM_LIBVIPS_THREADS; 0 leaves libvips' own default

    @contextlib.asynccontextmanager
    async def __call__(self, _: Starlette) -> AsyncIterator[None]:
        pyvips.cache_set_max(0)  # every request has new input buffers; the op cache would only pin memory
        if self.libvips_threads:
            # The pool already runs transforms side by side; libvips splitting each one across threads of
            # its own only adds hand-offs once the cores are busy (profile.md, "The fourteenth round").
            pyvips.concurrency_set(self.libvips_threads)
        pyvips.block_untrusted_set(True)
        if self.allow_unsigned:
            log.warning(
                "unsigned URLs are allowed (IMGEDGE_ALLOW_UNSIGNED=1): anyone can request any transform"
            )
        await self.broadcaster.start()
        if self.metrics_listener is not None:
            await self.metrics_listener.start()
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(self.refresh_gauges)
                tasks.start_soon(self.publish_popularity)
                tasks.start_soon(self.free_memory)
                if self.heartbeat_fd:
                    tasks.start_soon(heartbeat.beat, self.heartbeat_fd)
                try:
                    yield
                finally:
                    tasks.cancel_scope.cancel()
        finally:
            if self.qualities is not None:
                await self.qualities.aclose()
            if self.prompts is not None:
                await self.prompts.aclose()
            if self.metrics_listener is not None:
                await self.metrics_listener.stop()
            await self.broadcaster.stop()
            await self.origin.aclose()
            await self.flights.aclose()
            await self.results.aclose()
            await self.sources.aclose()
            self.pool.close()
            self.popularity.withdraw()
            metrics.HOT.flush()  # the last interval's requests

    async def publish_popularity(self) -> None:
        while True:
            await anyio.sleep(POPULARITY_PUBLISH_S)
            rows = self.popularity.snapshot()
            if rows is not None:
                try:
                    await anyio.to_thread.run_sync(self.popularity.write, rows)
                except OSError as exc:
                    log.warning("could not publish variant counts: %s", exc)

    async def free_memory(self) -> None:
        # Free heap pages go back to the system every few seconds (imgproxy's IMGPROXY_FREE_MEMORY_INTERVAL):
        # between big transforms (which trim after themselves) the small allocations of many misses and of
        # q:auto's searches otherwise stay resident (benchmarks/results/profile.md, "q:auto's search memory").
        while True:
            await anyio.sleep(FREE_MEMORY_INTERVAL_S)
            await anyio.to_thread.run_sync(release_free_memory)

    async def refresh_gauges(self) -> None:
        # Each worker publishes its own cache sizes, whichever worker happens to answer the scrape.
        while True:
            metrics.record_cache_stats("results", self.results.stats())
            metrics.record_cache_stats("sources", self.sources.stats())
            await anyio.sleep(GAUGE_REFRESH_S)

"""q:auto in the proxy: qualities learned per asset, format and size class, kept with the asset's variants.

A transform with q:auto looks up what this asset has learned (one small cache entry per asset, in the result
cache, so every proxy sharing Redis shares it and a purge of the asset drops it). Nothing learned yet: the
transform encodes with the estimate and hands its un-encoded image here, and a search runs in the background
(one at a time, a bounded number waiting), so no request waits for it. See docs/quality.md.

The search runs on a thread of its own at the transform pool's lower CPU priority (IMGEDGE_TRANSFORM_NICE):
at the event loop's priority it would take the CPU from the transforms that answer requests, which is what
happened under the benchmark's mix (benchmarks/results/profile.md, "q:auto learning and the pool").
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import pyvips
from cachetools import LRUCache

from imgedge.cache.entry import Entry
from imgedge.cache.keys import asset_tag, facts_key
from imgedge.cache.tiered import TieredCache
from imgedge.formats import BY_NAME
from imgedge.imaging.autoquality import Learned, estimate, has_quality, search, size_class
from imgedge.imaging.encode import EncoderSettings
from imgedge.proxy import metrics
from imgedge.proxy.search_slot import SearchSlot
from imgedge.proxy.security.cost import release_free_memory
from imgedge.proxy.transform_pool import lower_priority

log = logging.getLogger("imgedge.proxy")
T = TypeVar("T")

_SEARCH_TIMEOUT_S = 60.0
_CACHE_CALL_TIMEOUT_S = 5.0  # a result-cache read or write (memory, disk, Redis with its own timeouts)


class SearchAbandoned(Exception):
    pass


def slot_name(fmt: str, klass: str, target: int) -> str:
    return f"{fmt}/{klass}/{target}"


@dataclass(frozen=True, slots=True)
class Choice:
    quality: int
    tuning: str = ""  # one of the format's q:auto tunings, or "" for none


@dataclass(frozen=True, slots=True)
class LearnRequest:
    slot: str
    format: str
    target: int
    image: pyvips.Image  # the un-encoded variant, in memory


@dataclass(frozen=True, slots=True)
class QualityPlan:
    """What a transform needs to choose a q:auto quality: the target and what the asset has learned."""

    target: int
    learned: Mapping[str, Choice]

    def choose(self, fmt: str, image: pyvips.Image) -> tuple[Choice, LearnRequest | None]:
        """The quality (and tuning) to encode with, and what to learn when it is only the estimate."""
        slot = slot_name(fmt, size_class(image.width, image.height), self.target)
        choice = self.learned.get(slot)
        if choice is not None:
            return choice, None
        metrics.QUALITY_ESTIMATED.labels(fmt).inc()
        return Choice(estimate(fmt, self.target)), LearnRequest(slot, fmt, self.target, image)


class QualityBook:
    def __init__(
        self,
        results: TieredCache,
        settings: EncoderSettings,
        *,
        learn: bool = True,
        # Each waiting search holds its un-encoded variant (3 MiB at 1024²). A search left out is asked
        # for again by the next miss that still has to use the estimate.
        max_waiting: int = 4,
        remembered_assets: int = 4096,
        nice: int = 0,
        slot: SearchSlot | None = None,
    ) -> None:
        self.results = results
        self.settings = settings
        self.learn = learn
        self.max_waiting = max_waiting
        self._name = f"quality-{settings.version}"
        self._local: LRUCache[str, dict[str, Choice]] = LRUCache(maxsize=remembered_assets)
        self._waiting: set[tuple[str, str]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        # One search thread per process, and one search at a time on the host (see search_slot.py).
        self._executor = ThreadPoolExecutor(
            1, thread_name_prefix="imgedge-quality", initializer=lower_priority, initargs=(nice,)
        )
        self._slot = slot or SearchSlot(None)

    async def plan(self, asset_id: str, target: int) -> QualityPlan:
        return QualityPlan(target, dict(await self.learned(asset_id)))

    async def learned(self, asset_id: str) -> Mapping[str, Choice]:
        local = self._local.get(asset_id)
        if local is not None:
            return local
        return await self._read_shared(asset_id)

    async def _read_shared(self, asset_id: str) -> dict[str, Choice]:
        """The table in the result cache (what every process has learned), merged into this process's."""
        entry, _ = await self.results.get(facts_key(asset_id, self._name))
        table = {**(_parse(entry.body) if entry is not None else {}), **self._local.get(asset_id, {})}
        self._local[asset_id] = table
        return table

    def learn_later(self, asset_id: str, request: LearnRequest) -> None:
        """Schedules a search unless the slot has been learned since the miss planned with the estimate (it
        was in flight meanwhile), one for it waits already, or too many do."""
        if not (self.learn and has_quality(request.format)):
            return
        if request.slot in self._local.get(asset_id, {}):
            return
        job = (asset_id, request.slot)
        if job in self._waiting or len(self._waiting) >= self.max_waiting:
            return
        self._waiting.add(job)
        task = asyncio.get_running_loop().create_task(self._learn(asset_id, request))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _learn(self, asset_id: str, request: LearnRequest) -> None:
        try:
            # Another process may have learned the slot since this one read the table: its lesson is in the
            # result cache, one lookup against a search's seconds of CPU.
            if request.slot in await self._read_shared(asset_id):
                return
            loop = asyncio.get_running_loop()
            learned = await asyncio.wrap_future(
                self._executor.submit(self._search_in_slot, asset_id, request, loop)
            )
            if learned is None:
                return
            metrics.QUALITY_LEARNED.labels(request.format).inc()
            tuning = f" {learned.tuning}" if learned.tuning else ""
            log.info(
                "q:auto learned %s for %s: quality %d%s (score %.1f, %d encodes)",
                request.slot, asset_id, learned.quality, tuning, learned.score, learned.encodes,
            )  # fmt: skip
        except (SearchAbandoned, pyvips.Error, TimeoutError) as exc:
            log.warning("q:auto search for %s %s gave up: %s", asset_id, request.slot, exc)
        finally:
            self._waiting.discard((asset_id, request.slot))

    def _search_in_slot(
        self, asset_id: str, request: LearnRequest, loop: asyncio.AbstractEventLoop
    ) -> Learned | None:
        """On the search thread: waits for the host's search slot, searches unless the slot was learned
        meanwhile (the search it waited for may have been another worker's for the same slot), and stores
        the lesson before it lets the host's slot go, so that the search waiting next finds it."""
        deadline = time.monotonic() + _SEARCH_TIMEOUT_S

        def check() -> None:
            if self._closed or time.monotonic() > deadline:
                raise SearchAbandoned()

        def on_loop(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
            check()  # a closed book's loop may be gone
            work = make()
            try:
                future = asyncio.run_coroutine_threadsafe(work, loop)
            except RuntimeError:  # the loop has closed meanwhile
                work.close()
                raise SearchAbandoned() from None
            try:
                # Bounded: the host's slot is held meanwhile, and a loop that has stopped never runs it.
                return future.result(_CACHE_CALL_TIMEOUT_S)
            except TimeoutError:
                future.cancel()
                raise

        with self._slot.held(check):
            if request.slot in on_loop(lambda: self._read_shared(asset_id)):
                return None
            try:
                learned = search(request.image, request.format, request.target, self.settings, check=check)
            finally:
                release_free_memory()  # the metric's planes, up to ~34 MiB at 1024 px
            choice = Choice(learned.quality, learned.tuning)
            on_loop(lambda: self._remember(asset_id, request.slot, choice))
            return learned

    async def _remember(self, asset_id: str, slot: str, choice: Choice) -> None:
        key = facts_key(asset_id, self._name)
        # What this process knows, the shared table read just before the search included; another proxy's
        # lesson stored since may be overwritten, which costs only a repeated search.
        table = {**self._local.get(asset_id, {}), slot: choice}
        body = json.dumps({name: [c.quality, c.tuning] for name, c in table.items()}, sort_keys=True).encode()
        tag = asset_tag(asset_id)
        fresh = Entry(
            body=body, media_type="application/json", etag='"q"', tags=(tag,), created_at=time.time()
        )
        await self.results.put(key, fresh, fresh.tags)
        self._local[asset_id] = table

    def stats(self) -> dict[str, int]:
        """Searches queued or running in this process (`GET /admin/stats`)."""
        return {"searches": len(self._waiting)}

    async def drain(self) -> None:
        """Waits for the searches in flight (tests and benchmarks; shutdown cancels instead)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        self._closed = True  # a search in progress stops at its next trial encode
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        self._executor.shutdown(wait=False, cancel_futures=True)


def _parse(body: bytes) -> dict[str, Choice]:
    """The stored table (slot → [quality, tuning]); anything malformed or unknown is left out, to be
    learned again."""
    try:
        raw = json.loads(body)
    except ValueError:
        return {}
    if not isinstance(raw, dict):
        return {}
    return {str(slot): choice for slot, value in raw.items() if (choice := _choice(str(slot), value))}


def _choice(slot: str, value: object) -> Choice | None:
    if not (isinstance(value, list) and len(value) == 2):
        return None
    quality, tuning = value
    row = BY_NAME.get(slot.split("/", 1)[0])
    if row is None or row.quality_option is None:
        return None
    if not (isinstance(quality, int) and 1 <= quality <= 100 and isinstance(tuning, str)):
        return None
    return Choice(quality, tuning) if tuning == "" or tuning in row.auto_quality_tunings else None

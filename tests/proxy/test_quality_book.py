"""q:auto's background search runs on a thread at the transform pool's lower CPU priority, not the event
loop's: at equal priority with the loop it took the CPU from the niced transforms answering requests."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import threading
import warnings
from pathlib import Path

import pytest
import pyvips

from imgedge.cache.memory import MemoryTier
from imgedge.cache.tiered import TieredCache
from imgedge.imaging.autoquality import Learned
from imgedge.imaging.encode import EncoderSettings
from imgedge.proxy import autoquality
from imgedge.proxy.autoquality import Choice, LearnRequest, QualityBook
from imgedge.proxy.search_slot import SearchSlot


def _nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are a Linux behaviour")
async def test_the_search_runs_niced_and_what_it_learns_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []

    def search(image: pyvips.Image, fmt: str, target: int, settings: EncoderSettings, **_: object) -> Learned:
        seen.append(_nice())
        return Learned(61, 70.4, 4, "drawing")

    monkeypatch.setattr(autoquality, "search", search)
    book = QualityBook(TieredCache([MemoryTier(1 << 20)]), EncoderSettings(), nice=5)
    try:
        image = pyvips.Image.black(64, 64, bands=3).copy_memory()
        book.learn_later("asset", LearnRequest("webp/s/70", "webp", 70, image))
        assert book.stats() == {"searches": 1}  # what /admin/stats reports
        await book.drain()
        assert book.stats() == {"searches": 0}
        assert seen == [min(19, _nice() + 5)]  # the event loop's thread kept its own priority
        assert (await book.learned("asset")) == {"webp/s/70": Choice(61, "drawing")}
    finally:
        await book.aclose()


def test_a_stored_table_keeps_only_known_formats_tunings_and_qualities() -> None:
    stored = {
        "webp/s/70": [61, "drawing"], "avif/m/70": [52, ""], "webp/m/70": [61, "text"], "jpeg/s/70": [0, ""],
        "gif/s/70": [50, ""], "webp/l/70": 61, "webp/xl/70": [61, 1],
    }  # fmt: skip
    assert autoquality._parse(json.dumps(stored).encode()) == {
        "webp/s/70": Choice(61, "drawing"), "avif/m/70": Choice(52),
    }  # fmt: skip
    assert autoquality._parse(b"[1]") == {} and autoquality._parse(b"{") == {}


async def test_a_slot_is_searched_once_though_misses_planned_before_the_lesson_ask_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    searched: list[str] = []

    def search(image: pyvips.Image, fmt: str, target: int, settings: EncoderSettings, **_: object) -> Learned:
        searched.append(fmt)
        return Learned(58, 70.6, 6)

    monkeypatch.setattr(autoquality, "search", search)
    shared = TieredCache([MemoryTier(1 << 20)])  # what the workers of a host share (the disk tier, Redis)
    first, second = QualityBook(shared, EncoderSettings()), QualityBook(shared, EncoderSettings())
    image = pyvips.Image.black(64, 64, bands=3).copy_memory()
    try:
        assert await first.learned("asset") == {} and await second.learned("asset") == {}  # both planned
        first.learn_later("asset", LearnRequest("avif/s/70", "avif", 70, image))
        await first.drain()
        # Misses of both processes that used the estimate while the search ran finish after it.
        first.learn_later("asset", LearnRequest("avif/s/70", "avif", 70, image))
        second.learn_later("asset", LearnRequest("avif/s/70", "avif", 70, image))
        await first.drain()
        await second.drain()
        assert searched == ["avif"]
        assert await second.learned("asset") == {"avif/s/70": Choice(58)}  # adopted, not searched again
        second.learn_later("asset", LearnRequest("webp/s/70", "webp", 70, image))
        await second.drain()
        assert searched == ["avif", "webp"]  # another slot of the asset is still learned
        assert await second.learned("asset") == {"avif/s/70": Choice(58), "webp/s/70": Choice(58)}
    finally:
        await first.aclose()
        await second.aclose()


async def test_a_worker_that_waited_for_the_hosts_search_slot_does_not_repeat_its_lesson(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    started, release = threading.Event(), threading.Event()
    searched: list[str] = []

    def search(image: pyvips.Image, fmt: str, target: int, settings: EncoderSettings, **_: object) -> Learned:
        searched.append(fmt)
        started.set()
        release.wait(10)
        return Learned(58, 70.6, 6)

    monkeypatch.setattr(autoquality, "search", search)
    shared = TieredCache([MemoryTier(1 << 20)])
    books = [QualityBook(shared, EncoderSettings(), slot=SearchSlot(tmp_path / "search.lock")) for _ in "ab"]
    image = pyvips.Image.black(64, 64, bands=3).copy_memory()
    try:
        books[0].learn_later("asset", LearnRequest("avif/s/70", "avif", 70, image))
        while not started.is_set():
            await asyncio.sleep(0.01)
        books[1].learn_later("asset", LearnRequest("avif/s/70", "avif", 70, image))  # nothing learned yet
        await asyncio.sleep(0.2)  # it waits for the slot
        release.set()
        await books[0].drain()
        await books[1].drain()
        assert searched == ["avif"]
        assert await books[1].learned("asset") == {"avif/s/70": Choice(58)}
    finally:
        release.set()
        for book in books:
            await book.aclose()


def test_a_search_that_outlives_its_event_loop_stops_without_leaving_a_coroutine_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started, release, done = threading.Event(), threading.Event(), threading.Event()

    def search(image: pyvips.Image, fmt: str, target: int, settings: EncoderSettings, **_: object) -> Learned:
        started.set()
        release.wait(10)
        return Learned(58, 70.6, 6)

    monkeypatch.setattr(autoquality, "search", search)
    loop = asyncio.new_event_loop()
    book = QualityBook(TieredCache([MemoryTier(1 << 20)]), EncoderSettings())

    async def start() -> None:
        book.learn_later("asset", LearnRequest("avif/s/70", "avif", 70, pyvips.Image.black(8, 8, bands=3)))
        while not started.is_set():
            await asyncio.sleep(0.01)

    loop.run_until_complete(start())
    # What a test's or a stopping worker's loop does, the book not closed first: cancel what runs, close.
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()
    book._executor.submit(done.set)  # runs once the search's thread is free again
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        release.set()
        assert done.wait(10)
        gc.collect()
    assert not [w for w in caught if "never awaited" in str(w.message)]

"""q:auto's background search runs on a thread at the transform pool's lower CPU priority, not the event
loop's: at equal priority with the loop it took the CPU from the niced transforms answering requests."""

from __future__ import annotations

import json
import os
import sys
import threading

import pytest
import pyvips

from imgedge.cache.memory import MemoryTier
from imgedge.cache.tiered import TieredCache
from imgedge.imaging.autoquality import Learned
from imgedge.imaging.encode import EncoderSettings
from imgedge.proxy import autoquality
from imgedge.proxy.autoquality import Choice, LearnRequest, QualityBook


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

"""The libvips limit: the same transform as imgedge in a tight in-process pyvips loop, one process per core.

`png` starts from the PNG original (decode → thumbnail to 400 px → encode), `pixels` from raw sRGB pixels
as imgedge's source cache keeps them (memcpy → thumbnail → encode). Same encoder settings as the proxy,
through libvips' own savers: imgedge hands common WebP variants to libwebp directly (same bytes, less CPU;
imgedge.imaging.webp_direct), and the loop stays what libvips alone does.
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pyvips

from benchmarks.load_types import LoadResult
from benchmarks.stats import percentile
from imgedge.imaging.encode import EncoderSettings, libvips_save

_sources: list[bytes] = []
_pixels: list[tuple[bytes, int, int, int]] = []


def load_corpus(paths: list[str]) -> None:
    # Identical inputs every iteration: libvips' operation cache would hand back the previous result.
    pyvips.cache_set_max(0)
    # As the proxy runs libvips (IMGEDGE_TRANSFORM_LIBVIPS_THREADS): one process per core already keeps every
    # core busy, and libvips' own threads per image cost more than they give then (~3% here).
    pyvips.concurrency_set(1)
    for path in paths:
        data = Path(path).read_bytes()
        _sources.append(data)
        image = pyvips.Image.new_from_buffer(data, "")
        _pixels.append((image.write_to_memory(), image.width, image.height, image.bands))


def transform_once(index: int, start: str, fmt: str, width: int) -> bytes:
    options = EncoderSettings().options(fmt, 0)
    if start == "png":
        image = pyvips.Image.thumbnail_buffer(_sources[index], width)
    else:
        pixels, w, h, bands = _pixels[index]
        image = pyvips.Image.new_from_memory(pixels, w, h, bands, "uchar").thumbnail_image(width)
    return libvips_save(image, fmt, "none", **options)


def _loop(start: str, fmt: str, width: int, duration_s: float, max_ops: int) -> list[float]:
    latencies: list[float] = []
    deadline = time.monotonic() + duration_s
    while time.monotonic() < deadline and len(latencies) < max_ops:
        began = time.perf_counter()
        transform_once(len(latencies) % len(_sources), start, fmt, width)
        latencies.append((time.perf_counter() - began) * 1000)
    return latencies


class LimitPool:
    """Long-lived worker processes, so alternating rounds do not pay start-up or corpus loading."""

    def __init__(self, originals: list[Path], processes: int) -> None:
        self.processes = processes
        context = multiprocessing.get_context("spawn")  # no fork after libvips has started threads
        self._pool = ProcessPoolExecutor(
            processes, mp_context=context, initializer=load_corpus, initargs=([str(p) for p in originals],)
        )
        for future in [self._pool.submit(_loop, "png", "webp", 400, 0.2, 2) for _ in range(processes)]:
            future.result()  # warm: imports, corpus loaded, encoders initialised

    def pids(self) -> list[int]:
        return list(self._pool._processes)  # the pool keeps no public list; needed only for RSS

    def run(self, start: str, fmt: str, *, duration_s: float, max_ops: int, width: int = 400) -> LoadResult:
        began = time.monotonic()
        per_process = max(1, max_ops // self.processes)
        futures = [
            self._pool.submit(_loop, start, fmt, width, duration_s, per_process)
            for _ in range(self.processes)
        ]
        latencies = [ms for future in futures for ms in future.result()]
        elapsed = time.monotonic() - began
        return LoadResult(
            client=f"pyvips x{self.processes}",
            requests=len(latencies),
            errors=0,
            duration_s=elapsed,
            p50_ms=percentile(latencies, 50),
            p95_ms=percentile(latencies, 95),
            p99_ms=percentile(latencies, 99),
        )

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

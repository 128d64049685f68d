"""What a transform will cost, decided before it starts: its output against IMGEDGE_MAX_RESULT_PIXELS (400),
and an estimate of its peak memory, which must fit in the process's budget (IMGEDGE_TRANSFORM_MEMORY) beside
the transforms already running before it may start. Transforms hold their slot and their bytes until their
worker thread really ends, even one whose request stopped waiting at its deadline, so concurrent large
requests cannot push a process past the budget.

The estimate is deliberately high; tests/proxy/test_cost.py measures real peaks against it.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import threading
from collections import deque
from collections.abc import Callable, Iterator

from imgedge.imaging.inspect import Header
from imgedge.proxy.pipeline.animation import keeps_animation
from imgedge.proxy.pipeline.deadline import Deadline, TransformTimeout
from imgedge.proxy.pipeline.decoded import DecodedImage, header_of
from imgedge.proxy.pipeline.geometry import Box, plan
from imgedge.proxy.pipeline.load import needs_full_decode
from imgedge.proxy.security.limits import check_result_pixels
from imgedge.url.spec import TransformSpec

MIB = 1 << 20
FIXED_BYTES = 16 * MIB  # libvips' per-thread buffers and the Python objects of one request
BANDS = 4  # sRGB + alpha, 8 bits each: the most any step keeps
# The encoder's own working memory per output pixel, measured at the default efforts (libheif/aom is the
# hungriest: a 5000x5000 AVIF peaked at 595 MiB here).
ENCODER_BYTES_PER_PIXEL = {"avif": 20, "webp": 8, "png": 4, "gif": 4, "jpeg": 2, "legacy": 4}
# After a transform this large, free heap pages go back to the system (as imgproxy's FREE_MEMORY_INTERVAL
# does): glibc otherwise keeps tens of MiB of an AVIF encode's small allocations resident.
TRIM_AFTER_BYTES = 64 * MIB


def _malloc_trim() -> Callable[[], None]:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to do
        return lambda: None
    trim.argtypes = [ctypes.c_size_t]
    return lambda: trim(0) and None


release_free_memory = _malloc_trim()


def output_box(header: Header, spec: TransformSpec) -> Box:
    width, height = header.width, header.height
    if spec.crop is not None:
        x, y, w, h = spec.crop
        width, height = max(1, min(w, width - x)), max(1, min(h, height - y))
    if spec.rotate in (90, 270):
        width, height = height, width
    geometry = plan(width, height, spec)
    return geometry.pad or geometry.crop or geometry.scaled


def estimate_bytes(header: Header, spec: TransformSpec, negotiated: str, *, animated: bool) -> int:
    out = output_box(header, spec)
    out_pixels = out.width * out.height * (header.pages if animated else 1)
    source_pixels = header.width * header.height * (header.pages if animated else 1)
    # Shrinking on load streams the source through line buffers; rotations, flips and crops decode it whole,
    # and keep a second full-size copy while they turn or cut it. So does a PNG in the canonical form:
    # imgedge.imaging.plain_png inflates all its rows, from its whole stream, before shrinking.
    whole = needs_full_decode(spec) or animated or header.loader.startswith("pngload")
    source = source_pixels * (2 * BANDS if whole else 1)
    encoder = ENCODER_BYTES_PER_PIXEL.get(negotiated, 8) * out_pixels
    return FIXED_BYTES + source + 2 * BANDS * out_pixels + encoder


def transform_cost(
    source: bytes | DecodedImage, spec: TransformSpec, negotiated: str, *, max_src_pixels: int,
    max_result_pixels: int, header: Header | None = None,
) -> int:  # fmt: skip
    """Checks the output's size (a 400 naming the limit) and returns the estimated peak bytes. `header`:
    the source's, when the caller has read it already."""
    header = header or header_of(source, max_pixels=max_src_pixels)
    out = output_box(header, spec)
    check_result_pixels(out.width, out.height, max_result_pixels)
    animated = isinstance(source, bytes) and keeps_animation(
        header, spec, negotiated, max_pixels=max_src_pixels
    )
    return estimate_bytes(header, spec, negotiated, animated=animated)


class TransformBudget:
    """Slots (one per transform thread) and bytes, handed out first come first served."""

    def __init__(self, slots: int, max_bytes: int) -> None:
        self.slots = slots
        self.max_bytes = max_bytes
        self.running = 0
        self.reserved = 0
        self._waiting: deque[object] = deque()
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def reserve(self, estimate: int, deadline: Deadline) -> Iterator[None]:
        # One transform larger than the whole budget runs alone rather than never.
        size = min(estimate, self.max_bytes)
        self._acquire(size, deadline)
        try:
            yield
        finally:
            with self._changed:
                self.running -= 1
                self.reserved -= size
                self._changed.notify_all()
            if size >= TRIM_AFTER_BYTES:
                release_free_memory()

    def _acquire(self, size: int, deadline: Deadline) -> None:
        ticket = object()
        with self._changed:
            self._waiting.append(ticket)
            try:
                while not (self._waiting[0] is ticket and self._fits(size)):
                    remaining = deadline.remaining()
                    if remaining <= 0 or deadline.killed:
                        raise TransformTimeout()
                    self._changed.wait(min(remaining, 0.5))
            finally:
                self._waiting.remove(ticket)
                self._changed.notify_all()
            self.running += 1
            self.reserved += size

    def _fits(self, size: int) -> bool:
        return self.running < self.slots and self.reserved + size <= self.max_bytes

    def stats(self) -> dict[str, int]:
        with self._changed:
            return {"running": self.running, "reserved_bytes": self.reserved, "waiting": len(self._waiting)}

"""The deadline reaches into libvips: a transform killed mid-operation stops, and raises TransformTimeout."""

from __future__ import annotations

import asyncio
import threading
import time

import anyio
import pytest
import pyvips

from imgedge.imaging.encode import EncoderSettings
from imgedge.proxy.pipeline.deadline import Deadline, TransformTimeout
from imgedge.proxy.pipeline.run import transform
from imgedge.proxy.transform_pool import TransformPool
from imgedge.url import ParseSettings, parse_options


@pytest.fixture(scope="module")
def big_png() -> bytes:
    # Large enough that its blur (~0.5 s here, before an encode of ~0.25 s) is still running when the
    # tests kill it: at 3000² the whole transform took 0.38 s, and a kill at 0.3 s could land after the
    # WebP saver's last look at the kill flag.
    xy = pyvips.Image.xyz(4000, 4000)
    image = (xy[0] % 256).cast("uchar").bandjoin([(xy[1] % 256).cast("uchar"), (xy[0] * 0).cast("uchar")])
    return bytes(image.copy(interpretation="srgb").write_to_buffer(".png", compression=1))


def heavy(png: bytes, deadline: Deadline) -> None:
    spec = parse_options(["w:4000", "h:4000", "fit:force", "bl:100", "f:webp"], ParseSettings())
    transform(png, spec, "webp", max_pixels=10**8, settings=EncoderSettings(), deadline=deadline)


def test_a_kill_stops_libvips_work_in_progress(big_png: bytes) -> None:
    deadline = Deadline.after(60)
    threading.Timer(0.1, deadline.kill).start()
    started = time.monotonic()
    with pytest.raises(TransformTimeout):
        heavy(big_png, deadline)
    assert time.monotonic() - started < 5


def test_an_expired_deadline_refuses_before_the_next_step(big_png: bytes) -> None:
    with pytest.raises(TransformTimeout) as refused:
        heavy(big_png, Deadline(time.monotonic() - 1))
    assert refused.value.status == 503 and refused.value.headers["Retry-After"]


async def test_the_request_answers_at_the_deadline_and_the_thread_is_killed(big_png: bytes) -> None:
    deadline = Deadline.after(0.3)
    finished = threading.Event()

    def work() -> None:
        try:
            heavy(big_png, deadline)
        finally:
            finished.set()

    pool = TransformPool(1, queue_size=1, nice=10)  # as the proxy runs it: its own niced thread
    try:
        started = time.monotonic()
        with pytest.raises(TransformTimeout):
            await pool.run(work, deadline)
        assert time.monotonic() - started < 1.0
        assert deadline.killed
        await anyio.to_thread.run_sync(finished.wait, 10)
        assert finished.is_set()
        assert pool.admitted == 0
    finally:
        pool.close()


async def test_work_still_queued_at_the_deadline_never_starts() -> None:
    pool = TransformPool(1, queue_size=1)
    release = threading.Event()
    started = threading.Event()
    busy = asyncio.ensure_future(pool.run(lambda: release.wait(10)))  # holds the only thread
    try:
        await anyio.sleep(0.05)
        queued = Deadline.after(0.3)
        with pytest.raises(TransformTimeout):
            await pool.run(started.set, queued)
        assert queued.killed and pool.admitted == 1
        release.set()  # the thread is free: work still queued would start now
        await busy
        await anyio.sleep(0.3)
        assert not started.is_set()
    finally:
        release.set()
        pool.close()

"""A transform's deadline, enforced inside libvips as well as between steps.

Every image a transform computes is watched; at the deadline each one is killed (libvips' kill flag, which its
loaders, sinks and the WebP and PNG savers check), so the worker thread stops mid-operation, raises, and frees
what it held. The request itself answers 503 at the deadline whatever the thread is doing: the one encoder
libvips cannot stop (AVIF, inside libheif) finishes on its own while its memory reservation stays taken.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
import pyvips

from imgedge.proxy.errors import ProxyError

T = TypeVar("T")
RETRY_AFTER_S = 5


class TransformTimeout(ProxyError):
    status = 503
    default_message = "transform took too long"

    def __init__(self, message: str | None = None, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message, headers={"Retry-After": str(RETRY_AFTER_S), **(headers or {})})


class Deadline:
    def __init__(self, at: float) -> None:
        self.at = at  # time.monotonic()
        self.killed = False
        self._watched: list[pyvips.Image] = []
        self._lock = threading.Lock()

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def check(self) -> None:
        if self.killed or time.monotonic() > self.at:
            raise TransformTimeout()

    def watch(self, image: pyvips.Image) -> pyvips.Image:
        """Returns `image`, which the deadline may now interrupt while it is computed."""
        image.set_progress(True)  # libvips only looks at the kill flag of images that report progress
        with self._lock:
            if self.killed:
                image.set_kill(True)
            self._watched.append(image)
        return image

    def kill(self) -> None:
        with self._lock:
            self.killed = True
            for image in self._watched:
                image.set_kill(True)

    def release(self) -> None:
        """The transform is over: drop the references, so its images are freed now."""
        with self._lock:
            self._watched.clear()


async def within(deadline: Deadline, start: Callable[[], Awaitable[T]]) -> T:
    """Awaits `start()`, which runs work on a worker thread that stops waiting when cancelled; at the
    deadline the thread's libvips work is killed and this raises TransformTimeout without waiting for it."""
    try:
        with anyio.fail_after(max(0.0, deadline.remaining())):
            return await start()
    except TimeoutError:
        deadline.kill()
        raise TransformTimeout() from None

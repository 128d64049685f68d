"""One q:auto search at a time on this host, whichever worker runs it.

A search holds SSIMULACRA2's reference planes for its trial encodes (~25 MiB at 1280 px, ~52 MiB at its
peak; 75 and 163 before the metric worked in strips), memory that no cache budget counts. Each worker runs
its own searches, so without a slot shared by the host that memory would multiply with the workers, as the
per-host memory budgets are meant not to (benchmarks/results/profile.md, "The sixth round"). The slot is an
exclusive `flock` on a file in the data directory: the kernel releases it when its holder exits, however it
exits.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

_POLL_S = 0.05


class SearchSlot:
    def __init__(self, path: Path | None) -> None:
        """`path` None: no slot to share (one process, or tests), every search runs at once."""
        self.path = path
        self._fd: int | None = None

    @contextlib.contextmanager
    def held(self, check: Callable[[], None]) -> Iterator[None]:
        """Waits for the slot on this (worker) thread, calling `check` between tries so a search being
        abandoned stops waiting too."""
        if self.path is None:
            yield
            return
        fd = self._open(self.path)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                check()
                time.sleep(_POLL_S)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _open(self, path: Path) -> int:
        # Opened once and kept for the process's life: its exit closes it, releasing a lock still held.
        if self._fd is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        return self._fd

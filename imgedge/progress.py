"""A one-line progress display on stderr for long commands, drawn only when stderr is a terminal.

Standard library only: the CLI and the benchmarks use it. When stderr is a file or a pipe (CI, logs) it
writes nothing, so output meant for machines stays clean.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, label: str, total: int | None = None, *, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty()
        self.started = time.monotonic()
        self._width = 0

    def update(self, done: int | None = None, note: str = "") -> None:
        if not self.enabled:
            return
        count = "" if done is None else f" {done}/{self.total}" if self.total else f" {done}"
        elapsed = time.monotonic() - self.started
        line = f"{self.label}{count} {elapsed:5.1f} s {note}".rstrip()
        # Pad over the previous line's tail, then return to the start of the line for the next redraw.
        self.stream.write("\r" + line.ljust(self._width))
        self.stream.flush()
        self._width = len(line)

    def close(self) -> None:
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

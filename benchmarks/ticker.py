"""The phase a benchmark run is in and how long it has taken so far, redrawn on stderr once a second when
stderr is a terminal (a long load phase otherwise looks like a hang); silent otherwise."""

from __future__ import annotations

import threading
import time
from typing import TextIO

from imgedge.progress import Progress


class PhaseTicker:
    def __init__(self, stream: TextIO | None = None) -> None:
        self._progress = Progress("", stream=stream)
        self._phase = ""
        self._phase_started = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="benchmark-ticker", daemon=True)

    def log(self, message: str) -> None:
        """Prints a log line (stdout) and makes it the phase shown on stderr."""
        with self._lock:
            self._progress.close()
            print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)
            self._phase = message
            self._phase_started = time.monotonic()

    def __enter__(self) -> PhaseTicker:
        if self._progress.enabled:
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        self._progress.close()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            with self._lock:
                elapsed = time.monotonic() - self._phase_started
                self._progress.label = f"{self._phase} · {elapsed:.0f} s in this phase; total"
                self._progress.update()

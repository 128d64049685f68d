"""Resident memory of process trees, read from /proc (Linux only; no psutil needed).

A background thread samples every process of every watched tree; peaks and a timeline per tree come out.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

_PAGE_KIB = 4


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def tree(pid: int) -> list[int]:
    pids, pending = [], [pid]
    while pending:
        current = pending.pop()
        pids.append(current)
        pending += _children(current)
    return pids


def rss_bytes(pid: int) -> int:
    try:
        resident = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return resident * _PAGE_KIB * 1024


def pss_bytes(pid: int) -> int:
    """Proportional set size: the process's own pages, and each shared page divided among the processes that
    map it. Summed over workers, a library's pages count once, where RSS counts them in every worker."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0


def command_name(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    words = [part.decode(errors="replace") for part in raw if part]
    script = next((w for w in words if "spawn_main" in w or "resource_tracker" in w), None)
    if script is not None:  # `python -c "from multiprocessing…"`: say what it is, not the code
        return "multiprocessing worker" if "spawn_main" in script else "multiprocessing resource tracker"
    if len(words) > 1 and "/" in words[1] and not words[1].startswith("-"):
        # An interpreter running a script (thumbor's `python …/bin/thumbor --fd 15 --log-level error`): the
        # script's name, and its arguments that are not options or their values.
        named = [os.path.basename(words[1])]
        named += [
            w
            for before, w in itertools.pairwise(words[1:])
            if not w.startswith("-") and not before.startswith("-")
        ]
        return " ".join(named[:3])
    interesting = [w for w in words if not w.startswith("-") and "/" not in w]
    return " ".join(interesting[:3]) or (words[0] if words else "?")


@dataclass(slots=True)
class TreeMemory:
    peak_total: int = 0
    peak_per_process: dict[str, int] = field(default_factory=dict)  # "pid command" → bytes
    timeline: list[tuple[float, int]] = field(default_factory=list)  # (seconds since start, total bytes)


class RssSampler:
    def __init__(self, interval_s: float = 0.5) -> None:
        self.interval_s = interval_s
        self.groups: dict[str, Callable[[], list[int]]] = {}  # name → the pids it counts, found afresh
        self.memory: dict[str, TreeMemory] = {}
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def watch(self, name: str, pid: int) -> None:
        self.watch_group(name, lambda: tree(pid))

    def watch_group(self, name: str, pids: Callable[[], list[int]]) -> None:
        """Processes with no root of their own to count (workers whose supervisor is counted elsewhere)."""
        self.groups[name] = pids
        self.memory.setdefault(name, TreeMemory())

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def current(self, name: str) -> dict[str, int]:
        return {f"{pid} {command_name(pid)}": rss_bytes(pid) for pid in self.groups[name]()}

    def sample(self) -> dict[str, int]:
        now = time.monotonic() - self._started
        totals: dict[str, int] = {}
        for name, pids in list(self.groups.items()):
            memory = self.memory[name]
            total = 0
            for pid in pids():
                size = rss_bytes(pid)
                total += size
                label = f"{pid} {command_name(pid)}"
                memory.peak_per_process[label] = max(memory.peak_per_process.get(label, 0), size)
            memory.peak_total = max(memory.peak_total, total)
            memory.timeline.append((round(now, 2), total))
            totals[name] = total
        return totals

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

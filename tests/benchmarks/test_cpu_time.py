"""Server CPU per request: read from /proc for whole process trees, recorded by each compared round."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from benchmarks.alternate import compare
from benchmarks.cpu_time import process_cpu_s, trees_cpu_s
from benchmarks.load_types import LoadResult
from benchmarks.rss import tree

_BURN = "import time\nt = time.process_time()\nwhile time.process_time() - t < {s}: pass\ntime.sleep(30)\n"


def _burn(seconds: float) -> None:
    started = time.process_time()
    while time.process_time() - started < seconds:
        pass


def test_a_tree_counts_the_cpu_of_its_grandchildren() -> None:
    # The root only waits; its child burns 0.5 s of CPU and stays alive to be read.
    spawner = f"import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', {_BURN.format(s=0.5)!r}])\ntime.sleep(30)\n"  # noqa: E501
    root = subprocess.Popen([sys.executable, "-c", spawner])
    try:
        deadline = time.monotonic() + 20
        while trees_cpu_s([root.pid]) - process_cpu_s(root.pid) < 0.45 and time.monotonic() < deadline:
            time.sleep(0.1)
        burnt = trees_cpu_s([root.pid]) - process_cpu_s(root.pid)
        assert 0.45 <= burnt < 2.0
        assert process_cpu_s(root.pid) < 0.45  # the root itself did not burn it
    finally:
        for pid in reversed(tree(root.pid)):
            os.kill(pid, 9)
        root.wait()


def test_a_gone_process_reads_as_no_time() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert process_cpu_s(gone.pid) == 0.0


def test_compare_records_each_rounds_server_cpu_per_request() -> None:
    def busy(_: int) -> LoadResult:
        _burn(0.3)
        return LoadResult("test", requests=100, errors=0, duration_s=1.0, p50_ms=1, p95_ms=1, p99_ms=1)

    def idle(_: int) -> LoadResult:
        return LoadResult("test", requests=100, errors=0, duration_s=1.0, p50_ms=1, p95_ms=1, p99_ms=1)

    own = os.getpid()
    result = compare(
        "t", {"busy": busy, "idle": idle, "unread": idle}, 2, [], log=lambda _: None,
        cpu={"busy": lambda: process_cpu_s(own), "idle": lambda: process_cpu_s(own)},
    )  # fmt: skip
    busy_ms = result.summary("busy")["cpu_ms"]
    assert 2.5 <= busy_ms < 6.0  # 0.3 s over 100 requests
    assert result.summary("idle").get("cpu_ms", 0.0) < 1.0
    assert "cpu_ms" not in result.summary("unread")
    assert all(r.server_cpu_s == 0.0 for r in result.rounds["unread"])

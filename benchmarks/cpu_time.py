"""CPU time of process trees, read from /proc (Linux only): what a contender's servers spent on a round.

A throughput ratio on a shared 2-core machine moves with whatever else runs; CPU per request moves far less,
so each round records both (profile.md measured by hand what this now reports per run).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from benchmarks.rss import tree

_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    """User plus system time of one process (all its threads); 0 once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    # The command name (field 2) may hold spaces and parentheses: count fields from its closing one.
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) * _TICK_S  # utime and stime, fields 14 and 15


def trees_cpu_s(roots: Iterable[int]) -> float:
    """Every process under `roots`, as they are now: a process that exits between two readings takes its
    time with it, which the servers measured here (long-lived workers) do not do."""
    return sum(process_cpu_s(pid) for root in roots for pid in tree(root))

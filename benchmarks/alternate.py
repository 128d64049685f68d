"""Run contenders in alternating rounds, rotating the order each round, and take ratios per round.

On a shared, noisy machine a neighbour's burst hits whichever contender is running; rotating the order and
taking the median of per-round ratios keeps such bursts from deciding a comparison.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from benchmarks.load_types import LoadResult
from benchmarks.stats import median

Contender = Callable[[int], LoadResult]  # round index → one bounded load run
CpuReader = Callable[[], float]  # CPU seconds a contender's processes have used so far


@dataclass(slots=True)
class Comparison:
    name: str
    rounds: dict[str, list[LoadResult]] = field(default_factory=dict)
    ratios: dict[str, list[float]] = field(default_factory=dict)  # "a/b" → req/s ratio per round

    def summary(self, contender: str) -> dict[str, float]:
        runs = self.rounds[contender]
        summary = {
            "rps": median([r.rps for r in runs]),
            "p50_ms": median([r.p50_ms for r in runs]),
            "p95_ms": median([r.p95_ms for r in runs]),
            "p99_ms": median([r.p99_ms for r in runs]),
            "requests": float(sum(r.requests for r in runs)),
            "errors": float(sum(r.errors for r in runs)),
            "hits": float(sum(r.hits for r in runs)),
            "misses": float(sum(r.misses for r in runs)),
        }
        cpu = [ms for ms in (r.cpu_ms_per_request for r in runs) if ms is not None]
        if cpu:
            summary["cpu_ms"] = median(cpu)  # the contender's server CPU per request
        return summary

    def ratio(self, pair: str) -> float:
        return median(self.ratios.get(pair, []))


def compare(
    name: str,
    contenders: dict[str, Contender],
    rounds: int,
    pairs: list[tuple[str, str]],
    log: Callable[[str], None] = print,
    cpu: Mapping[str, CpuReader] | None = None,
) -> Comparison:
    """`cpu`: where a contender's server CPU can be read, each round records it beside the rate."""
    comparison = Comparison(name, {contender: [] for contender in contenders})
    names = list(contenders)
    readers = cpu or {}
    for index in range(rounds):
        shift = index % len(names)
        for contender in names[shift:] + names[:shift]:
            reader = readers.get(contender)
            before = reader() if reader is not None else 0.0
            result = contenders[contender](index)
            if reader is not None:
                result.server_cpu_s = reader() - before
            comparison.rounds[contender].append(result)
            per_request = result.cpu_ms_per_request
            log(
                f"  {name} round {index + 1}/{rounds} {contender}: {result.rps:.1f} req/s, "
                f"p99 {result.p99_ms:.1f} ms, errors {result.errors}"
                + (f", server CPU {per_request:.3f} ms/request" if per_request is not None else "")
            )
        for a, b in pairs:
            rps_b = comparison.rounds[b][-1].rps
            ratio = comparison.rounds[a][-1].rps / rps_b if rps_b else 0.0
            comparison.ratios.setdefault(f"{a}/{b}", []).append(ratio)
    return comparison

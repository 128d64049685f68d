"""Workload 5: the mix for a while; RSS at the end of the first fifth (minute one of five) against the end."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from benchmarks.load_types import LoadResult
from benchmarks.rss import RssSampler, pss_bytes


@dataclass(slots=True)
class SoakResult:
    duration_s: float
    load: LoadResult
    rss_at_first_fifth: int
    rss_final: int
    rss_peak: int
    # The same processes' PSS at the end: shared library pages counted once, not once per worker.
    pss_final: int = 0
    final_per_process: dict[str, int] = field(default_factory=dict)
    timeline: list[tuple[float, int]] = field(default_factory=list)  # seconds into the soak, bytes

    @property
    def growth(self) -> float:
        return self.rss_final / self.rss_at_first_fifth - 1 if self.rss_at_first_fifth else 0.0


def run(load: Callable[[], LoadResult], sampler: RssSampler, tree_name: str) -> SoakResult:
    start = sampler.elapsed()
    result = load()
    sampler.sample()
    end = sampler.elapsed()
    points = [
        (round(t - start, 2), rss) for t, rss in sampler.memory[tree_name].timeline if start <= t <= end
    ]
    if not points:
        points = [(end - start, sampler.sample()[tree_name])]
    fifth = (end - start) / 5
    at_fifth = min(points, key=lambda point: abs(point[0] - fifth))[1]
    return SoakResult(
        duration_s=end - start,
        load=result,
        rss_at_first_fifth=at_fifth,
        rss_final=points[-1][1],
        rss_peak=max(rss for _, rss in points),
        pss_final=sum(pss_bytes(pid) for pid in sampler.groups[tree_name]()),
        final_per_process=sampler.current(tree_name),
        timeline=points[:: max(1, len(points) // 120)],
    )

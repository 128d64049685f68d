"""How long and how hard each workload runs: tiny (the smoke test), quick (~5 min on 2 cores), full."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Mode:
    name: str
    rounds: int  # alternating rounds per comparison; ratios are taken per round, then the median
    round_s: float  # seconds each contender is loaded per round
    uncached_connections: int
    hit_connections: int
    extra_formats: tuple[str, ...]  # uncached formats beyond WebP (fewer rounds, no target)
    mix_s: float
    soak_s: float
    origin_variants: int
    corpus_square: int  # 1024x1024 originals (the uncached workload and the size target)
    corpus_large: bool  # add 1536 and 2048 px originals for the mix
    generated: int  # images from the built-in model (slow on CPU)
    # A hard cap per load run, on top of the time bound, above what any run can reach: wrk divides by the
    # whole run even when the cap stopped it early. 200,000 capped the bare endpoint at 40,000/s in 5 s
    # rounds, and ended the 60 s soak after ~12 s of hits (the proxy then idled, trimming its heap).
    max_requests: int
    cold_per_round: int = 0  # never-seen assets per contender and round of the cold workload
    saturated_rounds: int = 0  # rounds of hits measured while misses saturate the pool
    prewarm_assets: int = 0  # new assets per instance in the warm-up workload (0: not run)
    second_client: bool = False  # measure the hit ratio with the httpx client too


TINY = Mode("tiny", 1, 1.0, 2, 4, (), 0.0, 0.0, 0, 1, False, 0, 200)
QUICK = Mode(
    "quick", 3, 5.0, 8, 64, ("jpeg", "avif"), 20.0, 60.0, 16, 6, True, 0, 10_000_000,
    cold_per_round=60, saturated_rounds=3, prewarm_assets=6, second_client=True,
)  # fmt: skip
FULL = Mode(
    "full", 5, 10.0, 8, 64, ("jpeg", "avif"), 60.0, 300.0, 32, 8, True, 2, 50_000_000,
    cold_per_round=150, saturated_rounds=5, prewarm_assets=12, second_client=True,
)  # fmt: skip

MODES = {mode.name: mode for mode in (TINY, QUICK, FULL)}

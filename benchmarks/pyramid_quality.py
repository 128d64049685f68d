"""`python -m benchmarks.pyramid_quality`: do variants resized from a pyramid level look worse than variants
resized from the full-size original? SSIMULACRA2 and resize CPU time per level ratio, written to
benchmarks/results/pyramid.{md,json}.

The pyramid is built the way the proxy builds it (lanczos3 halvings, each from the level above, while both
sides are even and the shorter stays at least 64 px); a variant of width w is resized (libvips thumbnail)
from the smallest level at least `ratio` times its size, ratio 0 meaning the full-size original (what the
proxy did before). The
reference is a single lanczos3 resize of the full-size original without libvips' box pre-shrink (`gap=0`),
the best resize libvips makes; each candidate is scored against it, unencoded (the resize alone) and as the
WebP the proxy would send (default quality and effort).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyvips

from benchmarks import corpus, quality
from benchmarks.stats import median, percentile
from imgedge.imaging.encode import EncoderSettings

HERE = Path(__file__).resolve().parent
RATIOS = (0.0, 1.0, 1.25, 1.5, 2.0)
WIDTHS = (96, 128, 160, 200, 256, 320, 400, 480, 640, 960)
MIN_LEVEL_SIDE = 64  # as the proxy's pipeline/decoded.py
# A ratio "does not make variants worse" when the median encoded score drops by at most this much, and the
# 95th percentile by at most P95_DROP (SSIMULACRA2 points): encoding noise alone moves a 128 px variant's
# score by a point or two either way, so the single worst variant says more about the metric than the ratio.
MEDIAN_DROP = 0.25
P95_DROP = 1.0


@dataclass(frozen=True, slots=True)
class Row:
    photo: str
    source: str  # WxH of the original
    width: int
    ratio: float
    level: str  # WxH the resize started from
    resize_score: float
    webp_score: float
    webp_bytes: int
    resize_cpu_ms: float


def pyramid(image: pyvips.Image) -> list[pyvips.Image]:
    levels = [image.copy_memory()]
    while True:
        top = levels[-1]
        if top.width % 2 or top.height % 2 or min(top.width, top.height) // 2 < MIN_LEVEL_SIDE:
            return levels
        levels.append(top.reduce(2, 2, kernel="lanczos3").copy_memory())


def pick(levels: list[pyvips.Image], width: int, height: int, ratio: float) -> pyvips.Image:
    chosen = levels[0]
    if ratio <= 0:
        return chosen
    for level in levels[1:]:
        if level.width < width * ratio or level.height < height * ratio:
            break
        chosen = level
    return chosen


def _resize(level: pyvips.Image, width: int, height: int) -> tuple[pyvips.Image, float]:
    best = math.inf
    out = level
    for _ in range(3):
        started = time.process_time()
        out = level.thumbnail_image(width, height=height, size="force").copy_memory()
        best = min(best, (time.process_time() - started) * 1000)
    return out, best


def measure(photos: list[corpus.Original], log: Any) -> list[Row]:
    options = EncoderSettings().options("webp", 0)
    rows = []
    for original in photos:
        full = pyvips.Image.new_from_file(str(original.path))
        levels = pyramid(full)
        for width in (w for w in WIDTHS if w < full.width):
            height = max(1, round(full.height * width / full.width))
            reference = full.resize(width / full.width, vscale=height / full.height, kernel="lanczos3", gap=0)
            reference = reference.copy_memory()
            scored: dict[tuple[int, int], Row] = {}
            for ratio in RATIOS:
                level = pick(levels, width, height, ratio)
                found = scored.get((level.width, level.height))
                if found is None:
                    resized, cpu_ms = _resize(level, width, height)
                    webp = resized.write_to_buffer(".webp", keep="none", **options)
                    found = Row(
                        original.name, f"{full.width}x{full.height}", width, ratio,
                        f"{level.width}x{level.height}", quality.score(reference, resized),
                        quality.score(reference, webp), len(webp), cpu_ms,
                    )  # fmt: skip
                    scored[(level.width, level.height)] = found
                rows.append(Row(**{**asdict(found), "ratio": ratio}))
        log(f"  {original.name} {full.width}x{full.height}: done")
    return rows


def verdicts(rows: list[Row]) -> dict[float, dict[str, float | bool]]:
    base = {(r.photo, r.source, r.width): r for r in rows if r.ratio == 0}
    out: dict[float, dict[str, float | bool]] = {}
    for ratio in RATIOS:
        mine = [r for r in rows if r.ratio == ratio]
        drops = [base[(r.photo, r.source, r.width)].webp_score - r.webp_score for r in mine]
        moved = [r for r in mine if r.level != base[(r.photo, r.source, r.width)].level]
        moved_drops = [base[(r.photo, r.source, r.width)].webp_score - r.webp_score for r in moved]
        speedups = [
            base[(r.photo, r.source, r.width)].resize_cpu_ms / max(r.resize_cpu_ms, 1e-3) for r in moved
        ]
        out[ratio] = {
            "from_reduction": len(moved) / max(1, len(mine)),
            "median_drop": median(drops),
            "median_drop_reduced": median(moved_drops),
            "worst_drop": max(drops),
            "p95_drop": percentile(drops, 95),
            "median_resize_speedup": median(speedups) if speedups else 1.0,
            "no_worse": median(drops) <= MEDIAN_DROP and percentile(drops, 95) <= P95_DROP,
        }
    return out


def render(rows: list[Row]) -> str:
    judged = verdicts(rows)
    lines = [
        "# Resolution pyramid: variant quality and resize time per level ratio",
        "",
        "Ratio r: a variant is resized from the smallest pyramid level at least r times its size (0: always "
        "the full-size original). Scores are SSIMULACRA2 against a single lanczos3 resize of the full-size "
        "original; drop = score with r=0 minus score with r (positive: worse). CPU ms is the resize alone "
        f"(best of 3). A ratio passes when the median WebP drop is ≤ {MEDIAN_DROP} and the 95th "
        f"percentile ≤ {P95_DROP} (the single worst variant is a 96-128 px one at every ratio, where "
        "SSIMULACRA2 scores of a WebP q80 are in single digits or the 30s and move by points either way); "
        "the proxy's default (`IMGEDGE_PYRAMID_LEVEL_RATIO`) is the smallest ratio that passes. "
        "Produced by `python -m benchmarks.pyramid_quality`.",
        "",
        "| ratio | variants from a reduction | median WebP drop | … of those from a reduction "
        "| 95th percentile drop | worst drop | resize speed-up (from a reduction) | verdict |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for ratio, v in judged.items():
        lines.append(
            f"| {ratio:g} | {v['from_reduction']:.0%} | {v['median_drop']:+.2f} "
            f"| {v['median_drop_reduced']:+.2f} | {v['p95_drop']:+.2f} | {v['worst_drop']:+.2f} "
            f"| {v['median_resize_speedup']:.2f}x | {'no worse' if v['no_worse'] else '**worse**'} |"
        )
    lines += [
        "",
        "| photo | source | width | ratio | level | resize score | WebP score | WebP bytes | resize CPU ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r.photo} | {r.source} | {r.width} | {r.ratio:g} | {r.level} | {r.resize_score:.2f} "
            f"| {r.webp_score:.2f} | {r.webp_bytes} | {r.resize_cpu_ms:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pyramid_quality", description=__doc__)
    parser.add_argument("--photos", type=int, default=8, help="1024² photos (1-8), plus the three large ones")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--scratch", type=Path, default=HERE / "scratch")
    parser.add_argument("--render-only", action="store_true", help="rewrite pyramid.md from pyramid.json")
    args = parser.parse_args(argv)
    if args.render_only:
        rows = [Row(**r) for r in json.loads((args.out / "pyramid.json").read_text())]
    else:
        pyvips.cache_set_max(0)
        photos = corpus.build(args.scratch / "corpus", squares=args.photos, large=True)
        photos += corpus.build_landscapes(args.scratch / "corpus", count=4)
        rows = measure(photos, lambda message: print(message, flush=True))
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "pyramid.json").write_text(json.dumps([asdict(r) for r in rows], indent=0) + "\n")
    (args.out / "pyramid.md").write_text(render(rows))
    print(f"wrote {args.out / 'pyramid.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m benchmarks.encoder_sweep`: bytes, SSIMULACRA2 and encode CPU time across WebP and AVIF effort
and quality on the benchmark photos, written to benchmarks/results/encoders.{md,json}.

Each photo is resized to the variant width the way the proxy does it (sRGB, libvips thumbnail from raw
pixels); that resize is the reference, each encoding is scored against it. Encode time is the process CPU
time of one `write_to_buffer` (all threads), the least noisy figure on a shared machine; wall time is kept
too. "Bytes at equal quality" interpolates each effort's quality sweep to the SSIMULACRA2 that today's default
(effort and quality from imgedge.formats) reaches on the same photo, so efforts are compared at the same
visual quality rather than at the same `Q`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyvips

from benchmarks import corpus, quality
from benchmarks.stats import median
from imgedge.formats import BY_NAME

HERE = Path(__file__).resolve().parent
QUALITIES = {"webp": (70, 75, 80, 85, 90), "avif": (40, 47, 55, 62, 70)}
EFFORTS = {"webp": tuple(range(7)), "avif": tuple(range(7))}
# AVIF efforts 7-9 take 3-11 s per 400 px image. "Bytes at equal quality" is relative to libvips' defaults.
LIBVIPS_DEFAULT_EFFORT = {"webp": 4, "avif": 4}
# The default is found by walking the Pareto front from its slowest setting towards its fastest, taking each
# faster step that saves at least this many percent of encode CPU per percent of bytes it adds at equal
# quality. A byte saved is paid back on every delivery, a CPU millisecond once per variant and on the first
# viewer's wait; 3 is where this sweep's fronts bend (see encoders.md for what other exchange rates pick).
CPU_PER_BYTE = 3.0


@dataclass(frozen=True, slots=True)
class Point:
    fmt: str
    effort: int
    q: int
    photo: str
    bytes: int
    score: float
    cpu_ms: float
    wall_ms: float


@dataclass(frozen=True, slots=True)
class Summary:
    fmt: str
    effort: int
    bytes_at_default_q: float
    score_at_default_q: float
    cpu_ms: float
    wall_ms: float
    bytes_at_equal_quality: float  # relative to libvips' default effort at the table's default quality
    pareto: bool


def _encode_timed(
    image: pyvips.Image, fmt: str, effort: int, q: int, repeats: int
) -> tuple[bytes, float, float]:
    best_cpu = best_wall = math.inf
    data = b""
    options: dict[str, Any] = {**BY_NAME[fmt].saver_options, "Q": q, "effort": effort}
    for _ in range(repeats):
        cpu, wall = time.process_time(), time.perf_counter()
        data = image.write_to_buffer(BY_NAME[fmt].suffix, keep="none", **options)
        best_cpu = min(best_cpu, (time.process_time() - cpu) * 1000)
        best_wall = min(best_wall, (time.perf_counter() - wall) * 1000)
    return data, best_cpu, best_wall


def sweep(photos: list[corpus.Original], width: int, log: Any) -> list[Point]:
    points = []
    for original in photos:
        reference = pyvips.Image.new_from_file(str(original.path)).thumbnail_image(width).copy_memory()
        for fmt in ("webp", "avif"):
            for effort in EFFORTS[fmt]:
                for q in QUALITIES[fmt]:
                    repeats = 3 if (fmt == "webp" or effort <= 2) else 1
                    data, cpu_ms, wall_ms = _encode_timed(reference, fmt, effort, q, repeats)
                    points.append(
                        Point(fmt, effort, q, original.name, len(data), quality.score(reference, data),
                              cpu_ms, wall_ms)
                    )  # fmt: skip
        log(f"  {original.name}: done")
    return points


def _bytes_at_score(points: list[Point], target: float) -> float | None:
    """Log-linear interpolation of bytes over score along one photo's quality sweep."""
    ordered = sorted(points, key=lambda p: p.score)
    for low, high in itertools.pairwise(ordered):
        if low.score <= target <= high.score:
            if high.score == low.score:
                return float(low.bytes)
            t = (target - low.score) / (high.score - low.score)
            return math.exp(math.log(low.bytes) + t * (math.log(high.bytes) - math.log(low.bytes)))
    return None


def summarise(points: list[Point], fmt: str) -> list[Summary]:
    row = BY_NAME[fmt]
    mine = [p for p in points if p.fmt == fmt]
    yardstick = LIBVIPS_DEFAULT_EFFORT[fmt]
    photos = sorted({p.photo for p in mine})
    targets = {
        photo: next(
            p.score for p in mine if p.photo == photo and p.effort == yardstick and p.q == row.default_quality
        )
        for photo in photos
    }
    baseline = {
        photo: next(
            p.bytes for p in mine if p.photo == photo and p.effort == yardstick and p.q == row.default_quality
        )
        for photo in photos
    }
    rows = []
    for effort in EFFORTS[fmt]:
        at_q = [p for p in mine if p.effort == effort and p.q == row.default_quality]
        ratios = []
        for photo in photos:
            found = _bytes_at_score(
                [p for p in mine if p.effort == effort and p.photo == photo], targets[photo]
            )
            if found is not None:
                ratios.append(found / baseline[photo])
        rows.append(
            Summary(
                fmt, effort, median([p.bytes for p in at_q]), median([p.score for p in at_q]),
                median([p.cpu_ms for p in at_q]), median([p.wall_ms for p in at_q]),
                median(ratios) if ratios else math.nan, False,
            )
        )  # fmt: skip
    return _mark_pareto(rows)


def _mark_pareto(rows: list[Summary]) -> list[Summary]:
    marked = []
    for r in rows:
        dominated = any(
            o.cpu_ms <= r.cpu_ms
            and o.bytes_at_equal_quality <= r.bytes_at_equal_quality
            and (o.cpu_ms < r.cpu_ms or o.bytes_at_equal_quality < r.bytes_at_equal_quality)
            for o in rows
            if o is not r and not math.isnan(o.bytes_at_equal_quality)
        )
        marked.append(
            Summary(**{**asdict(r), "pareto": not dominated and not math.isnan(r.bytes_at_equal_quality)})
        )
    return marked


def suggest(rows: list[Summary], cpu_per_byte: float = CPU_PER_BYTE) -> Summary:
    front = sorted((r for r in rows if r.pareto), key=lambda r: -r.cpu_ms)
    chosen = front[0]
    for faster in front[1:]:
        cpu_saved = 1 - faster.cpu_ms / chosen.cpu_ms
        bytes_added = faster.bytes_at_equal_quality / chosen.bytes_at_equal_quality - 1
        if bytes_added > 0 and cpu_saved / bytes_added < cpu_per_byte:
            break
        chosen = faster
    return chosen


_TABLE_HEAD = (
    "| effort | median bytes at default Q | SSIMULACRA2 at default Q | CPU ms | wall ms "
    "| bytes at equal quality | Pareto |"
)


def _libvips_version() -> str:
    return ".".join(str(pyvips.version(i)) for i in range(3))


def avif_against_webp(points: list[Point]) -> list[str]:
    """Each AVIF effort at its default Q against WebP at its default effort, at the same score."""
    webp_effort = BY_NAME["webp"].default_effort
    q = BY_NAME["avif"].default_quality
    lines = []
    for effort in EFFORTS["avif"]:
        ratios = []
        for a in (p for p in points if p.fmt == "avif" and p.effort == effort and p.q == q):
            sweep = [p for p in points if p.fmt == "webp" and p.effort == webp_effort and p.photo == a.photo]
            webp_bytes = _bytes_at_score(sweep, a.score)
            if webp_bytes is not None:
                ratios.append(a.bytes / webp_bytes)
        if ratios:
            lines.append(f"| {effort} | {median(ratios):.3f} | {len(ratios)} |")
    return [
        f"## AVIF against WebP (effort {webp_effort}) at equal SSIMULACRA2",
        "",
        f"AVIF at Q {q}, WebP's quality sweep interpolated to the same score on the same photo (photos whose "
        "AVIF score lies outside WebP's Q 70-90 sweep are left out).",
        "",
        "| AVIF effort | AVIF bytes / WebP bytes (median) | photos |",
        "| --- | --- | --- |",
        *lines,
        "",
    ]


def render(points: list[Point], width: int, photos: int) -> str:
    lines = [
        "# WebP and AVIF effort: bytes, SSIMULACRA2 and encode time",
        "",
        f"{photos} benchmark photos (1024² crops) resized to {width} px as the proxy resizes them; "
        f"libvips {_libvips_version()}. CPU ms is the process CPU time of one encode "
        "(best of 3 for the faster settings); bytes at equal quality is each effort's quality sweep "
        "interpolated to the SSIMULACRA2 that libvips' default effort 4 reaches at the default Q, "
        "relative to its bytes "
        "(median over photos). Pareto: no other effort is both cheaper and smaller at equal quality. "
        "Produced by `python -m benchmarks.encoder_sweep`.",
        "",
    ]
    for fmt in ("webp", "avif"):
        row = BY_NAME[fmt]
        rows = summarise(points, fmt)
        pick = suggest(rows)
        lines += [
            f"## {fmt.upper()} (default Q {row.default_quality}, default effort {row.default_effort})",
            "",
            _TABLE_HEAD,
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in rows:
            mark = " **(default)**" if r.effort == row.default_effort else ""
            mark += " (libvips' default)" if r.effort == LIBVIPS_DEFAULT_EFFORT[fmt] else ""
            lines.append(
                f"| {r.effort}{mark} | {r.bytes_at_default_q:.0f} | {r.score_at_default_q:.1f} "
                f"| {r.cpu_ms:.1f} | {r.wall_ms:.1f} | {r.bytes_at_equal_quality:.3f} "
                f"| {'yes' if r.pareto else ''} |"
            )
        others = ", ".join(f"{rate:g} → effort {suggest(rows, rate).effort}" for rate in (1, 2, 5, 10))
        lines += [
            "",
            "Rule: walk the Pareto front from the slowest effort, taking each faster step that saves at "
            f"least {CPU_PER_BYTE:g}% of CPU per 1% of bytes added at equal quality "
            f"→ **effort {pick.effort}** "
            f"({pick.cpu_ms:.1f} CPU ms, {pick.bytes_at_equal_quality:.3f} x the bytes of effort "
            f"{LIBVIPS_DEFAULT_EFFORT[fmt]}). Other exchange rates: {others}.",
            "",
        ]
    return "\n".join(lines + avif_against_webp(points))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.encoder_sweep", description=__doc__)
    parser.add_argument("--photos", type=int, default=8, help="how many benchmark photos (1-8)")
    parser.add_argument("--width", type=int, default=400)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--scratch", type=Path, default=HERE / "scratch")
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="rewrite encoders.md from encoders.json (after a default moved)",
    )
    args = parser.parse_args(argv)
    if args.render_only:
        points = [Point(**p) for p in json.loads((args.out / "encoders.json").read_text())]
        photos = len({p.photo for p in points})
    else:
        pyvips.cache_set_max(0)
        originals = corpus.build(args.scratch / "corpus", squares=args.photos, large=False)
        points = sweep(originals, args.width, lambda message: print(message, flush=True))
        photos = len(originals)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "encoders.json").write_text(json.dumps([asdict(p) for p in points], indent=0) + "\n")
    (args.out / "encoders.md").write_text(render(points, args.width, photos))
    print(f"wrote {args.out / 'encoders.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""q:auto against fixed q80 and thumbor 7.8: bytes, SSIMULACRA2 and the extra miss time, at 400 px.

On the nine scikit-image photos at their native resolution. imgedge's variants are made in-process with
imgedge.imaging, exactly as the proxy's pipeline encodes (thumbnail → sRGB → encode with the format table's
options); thumbor's come from a thumbor 7.8 server on the same PNGs. Every variant is scored against the same
un-encoded 400 px resize. Run alone: `python -m benchmarks.autoquality` (also part of `make bench`).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyvips
import skimage.data

from imgedge.imaging import autoquality
from imgedge.imaging.encode import EncoderSettings, encode

WIDTH = 400
TARGET = 70
FIXED = 80
ROUNDS = 15


def _motorcycle() -> np.ndarray:
    left: np.ndarray = skimage.data.stereo_motorcycle()[0]
    return left


PHOTOS: dict[str, Callable[[], np.ndarray]] = {
    "astronaut": skimage.data.astronaut, "coffee": skimage.data.coffee, "chelsea": skimage.data.chelsea,
    "motorcycle": _motorcycle, "retina": skimage.data.retina, "rocket": skimage.data.rocket,
    "hubble": skimage.data.hubble_deep_field, "ihc": skimage.data.immunohistochemistry,
    "camera": skimage.data.camera,
}  # fmt: skip


def write_photos(directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, load in PHOTOS.items():
        path = directory / f"{name}.png"
        if not path.exists():
            array = load()
            if array.ndim == 2:
                array = np.stack([array] * 3, axis=-1)
            rgb = np.ascontiguousarray(array[..., :3], dtype=np.uint8)
            image = pyvips.Image.new_from_memory(rgb.tobytes(), rgb.shape[1], rgb.shape[0], 3, "uchar")
            image.copy(interpretation="srgb").write_to_file(str(path))
        paths[name] = path
    return paths


def _resize(path: Path) -> pyvips.Image:
    return pyvips.Image.thumbnail(str(path), WIDTH).colourspace("srgb").copy_memory()


def _side_by_side(makers: dict[str, Callable[[], bytes]]) -> tuple[dict[str, float], dict[str, float]]:
    """Each maker once per round, in an order that rotates between rounds, so the machine's noise hits them
    alike: the median milliseconds of each, and the median per-round ratio of each to the first one."""
    names = list(makers)
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(ROUNDS):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            started = time.perf_counter()
            makers[name]()
            times[name].append((time.perf_counter() - started) * 1000)
    base = names[0]
    medians = {name: statistics.median(t) for name, t in times.items()}
    ratios = {
        name: statistics.median(a / b for a, b in zip(t, times[base], strict=True))
        for name, t in times.items()
    }
    return medians, ratios


def measure_photo(path: Path, settings: EncoderSettings, thumbor: bytes | None) -> dict[str, Any]:
    image = _resize(path)
    row: dict[str, Any] = {}
    if thumbor is not None:
        row["thumbor_webp_q80"] = {"bytes": len(thumbor), "score": autoquality.score(image, thumbor)}
    for fmt in ("webp", "avif"):
        search_started = time.perf_counter()
        learned = autoquality.search(image, fmt, TARGET, settings)
        search_ms = (time.perf_counter() - search_started) * 1000
        first_q = autoquality.estimate(fmt, TARGET)

        def encoder(quality: int, auto: bool, tuning: str = "", fmt: str = fmt) -> Callable[[], bytes]:
            return lambda: encode(
                image, fmt, quality=quality, strip=True, settings=settings, auto=auto, tuning=tuning
            )

        makers = {
            "fixed": encoder(FIXED, False),
            "first": encoder(first_q, True),
            "later": encoder(learned.quality, True, learned.tuning),
        }
        ms, ratio = _side_by_side(makers)
        fixed, first, later = (make() for make in makers.values())
        row[f"imgedge_{fmt}_q80"] = {
            "bytes": len(fixed),
            "score": autoquality.score(image, fixed),
            "ms": ms["fixed"],
        }
        row[f"auto_{fmt}_first"] = {
            "bytes": len(first), "score": autoquality.score(image, first), "ms": ms["first"],
            "quality": first_q, "vs_fixed": ratio["first"],
        }  # fmt: skip
        row[f"auto_{fmt}"] = {
            "bytes": len(later), "score": autoquality.score(image, later), "ms": ms["later"],
            "quality": learned.quality, "tuning": learned.tuning, "search_ms": search_ms,
            "encodes": learned.encodes,
            "vs_fixed": ratio["later"],
        }  # fmt: skip
    return row


def thumbor_variants(paths: dict[str, Path], scratch: Path, port: int) -> dict[str, bytes] | None:
    from benchmarks.thumbor_server import ThumborServer, path

    venv = Path(__file__).resolve().parent / ".venv-thumbor"
    try:
        server = ThumborServer.start(
            venv, root=next(iter(paths.values())).parent, port=port, processes_count=1,
            log=scratch / "thumbor.log", quality=FIXED,
        )  # fmt: skip
    except Exception as exc:  # a benchmark without thumbor still reports imgedge's own columns
        print(f"thumbor did not start ({exc}); its column is left out")
        return None
    try:
        with httpx.Client(timeout=60) as client:
            return {
                name: client.get(server.base_url + path(p.name, width=WIDTH)).content
                for name, p in paths.items()
            }
    finally:
        server.stop()


def measure(scratch: Path, *, thumbor_port: int | None) -> dict[str, Any]:
    paths = write_photos(scratch / "autoquality")
    thumbor = thumbor_variants(paths, scratch, thumbor_port) if thumbor_port else None
    settings = EncoderSettings()
    rows = {
        name: measure_photo(path, settings, thumbor.get(name) if thumbor else None)
        for name, path in paths.items()
    }
    return {
        "width": WIDTH,
        "target": TARGET,
        "fixed": FIXED,
        "rounds": ROUNDS,
        "rows": rows,
        "summary": summarise(rows),
    }


def summarise(rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    def med(column: str, field: str) -> float:
        return statistics.median(r[column][field] for r in rows.values() if column in r)

    summary: dict[str, Any] = {}
    for fmt in ("webp", "avif"):
        auto = f"auto_{fmt}"
        summary[fmt] = {
            "min_score": min(r[auto]["score"] for r in rows.values()),
            "min_first_score": min(r[f"{auto}_first"]["score"] for r in rows.values()),
            "median_bytes": med(auto, "bytes"),
            "first_miss_ratio": statistics.median(r[f"{auto}_first"]["vs_fixed"] for r in rows.values()),
            "later_miss_ratio": statistics.median(r[auto]["vs_fixed"] for r in rows.values()),
            "median_search_ms": med(auto, "search_ms"),
        }
        if all("thumbor_webp_q80" in r for r in rows.values()):
            summary[fmt]["bytes_vs_thumbor"] = statistics.median(
                r[auto]["bytes"] / r["thumbor_webp_q80"]["bytes"] for r in rows.values()
            )
    return summary


def main(argv: list[str] | None = None) -> int:
    from benchmarks import report_markdown
    from benchmarks.ports import free_port

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scratch", type=Path, default=Path(__file__).resolve().parent / "scratch")
    parser.add_argument("--no-thumbor", action="store_true")
    parser.add_argument("--write", type=Path, help="splice the section into this latest.md")
    args = parser.parse_args(argv)
    results = measure(args.scratch, thumbor_port=None if args.no_thumbor else free_port())
    section = report_markdown.autoquality_section(results)
    print("\n".join(section))
    if args.write is not None:
        report_markdown.splice_section(args.write, section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

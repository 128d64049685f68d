"""The corpus: scikit-image photos scaled and cropped to PNG originals, ingested with `imgedge ingest`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyvips
import skimage.data


@dataclass(frozen=True, slots=True)
class Original:
    name: str
    path: Path  # the PNG we wrote; thumbor reads the canonical copy in thumbor_root instead
    width: int
    height: int
    asset_id: str = ""


def _motorcycle() -> np.ndarray:
    left: np.ndarray = skimage.data.stereo_motorcycle()[0]
    return left


_PHOTOS: dict[str, Callable[[], np.ndarray]] = {
    "astronaut": skimage.data.astronaut,
    "coffee": skimage.data.coffee,
    "chelsea": skimage.data.chelsea,
    "motorcycle": _motorcycle,
    "retina": skimage.data.retina,
    "rocket": skimage.data.rocket,
    "hubble": skimage.data.hubble_deep_field,
    "ihc": skimage.data.immunohistochemistry,
}
_LARGE = (("retina", 2048, 2048), ("motorcycle", 2048, 1365), ("coffee", 1536, 1024))


def _cover(pixels: np.ndarray, width: int, height: int) -> pyvips.Image:
    rgb = np.ascontiguousarray(pixels[..., :3], dtype=np.uint8)
    image = pyvips.Image.new_from_memory(rgb.tobytes(), rgb.shape[1], rgb.shape[0], 3, "uchar")
    image = image.copy(interpretation="srgb")
    scale = max(width / image.width, height / image.height)
    image = image.resize(scale, kernel="lanczos3")
    left, top = (image.width - width) // 2, (image.height - height) // 2
    return image.extract_area(left, top, width, height)


def build(directory: Path, *, squares: int, large: bool) -> list[Original]:
    """1024x1024 crops of the first `squares` photos, plus (optionally) larger originals for the mix."""
    directory.mkdir(parents=True, exist_ok=True)
    wanted = [(name, 1024, 1024) for name in list(_PHOTOS)[:squares]]
    if large:
        wanted += list(_LARGE)
    originals = []
    for name, width, height in wanted:
        path = directory / f"{name}-{width}x{height}.png"
        if not path.exists():
            _cover(_PHOTOS[name](), width, height).write_to_file(str(path), compression=6)
        originals.append(Original(name, path, width, height))
    return originals


def build_landscapes(directory: Path, *, count: int) -> list[Original]:
    """3:2 originals of photos other than the large set's, for measurements that need more shapes."""
    directory.mkdir(parents=True, exist_ok=True)
    names = [name for name in _PHOTOS if name not in {n for n, _, _ in _LARGE}][:count]
    originals = []
    for name in names:
        path = directory / f"{name}-1536x1024.png"
        if not path.exists():
            _cover(_PHOTOS[name](), 1536, 1024).write_to_file(str(path), compression=6)
        originals.append(Original(name, path, 1536, 1024))
    return originals


def ingest(originals: list[Original], *, env: dict[str, str]) -> list[Original]:
    command = [sys.executable, "-m", "imgedge.cli", "ingest", *[str(o.path) for o in originals]]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    ids = done.stdout.split()
    if done.returncode != 0 or len(ids) != len(originals):
        raise RuntimeError(f"imgedge ingest failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return [
        Original(o.name, o.path, o.width, o.height, asset_id)
        for o, asset_id in zip(originals, ids, strict=True)
    ]


def generate(count: int, *, env: dict[str, str], width: int, height: int) -> list[Original]:
    """Images from the built-in model; slow on CPU, so only a couple, and skipped quietly if it fails."""
    made = []
    for seed in range(count):
        command = [sys.executable, "-m", "imgedge.cli", "generate", "a lighthouse on a cliff at dusk"]
        command += ["--seed", str(seed + 1)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
        if done.returncode == 0 and done.stdout.split():
            made.append(Original(f"generated-{seed + 1}", Path(), width, height, done.stdout.split()[-1]))
    return made
